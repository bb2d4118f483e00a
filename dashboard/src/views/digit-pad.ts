/**
 * A drawing pad that turns a hand-drawn digit into the 64 features of the UCI optical digits: those are
 * 32x32 binary bitmaps, size-normalised, then counted in 4x4 blocks (0..16 "on" pixels per block).
 * The pad does the same: it crops the ink, scales it into a 32x32 frame, thresholds, and counts blocks.
 */
import { h } from '../dom';

const PAD = 256;
const FRAME = 32;
const GRID = 8;
const BLOCK = FRAME / GRID;

export interface DigitPad {
  el: HTMLElement;
  /** The 64 features (row-major 8x8, 0..16) of what is drawn; null when nothing is. */
  features(): number[] | null;
  clear(): void;
  /** Shows given features in the 8x8 preview (e.g. an example row) instead of a drawing. */
  show(features: number[]): void;
}

function inkBox(img: ImageData): { x: number; y: number; w: number; h: number } | null {
  let x0 = img.width;
  let y0 = img.height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (img.data[(y * img.width + x) * 4 + 3]! > 0) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return x1 < 0 ? null : { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

export function digitPad(onStroke: () => void): DigitPad {
  const canvas = h('canvas', { class: 'pad', width: PAD, height: PAD, 'aria-label': 'Draw a digit here' });
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const frame = document.createElement('canvas');
  frame.width = frame.height = FRAME;
  const fctx = frame.getContext('2d', { willReadFrequently: true })!;
  const cells = Array.from({ length: GRID * GRID }, () => h('span', { class: 'cell' }));
  const preview = h('div', { class: 'preview', 'aria-label': 'What the model sees: 8x8 pixels, 0..16' }, cells);

  let drawing = false;
  let last: { x: number; y: number } | null = null;
  const at = (ev: PointerEvent) => {
    const r = canvas.getBoundingClientRect();
    return { x: ((ev.clientX - r.left) * PAD) / r.width, y: ((ev.clientY - r.top) * PAD) / r.height };
  };
  const stroke = (to: { x: number; y: number }) => {
    ctx.lineWidth = 20;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.strokeStyle = '#111';
    ctx.beginPath();
    const from = last ?? to;
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x + (from === to ? 0.01 : 0), to.y);
    ctx.stroke();
    last = to;
  };
  canvas.addEventListener('pointerdown', (ev) => {
    drawing = true;
    last = null;
    canvas.setPointerCapture(ev.pointerId);
    stroke(at(ev));
    ev.preventDefault();
  });
  canvas.addEventListener('pointermove', (ev) => {
    if (drawing) stroke(at(ev));
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    last = null;
    render(features());
    onStroke();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);

  function render(values: number[] | null) {
    cells.forEach((c, i) => {
      const v = values?.[i] ?? 0;
      c.style.background = `rgb(${255 - v * 15}, ${255 - v * 15}, ${255 - v * 14})`;
      c.title = String(v);
    });
    preview.dataset.features = values ? values.join(',') : '';
  }

  function features(): number[] | null {
    const box = inkBox(ctx.getImageData(0, 0, PAD, PAD));
    if (!box) return null;
    // Fit the ink's longer side to the frame, keep its aspect, centre it: the dataset's normalisation.
    const scale = FRAME / Math.max(box.w, box.h);
    const w = box.w * scale;
    const hgt = box.h * scale;
    fctx.clearRect(0, 0, FRAME, FRAME);
    fctx.imageSmoothingEnabled = true;
    fctx.drawImage(canvas, box.x, box.y, box.w, box.h, (FRAME - w) / 2, (FRAME - hgt) / 2, w, hgt);
    const px = fctx.getImageData(0, 0, FRAME, FRAME).data;
    const out = new Array<number>(GRID * GRID).fill(0);
    for (let y = 0; y < FRAME; y++) {
      for (let x = 0; x < FRAME; x++) {
        if (px[(y * FRAME + x) * 4 + 3]! >= 128) out[Math.floor(y / BLOCK) * GRID + Math.floor(x / BLOCK)]! += 1;
      }
    }
    return out;
  }

  render(null);
  const el = h(
    'div',
    { class: 'digit-pad' },
    canvas,
    h('div', { class: 'preview-wrap' }, h('span', { class: 'muted small' }, 'model input (8×8, 0–16)'), preview),
  );
  return {
    el,
    features,
    clear() {
      ctx.clearRect(0, 0, PAD, PAD);
      render(null);
    },
    show(values) {
      ctx.clearRect(0, 0, PAD, PAD);
      render(values);
    },
  };
}
