/**
 * The champion of a model: what it is (version, metrics, hyperparameters), how it errs on the test
 * split (confusion matrix), a playground to try it, and how it does on served traffic (live quality, drift).
 */
import { api, ApiError, type ModelMeta, type ModelSummary } from '../api';
import { fill, h, notice, num, pct, when } from '../dom';
import type { View } from '../router';
import { reliabilityDiagram } from '../charts/reliability';
import { confusionTable } from './confusion';
import { playground } from './playground';
import { sourceLink } from './source-link';
import { driftTable, qualityTable } from './review';

function hyperparameters(meta: ModelMeta): HTMLElement {
  const entries = Object.entries(meta.hyperparameters).filter(([, v]) => v !== null && typeof v !== 'object');
  return h(
    'dl',
    { class: 'kv' },
    entries.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, typeof v === 'number' ? num(v) : String(v))]),
  );
}

/** An ensemble's members: the trials whose probabilities the version averages. */
function membersPanel(meta: ModelMeta): HTMLElement {
  const members = meta.members ?? [];
  const body = members.length
    ? h(
        'div',
        { class: 'scroll' },
        h(
          'table',
          { class: 'table', id: 'members' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['trial', 'weight', 'validation', 'network', 'optimizer'].map((t) => h('th', {}, t)),
            ),
          ),
          h(
            'tbody',
            {},
            members.map((m) =>
              h(
                'tr',
                { 'data-trial': m.trial },
                h('td', {}, `#${m.trial}`),
                h('td', {}, String(m.weight)),
                h('td', {}, pct(m.validationAccuracy)),
                h(
                  'td',
                  {},
                  m.hyperparameters.depth === 0
                    ? 'softmax only'
                    : `${m.hyperparameters.depth}×${m.hyperparameters.width} ${m.hyperparameters.activation}`,
                ),
                h('td', {}, m.hyperparameters.optimizer),
              ),
            ),
          ),
        ),
      )
    : h(
        'p',
        { class: 'muted', id: 'members-none' },
        'A single network (no ensemble beat the best trial on validation).',
      );
  return h(
    'section',
    { class: 'panel', id: 'ensemble-members' },
    h(
      'h2',
      {},
      members.length ? `Ensemble of ${members.length} trials (probabilities averaged by weight)` : 'Ensemble',
    ),
    body,
  );
}

function calibrationPanel(meta: ModelMeta): HTMLElement {
  return h(
    'section',
    { class: 'panel', id: 'reliability' },
    h('h2', {}, 'Calibration: reliability diagram (test split)'),
    meta.calibration
      ? reliabilityDiagram(meta.calibration)
      : h('p', { class: 'muted' }, 'This version was promoted before temperature scaling: no calibration recorded.'),
  );
}

/** Class-balanced figures (accuracy hides a rare class that is never answered); recall per class is the matrix's last column. */
function balancedLine(meta: ModelMeta): HTMLElement | string {
  const m = meta.metrics;
  if (m.testBalancedAccuracy === undefined) return '';
  return h(
    'p',
    { class: 'muted small', id: 'balanced', 'data-balanced-accuracy': String(m.testBalancedAccuracy) },
    `balanced accuracy ${pct(m.testBalancedAccuracy)} · macro-F1 ${pct(m.testMacroF1)} (test split)`,
  );
}

/**
 * Served traffic: live quality per version from the metadata (no extra request) and the drift of served
 * inputs, fetched on its own so a slow drift read never holds the page.
 */
function livePanel(meta: ModelMeta): HTMLElement {
  const drift = h('div', {}, h('p', { class: 'muted' }, 'Loading drift…'));
  api.drift(meta.name).then(
    (d) => fill(drift, driftTable(d)),
    (err: unknown) => fill(drift, notice('error', err instanceof ApiError ? err.message : String(err))),
  );
  return h(
    'section',
    { class: 'panel', id: 'live' },
    h('h2', {}, 'Live: reviewed accuracy and drift of served traffic'),
    meta.live
      ? qualityTable(meta.live)
      : notice('info', 'Live figures are not available right now; reload in a few seconds.'),
    meta.live ? h('p', { class: 'muted small' }, `as of ${when(meta.live.asOf)}`) : null,
    drift,
    h('a', { href: `#/review/${encodeURIComponent(meta.name)}` }, 'Review queue, traffic and every drifted input'),
  );
}

function picker(models: ModelSummary[], current: string): HTMLElement {
  const select = h(
    'select',
    { 'aria-label': 'Model' },
    models
      .filter((m) => m.version !== null)
      .map((m) => h('option', { value: m.name, selected: m.name === current }, `${m.name} (v${m.version})`)),
  );
  select.addEventListener('change', () => (location.hash = `#/champion/${encodeURIComponent(select.value)}`));
  return h('label', { class: 'inline' }, 'Model ', select);
}

export function championView(requested: string | undefined): View {
  const el = h('section', { class: 'view champion-view' }, h('p', { class: 'muted' }, 'Loading…'));
  void (async () => {
    try {
      const { models } = await api.models();
      const served = models.filter((m) => m.version !== null);
      const name = requested ?? served.find((m) => m.name === 'digits')?.name ?? served[0]?.name;
      if (!name || !served.some((m) => m.name === name)) {
        fill(
          el,
          h('h1', {}, 'Champion'),
          notice(
            'info',
            name
              ? `"${name}" has no promoted version yet.`
              : 'No model has a promoted version yet: start a study first.',
          ),
        );
        return;
      }
      const [meta, evaluation] = await Promise.all([api.model(name), api.evaluation(name)]);
      fill(
        el,
        h(
          'div',
          { class: 'title-row' },
          h(
            'h1',
            {},
            'Champion: ',
            h('span', { 'data-champion': `${meta.name}@${meta.version}` }, `${meta.name} v${meta.version}`),
          ),
          picker(models, name),
        ),
        h(
          'div',
          { class: 'cards' },
          h(
            'div',
            { class: 'card stat' },
            h('span', { class: 'muted' }, 'test accuracy'),
            h('strong', {}, pct(meta.metrics.testAccuracy)),
          ),
          h(
            'div',
            { class: 'card stat' },
            h('span', { class: 'muted' }, 'validation accuracy'),
            h('strong', {}, pct(meta.metrics.validationAccuracy)),
          ),
          h(
            'div',
            { class: 'card stat' },
            h('span', { class: 'muted' }, 'from'),
            sourceLink(meta.source, meta.trial),
            h('span', { class: 'muted small' }, when(meta.createdAt)),
          ),
        ),
        h(
          'div',
          { class: 'pair' },
          h(
            'section',
            { class: 'panel', id: 'confusion' },
            h('h2', {}, 'Confusion matrix (test split)'),
            confusionTable(evaluation),
            balancedLine(meta),
          ),
          h('section', { class: 'panel', id: 'playground' }, h('h2', {}, 'Prediction playground'), playground(meta)),
        ),
        h('div', { class: 'pair' }, membersPanel(meta), calibrationPanel(meta)),
        livePanel(meta),
        h('details', { class: 'panel' }, h('summary', {}, 'Hyperparameters'), hyperparameters(meta)),
      );
    } catch (err) {
      fill(el, h('h1', {}, 'Champion'), notice('error', err instanceof ApiError ? err.message : String(err)));
    }
  })();
  return { el, dispose() {} };
}
