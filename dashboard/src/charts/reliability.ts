/**
 * Reliability diagram of a version on its test split: per confidence bin, the accuracy of the rows whose top
 * probability fell in it, before and after temperature scaling (T was fitted on validation, so the test split
 * shows whether it generalises). A calibrated model sits on the diagonal. Plain SVG: 15 bars need no chart library.
 */
import type { Calibration, ReliabilityBin } from '../api';
import { h } from '../dom';

const W = 320;
const H = 240;
const PAD = { left: 36, right: 8, top: 8, bottom: 28 };
const SVG = 'http://www.w3.org/2000/svg';

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

const x = (v: number) => PAD.left + v * (W - PAD.left - PAD.right);
const y = (v: number) => H - PAD.bottom - v * (H - PAD.top - PAD.bottom);

function bars(bins: ReliabilityBin[], cls: string, offset: number, width: number): SVGElement[] {
  const step = 1 / bins.length;
  return bins
    .map((b, i) => ({ b, lo: i * step }))
    .filter(({ b }) => b.rows > 0 && b.accuracy !== null)
    .map(({ b, lo }) => {
      const rect = svg('rect', {
        class: cls,
        x: x(lo + offset * step),
        y: y(b.accuracy!),
        width: x(width * step) - x(0),
        height: y(0) - y(b.accuracy!),
        'data-upper': b.upper.toFixed(3),
        'data-rows': b.rows,
      });
      rect.append(
        svg(
          'title',
          {},
          `confidence ${(lo * 100).toFixed(0)}–${(b.upper * 100).toFixed(0)}%: ${b.rows} rows, accuracy ${(100 * b.accuracy!).toFixed(1)}%, mean confidence ${(100 * b.confidence!).toFixed(1)}%`,
        ),
      );
      return rect;
    });
}

export function reliabilityDiagram(c: Calibration): HTMLElement {
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: 'reliability',
    role: 'img',
    'aria-label': `Reliability diagram: ECE ${c.test.eceBefore.toFixed(3)} before, ${c.test.eceAfter.toFixed(3)} after temperature scaling`,
  });
  for (const t of [0, 0.5, 1]) {
    root.append(svg('line', { class: 'grid', x1: x(0), x2: x(1), y1: y(t), y2: y(t) }));
    root.append(svg('text', { class: 'tick', x: PAD.left - 4, y: y(t) + 4, 'text-anchor': 'end' }, `${t * 100}%`));
    root.append(
      svg('text', { class: 'tick', x: x(t), y: H - PAD.bottom + 14, 'text-anchor': 'middle' }, `${t * 100}%`),
    );
  }
  root.append(svg('text', { class: 'axis', x: x(0.5), y: H - 2, 'text-anchor': 'middle' }, 'confidence'));
  root.append(svg('line', { class: 'diagonal', x1: x(0), y1: y(0), x2: x(1), y2: y(1) }));
  root.append(...bars(c.test.before, 'before', 0.05, 0.42), ...bars(c.test.after, 'after', 0.53, 0.42));
  return h(
    'figure',
    {
      class: 'chart reliability-figure',
      'data-chart': 'reliability',
      'data-ece-before': c.test.eceBefore.toFixed(4),
      'data-ece-after': c.test.eceAfter.toFixed(4),
      'data-temperature': c.temperature.toFixed(4),
    },
    root as unknown as HTMLElement,
    h(
      'figcaption',
      {},
      h('span', { class: 'swatch before' }),
      ` before (ECE ${c.test.eceBefore.toFixed(3)})  `,
      h('span', { class: 'swatch after' }),
      ` after temperature T = ${c.temperature.toFixed(2)} (ECE ${c.test.eceAfter.toFixed(3)}); test split. On validation, where T was fitted: ECE ${c.eceBefore.toFixed(3)} → ${c.eceAfter.toFixed(3)}.`,
    ),
  );
}
