/**
 * API keys (admin): create one with scopes, models and a rate limit (its token is shown once, here),
 * list them without secrets, revoke one (immediate for every later request).
 */
import { api, ApiError, type KeyRequest, type KeySummary } from '../api';
import { fill, h, notice, when } from '../dom';
import type { View } from '../router';
import { requireToken } from '../token';

const SCOPES = ['predict', 'read', 'review', 'admin'] as const;

function limitText(k: KeySummary): string {
  return k.rateLimit ? `${k.rateLimit.requests} per ${k.rateLimit.perSeconds} s` : 'unlimited';
}

function createForm(onCreated: () => void): HTMLElement {
  const status = h('div', { 'aria-live': 'polite', id: 'key-created' });
  const field = (label: string, input: HTMLElement) => h('label', { class: 'field' }, h('span', {}, label), input);
  const scopeBoxes = SCOPES.map((s) =>
    h(
      'label',
      { class: 'check' },
      h('input', { type: 'checkbox', name: 'scope', value: s, checked: s === 'predict' }),
      ` ${s}`,
    ),
  );
  const form = h(
    'form',
    { class: 'start-form', id: 'create-key' },
    h(
      'div',
      { class: 'fields' },
      field('name', h('input', { name: 'name', required: true, maxlength: 100, placeholder: 'checkout-service' })),
      field('models (comma-separated; empty: all)', h('input', { name: 'models', placeholder: 'digits, iris' })),
      field('requests', h('input', { type: 'number', name: 'requests', value: '600', min: 1, step: 1 })),
      field('per seconds', h('input', { type: 'number', name: 'perSeconds', value: '60', min: 1, step: 1 })),
    ),
    h(
      'fieldset',
      { class: 'scopes' },
      h('legend', {}, 'scopes (admin implies all)'),
      scopeBoxes,
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'unlimited' }), ' no rate limit'),
    ),
    h('button', { type: 'submit' }, 'Create key'),
    status,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const auth = requireToken();
    if ('missing' in auth) return fill(status, notice('error', auth.missing));
    const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value.trim();
    const checked = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).checked;
    const scopes = [...form.querySelectorAll<HTMLInputElement>('input[name=scope]:checked')].map((i) => i.value);
    const models = value('models')
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean);
    const body: KeyRequest = {
      name: value('name'),
      scopes,
      models: models.length ? models : null,
      rateLimit: checked('unlimited')
        ? null
        : { requests: Number(value('requests')), perSeconds: Number(value('perSeconds')) },
    };
    const button = form.querySelector('button')!;
    button.disabled = true;
    try {
      const created = await api.createKey(body, auth.token);
      const secret = h('code', { class: 'secret', id: 'new-key-token' }, created.token);
      fill(
        status,
        h(
          'div',
          { class: 'notice success', role: 'status' },
          h(
            'p',
            {},
            h('strong', {}, `Key ${created.key.id} created. `),
            'Copy the token now: it is shown only this once.',
          ),
          secret,
          h(
            'button',
            {
              type: 'button',
              class: 'secondary small',
              onclick: () => void navigator.clipboard?.writeText(created.token).catch(() => {}),
            },
            'Copy',
          ),
        ),
      );
      onCreated();
    } catch (err) {
      fill(status, notice('error', err instanceof ApiError ? err.message : String(err)));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

function table(keys: KeySummary[], onRevoke: (k: KeySummary, b: HTMLButtonElement) => void): HTMLElement {
  if (keys.length === 0) return h('p', { class: 'muted' }, 'No key yet.');
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { class: 'table', id: 'keys' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['id', 'name', 'scopes', 'models', 'limit', 'created', 'status', ''].map((t) => h('th', {}, t)),
        ),
      ),
      h(
        'tbody',
        {},
        keys.map((k) => {
          const button = h('button', { type: 'button', class: 'secondary small', 'data-revoke': k.id }, 'Revoke');
          button.addEventListener('click', () => onRevoke(k, button));
          return h(
            'tr',
            { 'data-key': k.id, class: k.revokedAt ? 'revoked' : '' },
            h('td', {}, h('code', {}, k.id)),
            h('td', {}, k.name),
            h('td', {}, k.scopes.join(', ')),
            h('td', {}, k.models ? k.models.join(', ') : 'all'),
            h('td', {}, limitText(k)),
            h('td', {}, when(k.createdAt), h('span', { class: 'muted small' }, ` by ${k.createdBy}`)),
            h('td', { class: 'key-status' }, k.revokedAt ? `revoked ${when(k.revokedAt)}` : 'active'),
            h('td', {}, k.revokedAt ? '' : button),
          );
        }),
      ),
    ),
  );
}

export function keysView(): View {
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading keys…'));
  const status = h('p', { class: 'status-line', 'aria-live': 'polite' });
  let disposed = false;

  async function load(): Promise<void> {
    try {
      const { keys } = await api.keys();
      if (!disposed)
        fill(
          list,
          table(keys, (k, b) => void revoke(k, b)),
        );
    } catch (err) {
      if (!disposed) fill(list, notice('error', err instanceof ApiError ? err.message : String(err)));
    }
  }

  async function revoke(k: KeySummary, button: HTMLButtonElement): Promise<void> {
    const auth = requireToken();
    if ('missing' in auth) return void fill(status, auth.missing);
    if (!confirm(`Revoke key ${k.id} (${k.name})? Every request with it fails from now on.`)) return;
    button.disabled = true;
    try {
      await api.revokeKey(k.id, auth.token);
      fill(status, `Key ${k.id} revoked.`);
      await load();
    } catch (err) {
      button.disabled = false;
      fill(status, err instanceof ApiError ? err.message : String(err));
    }
  }

  void load();
  return {
    el: h(
      'section',
      { class: 'keys-view' },
      h('h1', {}, 'API keys'),
      h(
        'p',
        { class: 'muted' },
        'Keys carry scopes (predict, read, review, admin), optionally a list of models and a rate limit. Only a hash of each token is stored.',
      ),
      createForm(() => void load()),
      status,
      list,
    ),
    dispose: () => {
      disposed = true;
    },
  };
}
