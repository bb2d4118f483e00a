/**
 * What the entered key may do, from GET /v1/keys/self, reflected on <body> as data-can-<scope>
 * attributes. Elements that need a scope carry data-needs="<scope>" and style.css hides them while the
 * body lacks the matching attribute, so every view (also ones rendered later) follows the key without
 * asking. The worker enforces the same scopes; this only spares the user buttons that would answer 403.
 */
import { api, ApiError } from './api';

const SCOPES = ['predict', 'read', 'review', 'admin'] as const;
type Scope = (typeof SCOPES)[number];

let asked = 0;

function show(scopes: readonly Scope[], note: string): void {
  for (const s of SCOPES) document.body.toggleAttribute(`data-can-${s}`, scopes.includes(s));
  document.body.dataset.keyState = note;
}

/** Asks the worker what the current key may do; the latest answer wins. */
export async function refreshAbilities(): Promise<void> {
  const mine = ++asked;
  try {
    const self = await api.self();
    if (mine === asked) show(self.scopes, self.keyId ? `key ${self.keyId}` : 'no key');
  } catch (err) {
    if (mine !== asked) return;
    // 401: the key is wrong or revoked (or keys mode without one); 429: too many failures. Show nothing
    // that needs a key. A worker without /v1/keys/self (older) or unreachable: show everything and let
    // the worker refuse, as before.
    if (err instanceof ApiError && (err.status === 401 || err.status === 429)) show([], err.message);
    else show(SCOPES, 'unknown');
  }
}
