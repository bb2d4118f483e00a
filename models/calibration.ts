/**
 * Temperature scaling (Guo et al. 2017, "On Calibration of Modern Neural Networks"): one scalar T divides the
 * logits, fitted on the validation split by minimising the negative log-likelihood. It never changes which
 * class wins, only how confident the model says it is, so accuracy is untouched and `confidence` / `review`
 * become trustworthy.
 *
 * Everything here works on probabilities (rows x classes, row-major), because that is what a served model
 * (a single network or an ensemble's average) produces: log p differs from the logits by a per-row constant,
 * which softmax ignores, so softmax(log p / T) is exactly the temperature-scaled softmax.
 */
import { Rng } from './random';
import { argmax } from './scoring';

export const ECE_BINS = 15;
/** The search interval of T (golden-section on log T). */
const T_MIN = 0.05;
const T_MAX = 20;
const GOLDEN_STEPS = 60;
/** Floor of a probability before its log (a float32 softmax can round a class to exactly 0). */
const P_FLOOR = 1e-12;

/** Probabilities rescaled by 1/T in log space, row by row, into a new array. */
export function applyTemperature(probs: Float32Array, classes: number, temperature: number): Float32Array {
  return temperInPlace(probs.slice(), classes, temperature);
}

/** softmax(log p / T) row by row, overwriting `probs` (serving applies it to a fresh output buffer). */
export function temperInPlace(probs: Float32Array, classes: number, temperature: number): Float32Array {
  if (!(temperature > 0) || !Number.isFinite(temperature))
    throw new RangeError(`temperature must be a positive finite number (got ${temperature})`);
  const rows = probs.length / classes;
  for (let r = 0; r < rows; r++) {
    const o = r * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) {
      const z = Math.log(Math.max(probs[o + c]!, P_FLOOR)) / temperature;
      probs[o + c] = z;
      if (z > max) max = z;
    }
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += probs[o + c] = Math.exp(probs[o + c]! - max);
    for (let c = 0; c < classes; c++) probs[o + c]! /= sum;
  }
  return probs;
}

/** Mean negative log-likelihood of the labels under temperature T. */
export function temperedNll(probs: Float32Array, labels: Int32Array, classes: number, temperature: number): number {
  const rows = labels.length;
  let total = 0;
  const z = new Float64Array(classes);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) {
      z[c] = Math.log(Math.max(probs[r * classes + c]!, P_FLOOR)) / temperature;
      if (z[c]! > max) max = z[c]!;
    }
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(z[c]! - max);
    total += max + Math.log(sum) - z[labels[r]!]!;
  }
  return total / rows;
}

/**
 * Expected calibration error with `bins` equal-width confidence bins (top-label form): the row-weighted mean
 * of |accuracy - mean confidence| per bin.
 */
export function expectedCalibrationError(
  probs: Float32Array,
  labels: Int32Array,
  classes: number,
  bins = ECE_BINS,
): number {
  return reliability(probs, labels, classes, bins).ece;
}

export interface ReliabilityBin {
  /** Upper edge of the bin's confidence range (lower edge = previous bin's). */
  upper: number;
  rows: number;
  accuracy: number | null;
  confidence: number | null;
}

/** The reliability diagram's data and its ECE. */
export function reliability(
  probs: Float32Array,
  labels: Int32Array,
  classes: number,
  bins = ECE_BINS,
): { bins: ReliabilityBin[]; ece: number } {
  const rows = labels.length;
  if (probs.length !== rows * classes) throw new Error(`expected ${rows * classes} probabilities, got ${probs.length}`);
  const count = new Array<number>(bins).fill(0);
  const hits = new Array<number>(bins).fill(0);
  const conf = new Array<number>(bins).fill(0);
  for (let r = 0; r < rows; r++) {
    const arg = argmax(probs, classes, r);
    const p = probs[r * classes + arg]!;
    const b = Math.min(bins - 1, Math.floor(p * bins));
    count[b]! += 1;
    conf[b]! += p;
    if (arg === labels[r]) hits[b]! += 1;
  }
  let ece = 0;
  const out: ReliabilityBin[] = [];
  for (let b = 0; b < bins; b++) {
    const n = count[b]!;
    if (n) ece += (n / rows) * Math.abs(hits[b]! / n - conf[b]! / n);
    out.push({
      upper: (b + 1) / bins,
      rows: n,
      accuracy: n ? hits[b]! / n : null,
      confidence: n ? conf[b]! / n : null,
    });
  }
  return { bins: out, ece };
}

/** Each row's top-label confidence and whether that label is right (the data every top-label CE bins). */
function topLabel(probs: Float32Array, labels: Int32Array, classes: number) {
  const rows = labels.length;
  if (probs.length !== rows * classes) throw new Error(`expected ${rows * classes} probabilities, got ${probs.length}`);
  const confidence = new Float64Array(rows);
  const correct = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    const arg = argmax(probs, classes, r);
    confidence[r] = probs[r * classes + arg]!;
    correct[r] = arg === labels[r] ? 1 : 0;
  }
  return { confidence, correct };
}

/**
 * Equal-mass bins: the rows sorted by confidence, cut into `bins` runs whose sizes differ by at most one (as
 * numpy's array_split). A model at 97% accuracy puts most rows above 0.93, where equal-width bins lump them
 * into one bin and leave single rows alone in the others.
 */
