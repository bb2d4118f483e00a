/**
 * Small multiples: validation accuracy against each hyperparameter, ordered by the rough importance
 * from marginal-data.ts. All share one y range so their spreads compare at a glance.
 */
import type uPlot from 'uplot';
import type { TrialRecord } from '../api';
import { h } from '../dom';
import { marginals, type Marginal } from './marginal-data';
import { axis, chart, PALETTE, pointSeries, type Chart } from './plot';

function marginalChart(m: Marginal, yRange: [number, number]): Chart {
  const data = [m.points.map((p) => p.x), m.points.map((p) => p.y)] as uPlot.AlignedData;
  // Narrow plots: numeric axes label every other tick when ~48 px per label do not fit; long names are shortened.
  const short = (s: string) => (s.length > 10 ? `${s.slice(0, 9)}…` : s);
  const labels = new Map(m.axis.ticks.map((t) => [t.at, m.axis.kind === 'category' ? short(t.label) : t.label]));
  const xValues = (u: uPlot, splits: number[]) => {
    const every = m.axis.kind === 'category' ? 1 : Math.ceil(splits.length / Math.max(2, Math.floor(u.width / 48)));
    return splits.map((s, i) => (i % every === 0 || labels.get(s) === '0' ? (labels.get(s) ?? '') : ''));
  };
  // Long category names (initialisers) overlap when set flat under a narrow plot: they stand upright.
  const slanted = m.axis.kind === 'category' && m.axis.ticks.length > 2 && m.axis.ticks.some((t) => t.label.length > 5);
  return chart(
    `marginal-${m.name}`,
    `Validation accuracy against ${m.name}`,
    150,
    {
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: false, range: [m.axis.min, m.axis.max] }, y: { range: yRange } },
      axes: [
        axis('', {
          size: slanted ? 82 : 30,
          labelSize: 0,
          rotate: slanted ? 90 : 0,
          splits: () => m.axis.ticks.map((t) => t.at),
          values: xValues,
        }),
        axis('', {
          size: 46,
          labelSize: 0,
          values: (_u, splits) => splits.map((v) => (v === null ? '' : `${Math.round(v * 100)}%`)),
        }),
      ],
      series: [{ label: m.name }, pointSeries('trials', PALETTE[0]!, 6)],
    },
    data,
  );
}

export function marginalPlots(records: TrialRecord[]): { el: HTMLElement; destroy(): void } {
  const scored = records
    .filter((r) => r.status === 'complete' && r.final && Number.isFinite(r.final.valAccuracy))
    .map((r) => ({ trial: r.trial, params: r.params, score: r.final!.valAccuracy }));
  const list = marginals(scored);
  if (list.length === 0)
    return {
      el: h('p', { class: 'muted' }, 'Per-hyperparameter plots appear once two complete trials differ in a parameter.'),
      destroy() {},
    };
  const ys = scored.map((s) => s.score);
  const yRange: [number, number] = [Math.max(0, Math.min(...ys) - 0.03), Math.min(1, Math.max(...ys) + 0.03)];
  const charts = list.map((m) => ({ m, c: marginalChart(m, yRange) }));
  const el = h(
    'div',
    { class: 'marginals' },
    h(
      'p',
      { class: 'muted small' },
      'Validation accuracy of complete trials against each sampled hyperparameter, most influential first. "spread" is how far the mean accuracy moves between the parameter\'s values (categories, or thirds of its range): a coarse signal that ignores interactions.',
    ),
    h(
      'div',
      { class: 'grid-small' },
      charts.map(({ m, c }) =>
        h(
          'figure',
          { class: 'marginal' },
          h(
            'figcaption',
            {},
            h('strong', {}, m.name),
            m.spread === null ? '' : ` · spread ${(m.spread * 100).toFixed(1)} pts`,
            m.axis.kind === 'log'
              ? h('span', { class: 'muted' }, ' (log)')
              : m.axis.kind === 'log1m'
                ? h('span', { class: 'muted' }, ' (log of 1 − v)')
                : '',
          ),
          c.el,
        ),
      ),
    ),
  );
  return { el, destroy: () => charts.forEach(({ c }) => c.destroy()) };
}
