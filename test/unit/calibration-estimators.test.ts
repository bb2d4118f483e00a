import { describe, expect, it } from 'vitest';
import {
  debiasedCalibrationError,
  debiasedSquaredError,
  eceNoiseFloor,
  equalMassCalibrationError,
  expectedCalibrationError,
  fitTemperature,
  temperedNll,
} from '../../models/calibration';
import { Rng } from '../../models/random';

const CLASSES = 10;

function softmaxRows(z: Float64Array, scale: number): Float32Array {
  const out = new Float32Array(z.length);
  for (let r = 0; r < z.length / CLASSES; r++) {
    let max = -Infinity;
    for (let c = 0; c < CLASSES; c++) max = Math.max(max, z[r * CLASSES + c]! * scale);
    let s = 0;
    for (let c = 0; c < CLASSES; c++) s += out[r * CLASSES + c] = Math.exp(z[r * CLASSES + c]! * scale - max);
    for (let c = 0; c < CLASSES; c++) out[r * CLASSES + c]! /= s;
  }
  return out;
}

/** Labels drawn from softmax(z) (the truth); the model reports softmax(k z): calibrated at k = 1, under < 1 < over. */
function model(rows: number, k: number, seed: number) {
  const rng = new Rng(seed);
  const z = Float64Array.from({ length: rows * CLASSES }, () => 3 * rng.normal());
  const truth = softmaxRows(z, 1);
  const labels = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const u = rng.next();
    let acc = 0;
    let c = 0;
    for (; c < CLASSES - 1; c++) if (u < (acc += truth[r * CLASSES + c]!)) break;
    labels[r] = c;
  }
  return { probs: softmaxRows(z, k), labels };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const stdErr = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1) / xs.length);
};
/** 200 independent 269-row samples (digits' test split size) of a model with sharpness k. */
const samples = (k: number) => Array.from({ length: 200 }, (_, i) => model(269, k, 100 + i));

describe('the golden-section fit of T', () => {
  it('lands on the NLL minimum a dense grid over log T finds, for under- and over-confident models', () => {
    for (const [k, seed] of [
      [0.6, 1],
      [1.6, 2],
      [3, 3],
    ] as const) {
      const { probs, labels } = model(269, k, seed);
      const fit = fitTemperature(probs, labels, CLASSES);
      let grid = { t: 1, nll: Infinity };
      for (let lt = Math.log(0.05); lt <= Math.log(20); lt += 1e-3) {
        const nll = temperedNll(probs, labels, CLASSES, Math.exp(lt));
        if (nll < grid.nll) grid = { t: Math.exp(lt), nll };
      }
      expect(Math.abs(Math.log(fit.temperature / grid.t))).toBeLessThan(1e-3);
      expect(fit.nllAfter).toBeLessThanOrEqual(grid.nll + 1e-12);
    }
  });
});

describe('calibration error estimators on few rows', () => {
  it('debiased L2 (Kumar et al. 2019): ~0 on average for a calibrated model at 269 rows, where the plug-in ECE is not', () => {
    const runs = samples(1);
    const squared = runs.map((s) => debiasedSquaredError(s.probs, s.labels, CLASSES));
    // Unbiased for 0: the mean over 200 samples is within 3 standard errors of it.
    expect(Math.abs(mean(squared))).toBeLessThan(3 * stdErr(squared));
    const plugIn = mean(runs.map((s) => expectedCalibrationError(s.probs, s.labels, CLASSES)));
    expect(plugIn).toBeGreaterThan(0.04);
    expect(mean(runs.map((s) => debiasedCalibrationError(s.probs, s.labels, CLASSES)))).toBeLessThan(plugIn / 2);
  });

  it('debiased L2: on a miscalibrated model, 269 rows estimate on average what 50,000 rows measure', () => {
    for (const k of [0.6, 2]) {
      const small = mean(samples(k).map((s) => debiasedSquaredError(s.probs, s.labels, CLASSES)));
      const big = model(50_000, k, 7);
      const reference = debiasedSquaredError(big.probs, big.labels, CLASSES);
      expect(reference).toBeGreaterThan(0.01);
      expect(Math.abs(small / reference - 1)).toBeLessThan(0.15);
    }
  });

  it('equal-mass bins split the sorted confidences into equal counts (equal-width bins lump these into one)', () => {
    // Two classes, confidences 0.5, 0.6, 0.9, 1.0; the first row wrong. Two equal-mass bins: {0.5, 0.6} with
    // accuracy 0.5 against 0.55, {0.9, 1.0} with 1 against 0.95: ECE = (2 x 0.05 + 2 x 0.05) / 4 = 0.05.
    const probs = Float32Array.from([0.5, 0.5, 0.6, 0.4, 0.9, 0.1, 1, 0]);
    const labels = Int32Array.from([1, 0, 0, 0]);
    expect(equalMassCalibrationError(probs, labels, 2, 2)).toBeCloseTo(0.05, 6);
    // Equal-width (2 bins: [0, 0.5), [0.5, 1]) puts all four in the upper bin: 0.75 against 0.75.
    expect(expectedCalibrationError(probs, labels, 2, 2)).toBeCloseTo(0, 6);
    // 7 rows in 3 bins: sizes 3, 2, 2 (the larger bins first, as numpy's array_split), the 0.8 row wrong:
    // |2 - 1.8| + |1 - 1.7| + |2 - 1.95| = 0.95 over 7 rows.
    const conf = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1];
    const seven = Float32Array.from(conf.flatMap((c) => [c, 1 - c]));
    const right = Int32Array.from([1, 0, 0, 1, 0, 0, 0]);
    expect(equalMassCalibrationError(seven, right, 2, 3)).toBeCloseTo(0.95 / 7, 6);
    // More bins than rows: one row per bin.
    expect(equalMassCalibrationError(probs, labels, 2, 15)).toBeCloseTo((0.5 + 0.4 + 0.1 + 0) / 4, 6);
  });

  it('the ECE noise floor is what a calibrated model reads on these rows, seeded, and falls with more rows', () => {
    const runs = samples(1).slice(0, 50);
    const observed = mean(runs.map((s) => expectedCalibrationError(s.probs, s.labels, CLASSES)));
    const floors = runs.map((s) => eceNoiseFloor(s.probs, CLASSES, { draws: 100, seed: 3 }));
    expect(Math.abs(mean(floors.map((f) => f.mean)) / observed - 1)).toBeLessThan(0.1);
    for (const f of floors) expect(f.p90).toBeGreaterThanOrEqual(f.mean);
    const { probs } = runs[0]!;
    expect(eceNoiseFloor(probs, CLASSES, { seed: 9 })).toEqual(eceNoiseFloor(probs, CLASSES, { seed: 9 }));
    const large = model(4000, 1, 11).probs;
    expect(eceNoiseFloor(large, CLASSES).mean).toBeLessThan(eceNoiseFloor(probs, CLASSES).mean / 2);
  });
});
