import { describe, expect, it } from 'vitest';
import {
  applyTemperature,
  expectedCalibrationError,
  fitTemperature,
  reliability,
  temperedNll,
} from '../../models/calibration';
import { accuracyOf, averageProbabilities, selectEnsemble } from '../../models/ensemble';
import { Rng } from '../../models/random';

const CLASSES = 4;

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

/** Labels drawn from softmax(z) (the truth), and a model that reports softmax(k z): overconfident for k > 1. */
function overconfident(rows: number, k: number, seed: number) {
  const rng = new Rng(seed);
  const z = Float64Array.from({ length: rows * CLASSES }, () => 1.5 * rng.normal());
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

describe('temperature scaling', () => {
  it('recovers the temperature of an overconfident model and at least halves its ECE', () => {
    const { probs, labels } = overconfident(4000, 3, 1);
    const cal = fitTemperature(probs, labels, CLASSES);
    expect(cal.temperature).toBeGreaterThan(2.6);
    expect(cal.temperature).toBeLessThan(3.4);
    expect(cal.eceAfter).toBeLessThan(cal.eceBefore / 2);
    expect(cal.nllAfter).toBeLessThan(cal.nllBefore);
    // The fitted T minimises the NLL: nudging it either way does not help.
    for (const f of [0.9, 1.1])
      expect(temperedNll(probs, labels, CLASSES, cal.temperature * f)).toBeGreaterThan(cal.nllAfter);
  });

  it('keeps an already calibrated model near T = 1, and never changes the predicted class', () => {
    const { probs, labels } = overconfident(4000, 1, 2);
    const cal = fitTemperature(probs, labels, CLASSES);
    expect(Math.abs(Math.log(cal.temperature))).toBeLessThan(0.1);
    const scaled = applyTemperature(probs, CLASSES, 2.5);
    expect(accuracyOf(scaled, labels, CLASSES)).toBe(accuracyOf(probs, labels, CLASSES));
    expect(applyTemperature(probs, CLASSES, 1)[5]).toBeCloseTo(probs[5]!, 6);
  });

  it('ECE: a perfectly calibrated histogram scores 0, a confident wrong model scores high', () => {
    // 10 rows at confidence 0.7 of which 7 are right.
    const probs = new Float32Array(10 * 2);
    const labels = new Int32Array(10);
    for (let r = 0; r < 10; r++) {
      probs[r * 2] = 0.7;
      probs[r * 2 + 1] = 0.3;
      labels[r] = r < 7 ? 0 : 1;
    }
    expect(expectedCalibrationError(probs, labels, 2)).toBeCloseTo(0, 6);
    labels.fill(1);
    expect(expectedCalibrationError(probs, labels, 2)).toBeCloseTo(0.7, 6);
    const diagram = reliability(probs, labels, 2, 10);
    expect(diagram.bins.reduce((a, b) => a + b.rows, 0)).toBe(10);
  });
});

describe('ensemble selection', () => {
  /** Three models, each right on a different 2/3 of the rows and confidently wrong on the rest. */
  function complementary(rows: number) {
    const labels = Int32Array.from({ length: rows }, (_, r) => r % CLASSES);
    const model = (skip: number) => {
      const p = new Float32Array(rows * CLASSES);
      for (let r = 0; r < rows; r++) {
        const wrong = r % 3 === skip;
        const cls = wrong ? (labels[r]! + 1) % CLASSES : labels[r]!;
        for (let c = 0; c < CLASSES; c++) p[r * CLASSES + c] = c === cls ? 0.6 : 0.4 / (CLASSES - 1);
      }
      return p;
    };
    return { labels, candidates: [0, 1, 2].map((skip) => ({ id: 10 + skip, probs: model(skip) })) };
  }

  it('an ensemble of complementary models beats every single one on validation', () => {
    const { labels, candidates } = complementary(300);
    const single = Math.max(...candidates.map((c) => accuracyOf(c.probs, labels, CLASSES)));
    const sel = selectEnsemble(candidates, labels, CLASSES);
    expect(sel.valAccuracy).toBeGreaterThan(single);
    expect(sel.members.map((m) => m.id).sort()).toEqual([10, 11, 12]);
    const avg = averageProbabilities(
      sel.members.map((m) => ({ probs: candidates.find((c) => c.id === m.id)!.probs, weight: m.weight })),
    );
    expect(accuracyOf(avg, labels, CLASSES)).toBe(sel.valAccuracy);
    expect(selectEnsemble(candidates, labels, CLASSES)).toEqual(sel);
  });

  it('a dominant model stays alone, and the member cap holds', () => {
    const { labels, candidates } = complementary(300);
    const perfect = new Float32Array(300 * CLASSES);
    for (let r = 0; r < 300; r++) perfect[r * CLASSES + labels[r]!] = 1;
    const sel = selectEnsemble([...candidates, { id: 99, probs: perfect }], labels, CLASSES);
    expect(sel.members).toEqual([{ id: 99, weight: 1 }]);
    const capped = selectEnsemble(candidates, labels, CLASSES, { maxMembers: 2 });
    expect(capped.members.length).toBeLessThanOrEqual(2);
  });
});