function equalMassBins(confidence: Float64Array, bins: number): Int32Array[] {
  const order = Int32Array.from(confidence.keys()).sort((a, b) => confidence[a]! - confidence[b]! || a - b);
  const n = order.length;
  const k = Math.min(bins, n);
  const out: Int32Array[] = [];
  for (let b = 0, start = 0; b < k; b++) {
    const size = Math.floor(n / k) + (b < n % k ? 1 : 0);
    out.push(order.subarray(start, start + size));
    start += size;
  }
  return out;
}

/** Top-label ECE (L1, plug-in) with equal-mass bins instead of equal-width ones. */
export function equalMassCalibrationError(
  probs: Float32Array,
  labels: Int32Array,
  classes: number,
  bins = ECE_BINS,
): number {
  const { confidence, correct } = topLabel(probs, labels, classes);
  let ece = 0;
  for (const rows of equalMassBins(confidence, bins)) {
    let hits = 0;
    let conf = 0;
    for (const r of rows) {
      hits += correct[r]!;
      conf += confidence[r]!;
    }
    ece += Math.abs(hits - conf) / labels.length;
  }
  return ece;
}

/**
 * The debiased top-label L2 calibration error of Kumar, Liang & Ma 2019 ("Verified Uncertainty Calibration",
 * their `unbiased_l2_ce` over equal-mass bins). The plug-in (accuracy - confidence)^2 of a bin of n rows is
 * inflated by the variance of its accuracy, about a(1 - a) / n even for a perfectly calibrated model; each
 * bin subtracts the unbiased estimate of that variance, a(1 - a) / (n - 1), so a calibrated model scores ~0
 * at any size instead of a floor set by the row count. It is an L2 error (root of the weighted mean square),
 * so compare it with itself (before vs after), not with the L1 ECE. Bins of fewer than 2 rows count 0.
 */
export function debiasedCalibrationError(
  probs: Float32Array,
  labels: Int32Array,
  classes: number,
  bins = ECE_BINS,
): number {
  return Math.sqrt(Math.max(0, debiasedSquaredError(probs, labels, classes, bins)));
}

/** The debiased squared error before clipping at 0 and the root (unbiased itself: may be negative). */
export function debiasedSquaredError(
  probs: Float32Array,
  labels: Int32Array,
  classes: number,
  bins = ECE_BINS,
): number {
  const { confidence, correct } = topLabel(probs, labels, classes);
  let total = 0;
  for (const rows of equalMassBins(confidence, bins)) {
    const n = rows.length;
    if (n < 2) continue;
    let hits = 0;
    let conf = 0;
    for (const r of rows) {
      hits += correct[r]!;
      conf += confidence[r]!;
    }
    const acc = hits / n;
    total += (n / labels.length) * ((acc - conf / n) ** 2 - (acc * (1 - acc)) / (n - 1));
  }
  return total;
}

/**
 * What the 15-bin ECE reads for a perfectly calibrated model with these confidences on this many rows: labels
 * are drawn from the probabilities themselves (so calibration holds by construction) `draws` times, seeded.
 * An ECE at this level says nothing about miscalibration; it is the estimator's own bias.
 */
export function eceNoiseFloor(
  probs: Float32Array,
  classes: number,
  options: { draws?: number; seed?: number; bins?: number } = {},
): { mean: number; p90: number } {
  const draws = options.draws ?? 200;
  const rng = new Rng(options.seed ?? 1);
  const rows = probs.length / classes;
  const labels = new Int32Array(rows);
  const eces: number[] = [];
  for (let d = 0; d < draws; d++) {
    for (let r = 0; r < rows; r++) {
      const u = rng.next();
      let acc = 0;
      let c = 0;
      for (; c < classes - 1; c++) if (u < (acc += probs[r * classes + c]!)) break;
      labels[r] = c;
    }
    eces.push(expectedCalibrationError(probs, labels, classes, options.bins));
  }
  eces.sort((a, b) => a - b);
  return {
    mean: eces.reduce((a, b) => a + b, 0) / draws,
    p90: eces[Math.min(draws - 1, Math.floor(0.9 * draws))]!,
  };
}

export interface Calibration {
  temperature: number;
  eceBefore: number;
  eceAfter: number;
  nllBefore: number;
  nllAfter: number;
}

/**
 * Fits T on (probabilities, labels) by golden-section search on log T over [0.05, 20]; the NLL is unimodal
 * in log T for these families in practice, and the search keeps T = 1 when nothing beats it.
 */
export function fitTemperature(probs: Float32Array, labels: Int32Array, classes: number): Calibration {
  if (labels.length === 0) throw new Error('temperature scaling needs at least one validation row');
  const f = (logT: number) => temperedNll(probs, labels, classes, Math.exp(logT));
  const ratio = (Math.sqrt(5) - 1) / 2;
  let a = Math.log(T_MIN);
  let b = Math.log(T_MAX);
  let c = b - ratio * (b - a);
  let d = a + ratio * (b - a);
  let fc = f(c);
  let fd = f(d);
  for (let i = 0; i < GOLDEN_STEPS; i++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - ratio * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + ratio * (b - a);
      fd = f(d);
    }
  }
  const nllBefore = f(0);
  let temperature = Math.exp((a + b) / 2);
  let nllAfter = f(Math.log(temperature));
  if (!(nllAfter < nllBefore)) {
    temperature = 1;
    nllAfter = nllBefore;
  }
  return {
    temperature,
    eceBefore: expectedCalibrationError(probs, labels, classes),
    eceAfter: expectedCalibrationError(applyTemperature(probs, classes, temperature), labels, classes),
    nllBefore,
    nllAfter,
  };
}
