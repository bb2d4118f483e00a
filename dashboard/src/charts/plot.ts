/**
 * uPlot charts that follow their container's width (phone and desktop alike), with shared colours.
 * Every chart element carries data-points (the finite points it was given) and data-drawn (set by
 * uPlot's draw hook), which the browser test reads together with the canvas pixels.
 */
import uPlot from 'uplot';
import { h } from '../dom';

/** Tableau 10: distinguishable, and still readable for the common colour-vision deficiencies. */
export const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

const OPTIMIZER_COLOURS: Record<string, string> = {
  sgd: '#e15759',
  momentum: '#f28e2b',
  rmsprop: '#59a14f',
  adam: '#4e79a7',
};
export const optimizerColour = (name: string): string => OPTIMIZER_COLOURS[name] ?? '#9c755f';
export const DIVERGED_COLOUR = '#7f7f7f';

export interface Chart {
  el: HTMLElement;
  destroy(): void;
}

function finitePoints(data: uPlot.AlignedData): number {
  let n = 0;
  const xs = data[0];
  for (let s = 1; s < data.length; s++) {
    const ys = data[s]!;
    for (let i = 0; i < ys.length; i++) {
      const y = ys[i];
      if (typeof y === 'number' && Number.isFinite(y) && Number.isFinite(xs[i])) n++;
    }
  }
  return n;
}

export function chart(
  name: string,
  description: string,
  height: number,
  options: Omit<uPlot.Options, 'width' | 'height'>,
  data: uPlot.AlignedData,
): Chart {
  const el = h('div', {
    class: 'chart',
    'data-chart': name,
    role: 'img',
    'aria-label': description,
    'data-points': finitePoints(data),
  });
  const plot = new uPlot(
    {
      ...options,
      width: 320,
      height,
      hooks: { ...options.hooks, draw: [...(options.hooks?.draw ?? []), () => el.setAttribute('data-drawn', 'true')] },
    },
    data,
    el,
  );
  // uPlot draws at a fixed pixel size: re-size it whenever the container's width changes.
  const observer = new ResizeObserver(() => {
    const width = Math.floor(el.clientWidth);
    if (width > 0 && width !== plot.width) plot.setSize({ width, height });
  });
  observer.observe(el);
  return {
    el,
    destroy() {
      observer.disconnect();
      plot.destroy();
    },
  };
}

/** A scatter series: points only, no connecting line. */
export function pointSeries(label: string, colour: string, size = 7): uPlot.Series {
  return {
    label,
    stroke: colour,
    fill: colour,
    width: 0,
    paths: () => null,
    points: { show: true, size, width: 1, stroke: colour, fill: colour },
  };
}

/**
 * uPlot puts a tick at every 1..9 x 10^k on a log axis; labelling only some mantissas (1, or 1-2-5)
 * keeps the labels from running into each other. Null splits (filtered ticks) get no label.
 */
export function logLabel(v: number | null, mantissas: number[], fmt: (v: number) => string): string {
  if (v === null || !(v > 0)) return '';
  const m = Math.round(v / 10 ** Math.floor(Math.log10(v) + 1e-9));
  return mantissas.includes(m) ? fmt(v) : '';
}

/** Axis styling shared by all charts. */
export function axis(label: string, extra: Partial<uPlot.Axis> = {}): uPlot.Axis {
  return {
    label,
    labelSize: 18,
    labelFont: '12px system-ui, sans-serif',
    font: '11px system-ui, sans-serif',
    stroke: '#445',
    grid: { stroke: '#e6e8ee', width: 1 },
    ticks: { stroke: '#cfd3dc', width: 1 },
    ...extra,
  };
}

/** A legend of coloured swatches, shared by charts whose uPlot legends are off. */
export function legend(items: { colour: string; label: string; dashed?: boolean }[]): HTMLElement {
  return h(
    'ul',
    { class: 'legend' },
    items.map((i) =>
      h('li', {}, h('span', { class: `swatch${i.dashed ? ' dashed' : ''}`, style: `--c:${i.colour}` }), i.label),
    ),
  );
}
