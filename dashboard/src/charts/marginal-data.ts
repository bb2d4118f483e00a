/**
 * Per-hyperparameter marginal plots, the data side (pure, no DOM): for every parameter the search
 * varied, where each trial lands on that parameter's axis, and a rough measure of how much it matters.
 */

export interface ScoredTrial {
  trial: number;
  params: Record<string, unknown>;
  /** Validation accuracy of a complete trial. */
  score: number;
}

export interface MarginalAxis {
  /** log1m: a log axis of 1 - v, for parameters near 1 (momentum, beta2) whose meaningful steps are 0.9, 0.99, 0.999. */
  kind: 'log' | 'log1m' | 'linear' | 'category';
  min: number;
  max: number;
  ticks: { at: number; label: string }[];
}

export interface Marginal {
  name: string;
  axis: MarginalAxis;
  /** Sorted by x. x is in axis coordinates: log10(v) on a log axis, -log10(1 - v) on a log1m axis, the (jittered) category index. */
  points: { x: number; y: number; trial: number }[];
  /**
   * Spread of the mean score across the parameter's groups (categories, or terciles of a numeric
   * parameter): a coarse importance that ignores interactions; null with fewer than two groups.
   */
  spread: number | null;
}

/**
 * Integer parameters with at most this many distinct values that look like a choice list (consecutive
 * integers such as depth, or powers of two such as batch size) are shown as categories; a width that
 * happens to take few values stays on a numeric axis.
 */
const MAX_NUMERIC_CATEGORIES = 6;
/** A positive numeric parameter spanning this ratio or more gets a log axis (the same for 1 - v near 1). */
const LOG_RATIO = 20;

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function looksDiscrete(values: number[]): boolean {
  if (!values.every(Number.isInteger)) return false;
  const powerOfTwo = (v: number) => v > 0 && (v & (v - 1)) === 0;
  return Math.max(...values) - Math.min(...values) <= MAX_NUMERIC_CATEGORIES - 1 || values.every(powerOfTwo);
}

export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e4) return v.toExponential(0).replace('e-', 'e−');
  return String(Number(v.toPrecision(3)));
}

/** Evenly spaced ticks at 1, 2 or 5 times a power of ten. */
export function niceTicks(min: number, max: number, count = 4): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Deterministic horizontal jitter per trial, so points of one category do not hide each other. */
const jitter = (trial: number) => (((trial * 0.6180339887) % 1) - 0.5) * 0.5;

function spreadOf(groups: number[][]): number | null {
  const means = groups.filter((g) => g.length > 0).map((g) => g.reduce((a, b) => a + b, 0) / g.length);
  return means.length < 2 ? null : Math.max(...means) - Math.min(...means);
}

function categorical(name: string, rows: { trial: number; value: unknown; score: number }[]): Marginal {
  const key = (v: unknown) => JSON.stringify(v);
  const distinct = [...new Map(rows.map((r) => [key(r.value), r.value])).values()];
  distinct.sort((a, b) => (isNum(a) && isNum(b) ? a - b : String(a).localeCompare(String(b))));
  const index = new Map(distinct.map((v, i) => [key(v), i]));
  const points = rows
    .map((r) => ({ x: index.get(key(r.value))! + jitter(r.trial), y: r.score, trial: r.trial }))
    .sort((a, b) => a.x - b.x);
  const groups = distinct.map((v) => rows.filter((r) => key(r.value) === key(v)).map((r) => r.score));
  return {
    name,
    axis: {
      kind: 'category',
      min: -0.6,
      max: distinct.length - 0.4,
      ticks: distinct.map((v, i) => ({ at: i, label: isNum(v) ? formatTick(v) : String(v) })),
    },
    points,
    spread: spreadOf(groups),
  };
}

