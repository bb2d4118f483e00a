/**
 * Who may do what: a principal (the root token or an API key) holds scopes and optionally a list of the
 * models it is limited to. `admin` implies every other scope.
 */

export const SCOPES = ['predict', 'read', 'review', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export const ACCESS_MODES = ['open', 'keys'] as const;
/** open: reads and predictions are public, as before keys existed. keys: every route but liveness needs a key. */
export type AccessMode = (typeof ACCESS_MODES)[number];

export interface Principal {
  /** The API key's id, or "root" for the ADMIN_TOKEN secret. */
  keyId: string;
  scopes: Scope[];
  /** The models this key may read and predict with; null: every model. */
  models: string[] | null;
}

export const ROOT_KEY_ID = 'root';
export const ROOT: Principal = { keyId: ROOT_KEY_ID, scopes: ['admin'], models: null };

export function hasScope(p: Principal, scope: Scope): boolean {
  return p.scopes.includes('admin') || p.scopes.includes(scope);
}

export function allowsModel(p: Principal, model: string): boolean {
  return p.models === null || p.models.includes(model);
}

/**
 * Unset means the local default (open). Anything else that is not a known mode fails closed to `keys`:
 * a typo in a deployment's config must not publish its data.
 */
export function parseAccessMode(value: string | undefined): AccessMode {
  if (value === undefined || value.trim() === '') return 'open';
  const v = value.trim().toLowerCase();
  return v === 'open' ? 'open' : 'keys';
}
