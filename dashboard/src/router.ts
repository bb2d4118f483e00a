/**
 * Hash routes (#/models, #/studies/<id>, …): the worker serves one static page, and the hash never
 * reaches it, so no route needs a server-side fallback.
 */
export interface View {
  el: HTMLElement;
  /** Stops polling and frees charts when the user navigates away. */
  dispose(): void;
}

export type Route =
  | { page: 'models'; name?: string }
  | { page: 'studies' }
  | { page: 'study'; id: string }
  | { page: 'sessions' }
  | { page: 'session'; id: string }
  | { page: 'champion'; name?: string }
  | { page: 'keys' }
  | { page: 'review'; name?: string }
  | { page: 'datasets'; name?: string };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [page, arg] = parts;
  if (page === 'studies' && arg) return { page: 'study', id: arg };
  if (page === 'studies') return { page: 'studies' };
  if (page === 'sessions' && arg) return { page: 'session', id: arg };
  if (page === 'sessions') return { page: 'sessions' };
  if (page === 'keys') return { page: 'keys' };
  if (page === 'review') return arg ? { page: 'review', name: arg } : { page: 'review' };
  if (page === 'datasets') return arg ? { page: 'datasets', name: arg } : { page: 'datasets' };
  if (page === 'champion') return arg ? { page: 'champion', name: arg } : { page: 'champion' };
  return arg && page === 'models' ? { page: 'models', name: arg } : { page: 'models' };
}
