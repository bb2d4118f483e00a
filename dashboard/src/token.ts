/**
 * The API key (any scope; the ADMIN_TOKEN root key works too), sent with every call. Kept in
 * sessionStorage: it survives reloads of this tab but is gone when the tab closes, and it is only ever sent to this origin's API.
 */
import { h } from './dom';

const KEY = 'edge-tuner.admin-token';

export function adminToken(): string {
  try {
    return sessionStorage.getItem(KEY) ?? '';
  } catch {
    return '';
  }
}

function setToken(value: string): void {
  try {
    if (value) sessionStorage.setItem(KEY, value);
    else sessionStorage.removeItem(KEY);
  } catch {
    // Storage disabled (private mode): the token then lasts until the page reloads, via the input.
  }
}

/** The key field; `onChange` runs once typing pauses (the caller asks what the new key may do). */
export function tokenInput(onChange: () => void): HTMLElement {
  const input = h('input', {
    id: 'admin-token',
    type: 'password',
    autocomplete: 'off',
    placeholder: 'API key',
    'aria-label': 'API key (any scope; writes need an admin key)',
    value: adminToken(),
  });
  let pending: ReturnType<typeof setTimeout> | undefined;
  input.addEventListener('input', () => {
    setToken(input.value.trim());
    // Once typing pauses: each change the caller reacts to costs a key check on the worker.
    clearTimeout(pending);
    pending = setTimeout(onChange, 250);
  });
  // A form around the password field: browsers expect one (and Enter must not reload the page).
  return h(
    'form',
    { class: 'token', onsubmit: (ev: Event) => ev.preventDefault() },
    h('label', {}, h('span', { class: 'token-label' }, 'Key '), input),
  );
}

/** The token, or an explanation of where to enter it. */
export function requireToken(): { token: string } | { missing: string } {
  const token = adminToken();
  return token ? { token } : { missing: 'Enter an admin API key (top right) first: writes need it.' };
}
