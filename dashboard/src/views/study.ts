/**
 * One study, live: progress, promotion outcome, leaderboard, and the charts (learning curves of the best
 * trials, learning rate vs accuracy, per-hyperparameter marginals). It polls while the study runs; the
 * charts are rebuilt only when another trial has finished (records are written once, at the end).
 */
import {
  api,
  ApiError,
  type EnsembleReport,
  type LeaderboardEntry,
  type Progress,
  type StudyView,
  type TrialRecord,
} from '../api';
import { learningCurves } from '../charts/curves';
import { lrScatter } from '../charts/lr-scatter';
import { marginalPlots } from '../charts/marginals';
import { fill, h, notice, num, pct, when } from '../dom';
import { poll } from '../poll';
import type { View } from '../router';
import { requireToken } from '../token';
import { evidenceBlock } from './comparison';

const TOP_CURVES = 5;

function progressBar(p: Progress): HTMLElement {
  const parts: [keyof Progress, string][] = [
    ['complete', 'complete'],
    ['diverged', 'diverged'],
    ['failed', 'failed'],
    ['pruned', 'pruned'],
    ['running', 'running'],
  ];
  const pruned = p.pruned ?? 0;
  const finished = p.complete + p.diverged + p.failed + pruned;
  return h(
    'div',
    { class: 'progress-block' },
    h(
      'div',
      {
        class: 'progress',
        role: 'progressbar',
        'aria-valuemin': 0,
        'aria-valuemax': p.total,
        'aria-valuenow': finished,
      },
      parts
        .filter(([k]) => (p[k] ?? 0) > 0)
        .map(([k, cls]) =>
          h('span', {
            class: cls,
            style: `width:${(((p[k] ?? 0) / p.total) * 100).toFixed(2)}%`,
            title: `${p[k]} ${k}`,
          }),
        ),
    ),
    h(
      'p',
      { class: 'progress-text', 'data-finished': finished, 'data-total': p.total },
      `${finished}/${p.total} trials finished`,
      h(
        'span',
        { class: 'muted' },
        ` · ${p.complete} complete, ${p.diverged} diverged, ${p.failed} failed${pruned ? `, ${pruned} pruned` : ''}, ${p.running} running, ${p.pending} pending`,
      ),
    ),
  );
}

function describe(e: LeaderboardEntry): string {
  const c = e.config;
  const bn = c.depth > 0 && c.batchNorm ? ` BN-${String(c.bnPlacement ?? '')}` : '';
  return c.depth === 0 ? `softmax only${bn}` : `${c.depth}×${c.width} ${c.activation}${bn}`;
}

function leaderboard(entries: LeaderboardEntry[]): HTMLElement {
  if (entries.length === 0) return h('p', { class: 'muted' }, 'No trial has finished yet.');
  const rows = entries.map((e, i) =>
    h(
      'tr',
      { class: e.status === 'complete' ? '' : 'bad', 'data-trial': e.trial },
      h('td', {}, i + 1),
      h('td', {}, `#${e.trial}`),
      h('td', {}, h('strong', {}, pct(e.valAccuracy))),
      h('td', {}, e.valLoss === null ? '–' : e.valLoss.toFixed(3)),
      h('td', {}, e.status === 'complete' ? String(e.epochs) : h('span', { class: 'badge warn' }, e.status)),
      h('td', {}, e.config.optimizer),
      h('td', {}, num(e.config.learningRate)),
      h('td', {}, describe(e)),
      h('td', {}, String(e.config.batchSize)),
      h('td', {}, e.config.depth > 0 ? num(e.config.dropout) : '–'),
    ),
  );
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { class: 'table', id: 'leaderboard' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          [
            'rank',
            'trial',
            'validation',
            'val loss',
            'epochs',
            'optimizer',
            'learning rate',
            'network',
            'batch',
            'dropout',
          ].map((t) => h('th', {}, t)),
        ),
      ),
      h('tbody', {}, rows),
    ),
  );
}

/** Who proposed the configurations and who stopped trials early (older specs: from the legacy strategy). */
function searchMethod(s: StudyView['spec']): HTMLElement {
  const sampler = s.sampler ?? (s.strategy === 'asha' ? 'random' : s.strategy);
  const pruner = s.pruner === undefined ? (s.strategy === 'asha' ? { type: 'asha' } : null) : s.pruner;
  const prunerText = pruner
    ? `ASHA${pruner.minEpochs ? ` (first rung ${pruner.minEpochs} epochs, keeps 1/${pruner.reductionFactor ?? 3})` : ''}`
    : 'none (every trial trains its full budget)';
  return h(
    'p',
    { id: 'search-method', 'data-sampler': sampler, 'data-pruner': pruner ? pruner.type : 'none' },
    h('span', { class: 'badge' }, `sampler: ${sampler}`),
    ' ',
    h('span', { class: 'badge' }, `pruner: ${prunerText}`),
  );
}

/** What ensemble selection found over the study's best trials, and whether it became the candidate. */
function ensembleBlock(e: EnsembleReport | undefined): HTMLElement | string {
  if (!e) return '';
  return h(
    'div',
    { id: 'ensemble', 'data-chosen': String(e.chosen), 'data-members': e.members.map((m) => m.trial).join(',') },
    h(
      'p',
      {},
      h('strong', {}, e.chosen ? `Ensemble of ${e.members.length} trials. ` : 'Ensemble not used. '),
      `${e.reason}. Validation: ensemble ${pct(e.valAccuracy)} vs best trial #${e.bestSingle.trial} ${pct(e.bestSingle.valAccuracy)} (selected from the ${e.pool.length} best trials).`,
    ),
    h(
      'p',
      { class: 'members' },
      'Members (times picked): ',
      e.members.flatMap((m, i) => [i ? ', ' : '', h('span', { 'data-trial': m.trial }, `#${m.trial} ×${m.weight}`)]),
    ),
  );
}

