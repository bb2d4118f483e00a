/**
 * Training sessions: start one (admin token) and list them, newest first.
 */
import { api, ApiError, type DatasetSummary, type SessionSummary } from '../api';
import { fill, h, notice, pct, when } from '../dom';
import { poll } from '../poll';
import type { View } from '../router';
import { requireToken } from '../token';

const OPTIMIZERS = ['adam', 'rmsprop', 'momentum', 'sgd'];

function startForm(datasets: DatasetSummary[]): HTMLElement {
  const status = h('div', { 'aria-live': 'polite' });
  const field = (name: string, label: string, input: HTMLElement) =>
    h('label', { class: 'field' }, h('span', {}, label), input);
  const number = (name: string, value: string, attrs: Record<string, string | number> = {}) =>
    h('input', { type: 'number', name, value, step: 'any', ...attrs });
  const form = h(
    'form',
    { class: 'start-form', id: 'start-session', 'data-needs': 'admin' },
    h(
      'div',
      { class: 'fields' },
      field(
        'dataset',
        'dataset',
        h(
          'select',
          { name: 'dataset' },
          datasets.map((d) => h('option', { value: d.name }, d.name)),
        ),
      ),
      field(
        'optimizer',
        'optimizer',
        h(
          'select',
          { name: 'optimizer' },
          OPTIMIZERS.map((o) => h('option', { value: o }, o)),
        ),
      ),
      field('learningRate', 'learning rate', number('learningRate', '0.002', { min: 0 })),
      field('depth', 'hidden layers', number('depth', '2', { min: 0, max: 4, step: 1 })),
      field('width', 'width', number('width', '64', { min: 1, max: 1024, step: 1 })),
      field('batchSize', 'batch size', number('batchSize', '64', { min: 1, max: 4096, step: 1 })),
      field('epochs', 'target epochs', number('epochs', '30', { min: 1, max: 1000, step: 1 })),
    ),
    h('button', { type: 'submit' }, 'Start session'),
    status,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const auth = requireToken();
    if ('missing' in auth) return fill(status, notice('error', auth.missing));
    const v = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement).value.trim();
    try {
      const session = await api.startSession(
        {
          dataset: v('dataset'),
          config: {
            optimizer: v('optimizer'),
            learningRate: Number(v('learningRate')),
            depth: Number(v('depth')),
            width: Number(v('width')),
            batchSize: Number(v('batchSize')),
            epochs: Number(v('epochs')),
          },
        },
        auth.token,
      );
      location.hash = `#/sessions/${encodeURIComponent(session.id)}`;
    } catch (err) {
      fill(status, notice('error', err instanceof ApiError ? err.message : String(err)));
    }
  });
  return form;
}

function list(sessions: SessionSummary[]): HTMLElement {
  if (sessions.length === 0) return h('p', { class: 'muted' }, 'No session yet.');
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { class: 'table', id: 'sessions' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['session', 'model', 'dataset', 'status', 'epoch', 'validation', 'started'].map((t) => h('th', {}, t)),
        ),
      ),
      h(
        'tbody',
        {},
        sessions.map((s) =>
          h(
            'tr',
            {},
            h('td', {}, h('a', { href: `#/sessions/${encodeURIComponent(s.id)}` }, s.id)),
            h('td', {}, s.model),
            h('td', {}, s.dataset),
            h(
              'td',
              {},
              h(
                'span',
                { class: `badge ${s.status === 'running' ? 'live' : s.status === 'complete' ? 'ok' : 'warn'}` },
                s.status,
              ),
            ),
            h('td', {}, `${s.epoch}/${s.epochs}`),
            h('td', {}, pct(s.valAccuracy)),
            h('td', {}, when(s.createdAt)),
          ),
        ),
      ),
    ),
  );
}

export function sessionsView(): View {
  const formBox = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const listBox = h('div', {});
  api
    .datasets()
    .then(({ datasets }) => fill(formBox, startForm(datasets)))
    .catch((err: unknown) => fill(formBox, notice('error', err instanceof ApiError ? err.message : String(err))));
  const poller = poll(async () => {
    try {
      const { sessions } = await api.sessions();
      fill(listBox, list(sessions));
      return sessions.some((s) => s.status === 'running');
    } catch (err) {
      fill(listBox, notice('error', err instanceof ApiError ? err.message : String(err)));
      return true;
    }
  }, 2000);
  const el = h(
    'section',
    { class: 'view' },
    h('h1', {}, 'Training sessions'),
    h(
      'p',
      { class: 'muted' },
      'One model trained a few epochs per alarm by its own Durable Object; adjust its learning rate as it goes, pause, resume, promote.',
    ),
    h('section', { class: 'panel' }, h('h2', {}, 'Start a session (admin)'), formBox),
    h('section', { class: 'panel' }, h('h2', {}, 'Sessions'), listBox),
  );
  return { el, dispose: () => poller.stop() };
}
