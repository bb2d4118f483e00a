/**
 * A training session's live curve: validation and training accuracy per epoch, and the learning rate
 * on its own log axis, with a vertical marker before each epoch where an adjustment took effect.
 */
import type uPlot from 'uplot';
import type { AdjustmentMark, EpochRecord } from '../api';
import { h, num } from '../dom';
import { axis, chart, legend, PALETTE, type Chart } from './plot';

const MARK_COLOUR = '#b07aa1';

function describeChange(m: AdjustmentMark): string {
  return Object.entries(m.changes)
    .map(([k, v]) => `${k} ${num(m.previous[k] ?? NaN)} → ${num(v)}`)
    .join(', ');
}

/** Draws the adjustment markers on top of the series: the line sits half an epoch before the first new epoch. */
function markersPlugin(marks: AdjustmentMark[]): uPlot.Plugin {
  return {
    hooks: {
      draw: (u) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = MARK_COLOUR;
        ctx.fillStyle = MARK_COLOUR;
        ctx.lineWidth = 2 * devicePixelRatio;
        ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
        ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
        for (const m of marks) {
          const x = u.valToPos(m.epoch - 0.5, 'x', true);
          if (!Number.isFinite(x)) continue;
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.fillText(`adjusted (epoch ${m.epoch})`, x + 4 * devicePixelRatio, u.bbox.top + 12 * devicePixelRatio);
        }
        ctx.restore();
      },
    },
  };
}

export function sessionCurve(
  curve: EpochRecord[],
  marks: AdjustmentMark[],
  target: number,
): Chart & { el: HTMLElement } {
  const epochs = Math.max(target, curve.length, 1);
  const x = Array.from({ length: epochs }, (_, i) => i + 1);
  const at = (pick: (e: EpochRecord) => number) => x.map((_, i) => (curve[i] ? pick(curve[i]!) : null));
  const data = [x, at((e) => e.valAccuracy), at((e) => e.accuracy), at((e) => e.learningRate)] as uPlot.AlignedData;
  const c = chart(
    'session-curve',
    `Accuracy and learning rate per epoch; ${marks.length} adjustment marker(s)`,
    260,
    {
      legend: { show: false },
      scales: { x: { time: false, range: [0.5, epochs + 0.5] }, y: { range: [0, 1] }, lr: { distr: 3 } },
      axes: [
        axis('epoch'),
        axis('accuracy', {
          size: 48,
          values: (_u, splits) => splits.map((v) => (v === null ? '' : `${Math.round(v * 100)}%`)),
        }),
        axis('learning rate', {
          scale: 'lr',
          side: 1,
          size: 60,
          grid: { show: false },
          values: (_u, splits) => splits.map((v) => (v === null ? '' : num(v))),
        }),
      ],
      series: [
        { label: 'epoch' },
        {
          label: 'validation accuracy',
          stroke: PALETTE[0],
          width: 2,
          points: { show: true, size: 5, fill: PALETTE[0] },
        },
        { label: 'training accuracy', stroke: PALETTE[0], width: 1.5, dash: [5, 4], points: { show: false } },
        { label: 'learning rate', scale: 'lr', stroke: PALETTE[1], width: 2, points: { show: false } },
      ],
      plugins: [markersPlugin(marks)],
    },
    data,
  );
  c.el.setAttribute('data-marks', String(marks.length));
  const el = h(
    'div',
    {},
    legend([
      { colour: PALETTE[0]!, label: 'validation accuracy' },
      { colour: PALETTE[0]!, label: 'training accuracy', dashed: true },
      { colour: PALETTE[1]!, label: 'learning rate (right axis, log)' },
      { colour: MARK_COLOUR, label: 'adjustment', dashed: true },
    ]),
    c.el,
    marks.length
      ? h(
          'ul',
          { class: 'marks', id: 'adjustments' },
          marks.map((m) => h('li', {}, h('strong', {}, `from epoch ${m.epoch}: `), describeChange(m))),
        )
      : h('p', { class: 'muted small' }, 'No adjustments yet.'),
  );
  return { el, destroy: c.destroy };
}
