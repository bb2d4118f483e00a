/**
 * Studies: start one (admin token) and list them, newest first. The list refreshes while any study
 * is running.
 */
import { api, ApiError, type DatasetSummary, type StudyRequest, type StudySummary } from '../api';
import { fill, h, notice, pct, when } from '../dom';
import { poll } from '../poll';
import type { View } from '../router';
import { requireToken } from '../token';

function numberField(
  name: string,
  label: string,
  value: string,
  attrs: Record<string, string | number> = {},
): HTMLElement {
  return h(
    'label',
    { class: 'field' },
    h('span', {}, label),
    h('input', { type: 'number', name, value, inputmode: 'numeric', ...attrs }),
  );
}

function startForm(datasets: DatasetSummary[], strategies: string[], studies: StudySummary[]): HTMLElement {
  const status = h('div', { 'aria-live': 'polite' });
  const dataset = h(
    'select',
    { name: 'dataset' },
    datasets.map((d) =>
      h('option', { value: d.name }, `${d.name} (${d.rows} rows, ${d.features} features, ${d.classes} classes)`),
    ),
  );
  const strategy = h(
    'select',
    { name: 'strategy' },
    strategies.map((s) => h('option', { value: s }, s)),
  );
  const from = h(
    'select',
    { name: 'from' },
    studies
      .filter((s) => s.status === 'complete')
      .map((s) => h('option', { value: s.id }, `${s.id} (${pct(s.bestValAccuracy)})`)),
  );
  const fromField = h('label', { class: 'field', hidden: true }, h('span', {}, 'refine study'), from);
  strategy.addEventListener('change', () => (fromField.hidden = strategy.value !== 'local'));
  const form = h(
    'form',
    { class: 'start-form', id: 'start-study', 'data-needs': 'admin' },
    h(
      'div',
      { class: 'fields' },
      h('label', { class: 'field' }, h('span', {}, 'dataset'), dataset),
      h(
        'label',
        { class: 'field' },
        h('span', {}, 'model'),
        h('input', {
          name: 'model',
          placeholder: 'dataset name',
          pattern: '[a-z0-9][a-z0-9_\\-]{0,63}',
          autocapitalize: 'off',
        }),
      ),
      h('label', { class: 'field' }, h('span', {}, 'strategy'), strategy),
      fromField,
      numberField('trials', 'trials', '24', { min: 1, max: 500 }),
      numberField('epochs', 'epochs', '20', { min: 1, max: 500 }),
      numberField('maxSeconds', 'seconds per trial', '60', { min: 1, max: 290 }),
      numberField('parallelism', 'parallelism', '4', { min: 1, max: 64 }),
      numberField('seed', 'seed', '', { min: 0, placeholder: 'random' }),
      numberField('margin', 'promotion margin', '0', { min: 0, max: 1, step: 'any' }),
      numberField('significance', 'significance (paired test)', '0.05', { min: 0.000001, max: 1, step: 'any' }),
    ),
    h('button', { type: 'submit' }, 'Start study'),
    status,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const auth = requireToken();
    if ('missing' in auth) return fill(status, notice('error', auth.missing));
    const v = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement).value.trim();
    const body: StudyRequest = {
      dataset: v('dataset'),
      strategy: v('strategy'),
      trials: Number(v('trials')),
      parallelism: Number(v('parallelism')),
      margin: Number(v('margin')),
      significance: Number(v('significance')),
      budget: { epochs: Number(v('epochs')), maxSeconds: Number(v('maxSeconds')) },
      ...(v('model') ? { model: v('model') } : {}),
      ...(v('seed') ? { seed: Number(v('seed')) } : {}),
      ...(v('strategy') === 'local' ? { from: v('from') } : {}),
    };
    const button = form.querySelector('button')!;
    button.disabled = true;
    try {
      const started = await api.startStudy(body, auth.token);
      location.hash = `#/studies/${encodeURIComponent(started.id)}`;
    } catch (err) {
      button.disabled = false;
      fill(status, notice('error', `Not started: ${err instanceof Error ? err.message : String(err)}`));
    }
  });
  return form;
}

function studyRow(s: StudySummary): HTMLElement {
  return h(
    'tr',
    { 'data-study': s.id },
    h('td', {}, h('a', { href: `#/studies/${encodeURIComponent(s.id)}` }, s.id)),
    h('td', {}, s.model),
    h('td', {}, s.strategy),
    h('td', {}, h('span', { class: `badge ${s.status === 'complete' ? 'ok' : 'live'}` }, s.status)),
    h('td', {}, `${s.finished}/${s.total}`),
    h('td', {}, pct(s.bestValAccuracy)),
    h('td', {}, s.promotedVersion === null ? '–' : `v${s.promotedVersion}`),
    h('td', {}, when(s.createdAt)),
  );
}

export function studiesView(): View {
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const formSlot = h('div', {});
  const el = h(
    'section',
    { class: 'view studies-view' },
    h('h1', {}, 'Studies'),
    h('details', { class: 'panel', open: true }, h('summary', {}, 'Start a study'), formSlot),
    h('section', { class: 'panel' }, h('h2', {}, 'All studies'), list),
  );
  let formShown = false;
  const poller = poll(async () => {
    try {
      const [{ studies }, setup] = await Promise.all([
        api.studies(),
        formShown ? Promise.resolve(null) : Promise.all([api.datasets(), api.openapi()]),
      ]);
      if (setup && !formShown) {
        const [datasets, doc] = setup;
        const strategies = doc.components?.schemas?.StudyRequest?.properties?.strategy?.enum ?? ['random'];
        fill(formSlot, startForm(datasets.datasets, strategies, studies));
        formShown = true;
      }
      fill(
        list,
        studies.length === 0
          ? notice('info', 'No study yet.')
          : h(
              'div',
              { class: 'scroll' },
              h(
                'table',
                { class: 'table', id: 'studies' },
                h(
                  'thead',
                  {},
                  h(
                    'tr',
                    {},
                    ['study', 'model', 'strategy', 'status', 'trials', 'best validation', 'promoted', 'started'].map(
                      (t) => h('th', {}, t),
                    ),
                  ),
                ),
                h('tbody', {}, studies.map(studyRow)),
              ),
            ),
      );
      return studies.some((s) => s.status === 'running');
    } catch (err) {
      fill(list, notice('error', err instanceof ApiError ? err.message : String(err)));
      return true;
    }
  }, 3000);
  return { el, dispose: () => poller.stop() };
}
