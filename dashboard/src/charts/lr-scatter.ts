/**
 * Learning rate (log axis: it is sampled log-uniformly over three decades) against validation accuracy,
 * one colour per optimizer. Diverged trials sit at 0 in grey: where they cluster shows the learning
 * rates each optimizer cannot take.
 */
import type uPlot from 'uplot';
import type { TrialRecord } from '../api';
import { h } from '../dom';
import { axis, chart, DIVERGED_COLOUR, legend, logLabel, optimizerColour, pointSeries } from './plot';

export function lrScatter(records: TrialRecord[]): { el: HTMLElement; destroy(): void } {
  const points = records
    .filter((r) => r.status !== 'failed' && Number.isFinite(r.config.learningRate) && r.config.learningRate > 0)
    .map((r) => ({
      lr: r.config.learningRate,
      optimizer: r.config.optimizer,
      acc: r.status === 'complete' ? (r.final?.valAccuracy ?? null) : null,
      diverged: r.status === 'diverged',
    }))
    .sort((a, b) => a.lr - b.lr);
  if (points.length === 0)
    return { el: h('p', { class: 'muted' }, 'The scatter appears when the first trial finishes.'), destroy() {} };

  const optimizers = [...new Set(points.filter((p) => !p.diverged).map((p) => p.optimizer))].sort();
  // uPlot's aligned data: one shared, sorted x array; each series is null where another group's point sits.
  const data: (number | null)[][] = [points.map((p) => p.lr)];
  const series: uPlot.Series[] = [{ label: 'learning rate' }];
  for (const opt of optimizers) {
    data.push(points.map((p) => (!p.diverged && p.optimizer === opt ? p.acc : null)));
    series.push(pointSeries(opt, optimizerColour(opt)));
  }
  const anyDiverged = points.some((p) => p.diverged);
  if (anyDiverged) {
    data.push(points.map((p) => (p.diverged ? 0 : null)));
    series.push(pointSeries('diverged', DIVERGED_COLOUR, 6));
  }
  const plot = chart(
    'lr-scatter',
    'Learning rate (log scale) against validation accuracy, coloured by optimizer',
    260,
    {
      legend: { show: false },
      // Whole decades at both ends, so the axis always names where it starts and ends.
      scales: {
        x: {
          time: false,
          distr: 3,
          range: (_u, min, max) => [10 ** Math.floor(Math.log10(min)), 10 ** Math.ceil(Math.log10(max))],
        },
        y: { range: (_u, _min, max) => [0, Math.min(1, Math.max(max, 0.1) + 0.02)] },
      },
      axes: [
        axis('learning rate', {
          values: (_u, splits) => splits.map((v) => logLabel(v, [1], (x) => x.toExponential(0).replace('e-', 'e−'))),
        }),
        axis('validation accuracy', {
          size: 48,
          values: (_u, splits) => splits.map((v) => (v === null ? '' : `${Math.round(v * 100)}%`)),
        }),
      ],
      series,
    },
    data as uPlot.AlignedData,
  );
  const el = h(
    'div',
    { class: 'lr-scatter' },
    legend([
      ...optimizers.map((o) => ({ colour: optimizerColour(o), label: o })),
      ...(anyDiverged ? [{ colour: DIVERGED_COLOUR, label: 'diverged (shown at 0)' }] : []),
    ]),
    plot.el,
  );
  return { el, destroy: () => plot.destroy() };
}
