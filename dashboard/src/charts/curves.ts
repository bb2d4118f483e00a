/**
 * Learning curves of the best trials: loss and accuracy per epoch, validation solid, training dashed,
 * one colour per trial. Loss uses a log axis: early epochs of a poor configuration are orders of
 * magnitude above the converged losses, which a linear axis would flatten into one line.
 */
import type uPlot from 'uplot';
import type { TrialRecord } from '../api';
import { h, pct } from '../dom';
import { axis, chart, legend, logLabel, PALETTE, type Chart } from './plot';

type Metric = 'loss' | 'accuracy';

function curveData(records: TrialRecord[], metric: Metric): uPlot.AlignedData {
  const epochs = Math.max(1, ...records.map((r) => r.history.length));
  const x = Array.from({ length: epochs }, (_, i) => i + 1);
  const series: (number | null)[][] = [];
  for (const r of records) {
    const pick = (train: boolean) =>
      x.map((_, i) => {
        const e = r.history[i];
        if (!e) return null;
        const v = metric === 'loss' ? (train ? e.loss : e.valLoss) : train ? e.accuracy : e.valAccuracy;
        return Number.isFinite(v) && (metric === 'accuracy' || v > 0) ? v : null;
      });
    series.push(pick(false), pick(true));
  }
  return [x, ...series] as uPlot.AlignedData;
}

function curveChart(records: TrialRecord[], metric: Metric): Chart {
  const series: uPlot.Series[] = [{ label: 'epoch' }];
  records.forEach((r, i) => {
    const colour = PALETTE[i % PALETTE.length]!;
    series.push({
      label: `#${r.trial} validation`,
      stroke: colour,
      width: 2,
      points: { show: true, size: 4, fill: colour },
    });
    series.push({ label: `#${r.trial} training`, stroke: colour, width: 1.5, dash: [5, 4], points: { show: false } });
  });
  const fmt =
    metric === 'accuracy' ? (v: number) => `${Math.round(v * 100)}%` : (v: number) => String(Number(v.toPrecision(2)));
  return chart(
    `curves-${metric}`,
    `${metric === 'loss' ? 'Loss' : 'Accuracy'} per epoch of the ${records.length} best trials`,
    220,
    {
      legend: { show: false },
      scales: {
        x: { time: false },
        y:
          metric === 'loss'
            ? { distr: 3 }
            : { range: (_u, min, max) => [Math.max(0, Math.min(min, 0.9) - 0.02), Math.min(1, max + 0.02)] },
      },
      axes: [
        axis('epoch'),
        axis(metric, {
          size: 48,
          values: (_u, splits) =>
            splits.map((v) => (metric === 'loss' ? logLabel(v, [1, 2, 5], fmt) : v === null ? '' : fmt(v))),
        }),
      ],
      series,
    },
    curveData(records, metric),
  );
}

export function learningCurves(records: TrialRecord[]): { el: HTMLElement; destroy(): void } {
  if (records.length === 0)
    return { el: h('p', { class: 'muted' }, 'Learning curves appear when the first trial completes.'), destroy() {} };
  const charts = [curveChart(records, 'loss'), curveChart(records, 'accuracy')];
  const el = h(
    'div',
    { class: 'curves' },
    legend(
      records.map((r, i) => ({
        colour: PALETTE[i % PALETTE.length]!,
        label: `#${r.trial} · ${r.config.optimizer} · ${pct(r.final?.valAccuracy)}`,
      })),
    ),
    h('p', { class: 'muted small' }, 'Solid: validation. Dashed: training (with dropout and L1/L2 penalty active).'),
    h(
      'div',
      { class: 'pair' },
      charts.map((c) => c.el),
    ),
  );
  return { el, destroy: () => charts.forEach((c) => c.destroy()) };
}