function terciles(rows: { value: number; score: number }[]): number[][] {
  const sorted = [...rows].sort((a, b) => a.value - b.value);
  const n = sorted.length;
  return [0, 1, 2].map((k) => sorted.slice(Math.round((k * n) / 3), Math.round(((k + 1) * n) / 3)).map((r) => r.score));
}

function numeric(name: string, rows: { trial: number; value: number; score: number }[]): Marginal {
  const values = rows.map((r) => r.value);
  const positives = values.filter((v) => v > 0);
  const ratio = (xs: number[]) => Math.max(...xs) / Math.min(...xs);
  const gaps = values.map((v) => 1 - v);
  let axis: MarginalAxis;
  let toX: (v: number) => number;
  // Axis range from the data; ticks on the decades inside it.
  const decades = (xs: number[]) => {
    const lo = Math.min(...xs) - 0.3;
    const hi = Math.max(...xs) + 0.3;
    const out: number[] = [];
    for (let d = Math.ceil(lo); d <= Math.floor(hi); d++) out.push(d);
    return { lo, hi, out };
  };
  if (positives.length >= 2 && values.every((v) => v >= 0) && ratio(positives) >= LOG_RATIO) {
    // Zero (a penalty switched off) has no place on a log axis: it gets its own lane one decade below.
    const zeroLane = values.some((v) => v === 0) ? Math.floor(Math.log10(Math.min(...positives))) - 1 : null;
    toX = (v) => (v === 0 ? zeroLane! : Math.log10(v));
    const { lo, hi, out } = decades(values.map(toX));
    const ticks = out.map((d) => ({ at: d, label: d === zeroLane ? '0' : d < -2 ? `1e−${-d}` : formatTick(10 ** d) }));
    axis = { kind: 'log', min: lo, max: hi, ticks };
  } else if (gaps.every((g) => g > 0 && g <= 1) && Math.max(...values) >= 0.9 && ratio(gaps) >= LOG_RATIO) {
    toX = (v) => -Math.log10(1 - v);
    const { lo, hi, out } = decades(values.map(toX));
    // d decades from 1: 0.9, 0.99, 0.999 (toFixed, since 3 significant digits would round 0.9999 to 1).
    axis = { kind: 'log1m', min: lo, max: hi, ticks: out.map((d) => ({ at: d, label: (1 - 10 ** -d).toFixed(d) })) };
  } else {
    const min = Math.min(...values);
    const max = Math.max(...values);
    const pad = (max - min) * 0.06 || 1;
    toX = (v) => v;
    axis = {
      kind: 'linear',
      min: min - pad,
      max: max + pad,
      ticks: niceTicks(min - pad, max + pad).map((v) => ({ at: v, label: formatTick(v) })),
    };
  }
  return {
    name,
    axis,
    points: rows.map((r) => ({ x: toX(r.value), y: r.score, trial: r.trial })).sort((a, b) => a.x - b.x),
    spread: spreadOf(terciles(rows)),
  };
}

/** One marginal per parameter that took at least two values among the scored trials, most influential first. */
export function marginals(trials: ScoredTrial[]): Marginal[] {
  const names = [...new Set(trials.flatMap((t) => Object.keys(t.params)))];
  const out: Marginal[] = [];
  for (const name of names) {
    const rows = trials
      .filter((t) => name in t.params && t.params[name] !== null)
      .map((t) => ({ trial: t.trial, value: t.params[name], score: t.score }));
    const distinct = new Set(rows.map((r) => JSON.stringify(r.value)));
    if (rows.length < 2 || distinct.size < 2) continue;
    const continuous =
      rows.every((r) => isNum(r.value)) &&
      !(distinct.size <= MAX_NUMERIC_CATEGORIES && looksDiscrete(rows.map((r) => r.value as number)));
    out.push(
      continuous ? numeric(name, rows as { trial: number; value: number; score: number }[]) : categorical(name, rows),
    );
  }
  return out.sort((a, b) => (b.spread ?? -1) - (a.spread ?? -1) || a.name.localeCompare(b.name));
}