function promotionBox(view: StudyView): HTMLElement | string {
  const p = view.promotion;
  if (!p) return '';
  const cand = p.candidate
    ? ` Candidate: trial #${p.candidate.trial}, validation ${pct(p.candidate.valAccuracy)}, test ${pct(p.candidate.testAccuracy)}.`
    : '';
  const status = h('div', { class: 'status-line', 'aria-live': 'polite' });
  const box = h('div', { class: `notice ${p.promoted ? 'success' : 'info'}`, id: 'promotion' });
  // The guard cannot settle a champion that is not comparable: the admin decides, through the registry.
  const explicit = p.advice
    ? h(
        'button',
        {
          type: 'button',
          class: 'secondary small',
          id: 'promote-explicitly',
          'data-needs': 'admin',
          onclick: async () => {
            const auth = requireToken();
            if ('missing' in auth) return fill(status, notice('error', auth.missing));
            try {
              const outcome = await api.promoteStudy(view.id, auth.token);
              box.replaceWith(promotionBox({ ...view, promotion: outcome }));
            } catch (err) {
              fill(status, notice('error', `Promotion failed: ${err instanceof Error ? err.message : String(err)}`));
            }
          },
        },
        'Promote explicitly',
      )
    : '';
  fill(
    box,
    p.promoted
      ? h('strong', {}, `Promoted as ${view.spec.model} v${p.version}${p.explicit ? ' (explicitly)' : ''}. `)
      : h('strong', {}, 'Not promoted. '),
    `${p.reason}.`,
    cand,
    p.promoted
      ? [' ', h('a', { href: `#/champion/${encodeURIComponent(view.spec.model)}` }, 'See the champion →')]
      : '',
    ensembleBlock(p.ensemble),
    evidenceBlock(p.comparison, p.guard),
    p.advice ? h('p', { class: 'advice' }, p.advice, ' ', explicit) : '',
    status,
  );
  return box;
}

export function studyView(id: string): View {
  const head = h('div', {}, h('h1', {}, 'Study'), h('p', { class: 'muted' }, 'Loading…'));
  const board = h('div', {});
  const curves = h('div', {});
  const scatter = h('div', {});
  const marginal = h('div', {});
  const el = h(
    'section',
    { class: 'view study-view' },
    head,
    h('section', { class: 'panel' }, h('h2', {}, 'Leaderboard (validation accuracy)'), board),
    h('section', { class: 'panel' }, h('h2', {}, 'Learning curves of the best trials'), curves),
    h('section', { class: 'panel' }, h('h2', {}, 'Learning rate vs validation accuracy'), scatter),
    h('section', { class: 'panel' }, h('h2', {}, 'Which hyperparameters matter'), marginal),
  );
  let charts: { destroy(): void }[] = [];
  let drawnFor = '';

  function drawCharts(view: StudyView, records: TrialRecord[]) {
    // Records only appear when a trial ends: the same set means the same charts.
    const key = records.map((r) => r.trial).join(',');
    if (key === drawnFor) return;
    drawnFor = key;
    charts.forEach((c) => c.destroy());
    const byTrial = new Map(records.map((r) => [r.trial, r]));
    const top = view.leaderboard
      .filter((e) => e.status === 'complete')
      .slice(0, TOP_CURVES)
      .map((e) => byTrial.get(e.trial))
      .filter((r): r is TrialRecord => r !== undefined);
    const made = [learningCurves(top), lrScatter(records), marginalPlots(records)];
    fill(curves, made[0]!.el);
    fill(scatter, made[1]!.el);
    fill(marginal, made[2]!.el);
    charts = made;
  }

  const poller = poll(async () => {
    try {
      const [view, { trials }] = await Promise.all([api.study(id), api.trials(id)]);
      const s = view.spec;
      fill(
        head,
        h(
          'div',
          { class: 'title-row' },
          h('h1', {}, h('span', { class: 'study-id' }, view.id)),
          h('span', { class: `badge ${view.status === 'complete' ? 'ok' : 'live'}`, id: 'study-status' }, view.status),
        ),
        h(
          'p',
          { class: 'muted' },
          `Search on "${s.dataset}" for model "${s.model}" · seed ${s.seed} · ${s.trials} trials × ${s.budget.epochs} epochs (≤ ${s.budget.maxSeconds} s) · parallelism ${s.parallelism} · started ${when(s.createdAt)} (${s.origin})`,
        ),
        searchMethod(s),
        progressBar(view.progress),
        promotionBox(view),
      );
      fill(board, leaderboard(view.leaderboard));
      drawCharts(view, trials);
      return view.status === 'running';
    } catch (err) {
      fill(head, h('h1', {}, 'Study'), notice('error', err instanceof ApiError ? err.message : String(err)));
      return !(err instanceof ApiError && err.status === 404);
    }
  }, 1500);
  return {
    el,
    dispose() {
      poller.stop();
      charts.forEach((c) => c.destroy());
    },
  };
}
