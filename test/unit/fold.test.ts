import { describe, expect, it } from 'vitest';
import { ACTIVATIONS, type ModelConfig, resolveConfig } from '../../models/config';
import type { Standardisation } from '../../models/dataset';
import { foldNetwork } from '../../models/fold';
import { forwardFoldedRow, forwardUnfoldedRow } from '../oracles/forward-js';
import { initialWeights, type NetworkSpec, type NetworkWeights, specOf } from '../../models/network';
import { mixSeed, Rng } from '../../models/random';

const FEATURES = 6;
const WIDTH = 5;
const CLASSES = 4;
const TOL = 1e-5;

/** initialWeights, then random biases and BN parameters (positive variances, gammas of both signs). */
function randomWeights(config: ModelConfig, seed: number, forceBn = false): NetworkWeights {
  const w = initialWeights(config, FEATURES, CLASSES, seed);
  const rng = new Rng(mixSeed(seed, 99));
  const fill = (a: Float32Array, f: () => number) => a.forEach((_, i) => (a[i] = f()));
  for (const b of w.hidden) {
    fill(b.dense.bias, () => rng.normal() * 0.3);
    const units = b.dense.units;
    const bn =
      b.bn ??
      (forceBn
        ? {
            gamma: new Float32Array(units),
            beta: new Float32Array(units),
            movingMean: new Float32Array(units),
            movingVariance: new Float32Array(units),
          }
        : null);
    if (bn) {
      fill(bn.gamma, () => (rng.next() < 0.2 ? -1 : 1) * (0.5 + rng.next()));
      fill(bn.beta, () => rng.normal() * 0.5);
      fill(bn.movingMean, () => rng.normal() * 0.5);
      fill(bn.movingVariance, () => 0.2 + rng.next() * 2);
      b.bn = bn;
    }
  }
  fill(w.output.bias, () => rng.normal() * 0.3);
  return w;
}

function randomStandardisation(rng: Rng, features = FEATURES): Standardisation {
  return {
    mean: Array.from({ length: features }, () => rng.normal() * 3),
    std: Array.from({ length: features }, () => 0.3 + rng.next() * 3),
  };
}

function standardiseRow(x: number[], s: Standardisation): number[] {
  return x.map((v, f) => (v - s.mean[f]!) / s.std[f]!);
}

function randomRow(rng: Rng, s?: Standardisation): number[] {
  // Raw rows around the standardisation's scale, with some exact zeros (the forward passes skip them).
  return Array.from({ length: FEATURES }, (_, f) => {
    if (rng.next() < 0.15) return 0;
    return s ? s.mean[f]! + s.std[f]! * rng.normal() * 1.5 : rng.normal() * 1.5;
  });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

interface Combo {
  batchNorm: boolean;
  bnPlacement: 'before' | 'after';
  activation: ModelConfig['activation'];
  depth: number;
}

const combos: Combo[] = [];
for (const batchNorm of [true, false])
  for (const bnPlacement of ['before', 'after'] as const)
    for (const activation of ACTIVATIONS)
      for (const depth of [0, 1, 2, 3]) combos.push({ batchNorm, bnPlacement, activation, depth });

const label = (c: Combo) => `bn=${c.batchNorm} ${c.bnPlacement} ${c.activation} depth=${c.depth}`;

describe('foldNetwork + forward passes', () => {
  it('covers all 64 combinations', () => {
    expect(combos).toHaveLength(2 * 2 * 4 * 4);
  });

  for (const [ci, combo] of combos.entries()) {
    it(`folded(raw) == unfolded(standardised): ${label(combo)}`, () => {
      const config = resolveConfig({ ...combo, width: WIDTH, init: 'glorotUniform', bnEpsilon: ci % 2 ? 1e-3 : 0.05 });
      const spec = specOf(config);
      const rng = new Rng(mixSeed(ci, 1));
      for (let trial = 0; trial < 3; trial++) {
        const w = randomWeights(config, mixSeed(ci, trial));
        const s = randomStandardisation(rng);
        const folded = foldNetwork(w, spec, s);

        expect(folded.features).toBe(FEATURES);
        expect(folded.classes).toBe(CLASSES);
        expect(folded.layers).toHaveLength(combo.depth + 1);
        folded.layers.forEach((l, i) => expect(l.activation).toBe(i < combo.depth ? combo.activation : 'softmax'));

        for (let r = 0; r < 5; r++) {
          const raw = randomRow(rng, s);
          const expected = forwardUnfoldedRow(w, spec, standardiseRow(raw, s));
          const got = forwardFoldedRow(folded, raw);
          expect(got).toHaveLength(CLASSES);
          expect(Math.abs(sum(got) - 1)).toBeLessThan(1e-9);
          expect(Math.abs(sum(expected) - 1)).toBeLessThan(1e-9);
          expect(got.every((p) => p >= 0 && p <= 1)).toBe(true);
          expect(maxAbsDiff(got, expected), `${label(combo)} trial ${trial} row ${r}`).toBeLessThan(TOL);
        }
      }
    });

    it(`fold without standardisation == unfolded on the same row: ${label(combo)}`, () => {
      const config = resolveConfig({ ...combo, width: WIDTH, init: 'heNormal' });
      const spec = specOf(config);
      const rng = new Rng(mixSeed(ci, 2));
      const w = randomWeights(config, mixSeed(ci, 17));
      const folded = foldNetwork(w, spec);
      for (let r = 0; r < 5; r++) {
        const row = randomRow(rng);
        const got = forwardFoldedRow(folded, row);
        expect(Math.abs(sum(got) - 1)).toBeLessThan(1e-9);
        expect(maxAbsDiff(got, forwardUnfoldedRow(w, spec, row))).toBeLessThan(TOL);
      }
    });
  }
});

describe('foldNetwork details', () => {
  it('the comparison is sensitive: ignoring the standardisation or BN gives different outputs', () => {
    const config = resolveConfig({
      depth: 2,
      width: WIDTH,
      batchNorm: true,
      bnPlacement: 'before',
      activation: 'tanh',
    });
    const spec = specOf(config);
    const rng = new Rng(5);
    const w = randomWeights(config, 5);
    const s = randomStandardisation(rng);
    const raw = randomRow(rng, s);
    const reference = forwardUnfoldedRow(w, spec, standardiseRow(raw, s));
    // Folded without the standardisation, on raw input: not the same function.
    expect(maxAbsDiff(forwardFoldedRow(foldNetwork(w, spec), raw), reference)).toBeGreaterThan(1e-3);
    // Unfolded, but BN switched off: not the same function either.
    expect(
      maxAbsDiff(forwardUnfoldedRow(w, { ...spec, batchNorm: false }, standardiseRow(raw, s)), reference),
    ).toBeGreaterThan(1e-3);
  });

  it("'before' BN changes that layer's kernel column-wise by gamma / sqrt(var + eps) and sets the bias", () => {
    const config = resolveConfig({ depth: 1, width: WIDTH, batchNorm: true, bnPlacement: 'before', bnEpsilon: 1e-3 });
    const w = randomWeights(config, 11);
    const folded = foldNetwork(w, specOf(config));
    const d = w.hidden[0]!.dense;
    const bn = w.hidden[0]!.bn!;
    const k = folded.layers[0]!.kernel;
    expect(k).not.toEqual(d.kernel);
    for (let j = 0; j < d.units; j++) {
      const s = bn.gamma[j]! / Math.sqrt(bn.movingVariance[j]! + 1e-3);
      for (let r = 0; r < d.inputs; r++) expect(k[r * d.units + j]).toBeCloseTo(d.kernel[r * d.units + j]! * s, 6);
      expect(folded.layers[0]!.bias[j]).toBeCloseTo((d.bias[j]! - bn.movingMean[j]!) * s + bn.beta[j]!, 6);
    }
    // The output layer has nothing to fold.
    expect(folded.layers[1]!.kernel).toEqual(w.output.kernel);
    expect(folded.layers[1]!.bias).toEqual(w.output.bias);
  });

  it("'after' BN leaves its own layer alone and folds into the next layer's kernel row-wise", () => {
    const config = resolveConfig({ depth: 1, width: WIDTH, batchNorm: true, bnPlacement: 'after', bnEpsilon: 1e-3 });
    const w = randomWeights(config, 12);
    const folded = foldNetwork(w, specOf(config));
    const bn = w.hidden[0]!.bn!;
    expect(folded.layers[0]!.kernel).toEqual(w.hidden[0]!.dense.kernel);
    expect(folded.layers[0]!.bias).toEqual(w.hidden[0]!.dense.bias);
    const o = w.output;
    const k = folded.layers[1]!.kernel;
    expect(k).not.toEqual(o.kernel);
    for (let r = 0; r < o.inputs; r++) {
      const s = bn.gamma[r]! / Math.sqrt(bn.movingVariance[r]! + 1e-3);
      for (let j = 0; j < o.units; j++) expect(k[r * o.units + j]).toBeCloseTo(o.kernel[r * o.units + j]! * s, 6);
    }
    for (let j = 0; j < o.units; j++) {
      let b = o.bias[j]!;
      for (let r = 0; r < o.inputs; r++) {
        const s = bn.gamma[r]! / Math.sqrt(bn.movingVariance[r]! + 1e-3);
        b += (bn.beta[r]! - bn.movingMean[r]! * s) * o.kernel[r * o.units + j]!;
      }
      expect(folded.layers[1]!.bias[j]).toBeCloseTo(b, 5);
    }
  });

  it('without BN and standardisation folding is an exact copy of the weights', () => {
    const config = resolveConfig({ depth: 2, width: WIDTH, batchNorm: false });
    const w = randomWeights(config, 13);
    const folded = foldNetwork(w, specOf(config));
    [...w.hidden.map((b) => b.dense), w.output].forEach((d, i) => {
      expect(folded.layers[i]!.kernel).toEqual(d.kernel);
      expect(folded.layers[i]!.bias).toEqual(d.bias);
      expect(folded.layers[i]!.kernel).not.toBe(d.kernel);
    });
  });

  it('does not modify the input weights', () => {
    const config = resolveConfig({ depth: 2, width: WIDTH, batchNorm: true, bnPlacement: 'after' });
    const w = randomWeights(config, 14);
    const copy = structuredClone(w);
    foldNetwork(w, specOf(config), randomStandardisation(new Rng(1)));
    expect(w).toEqual(copy);
  });

  it('spec.batchNorm=false ignores BN parameters present in the weights (in both passes)', () => {
    for (const bnPlacement of ['before', 'after'] as const) {
      const config = resolveConfig({ depth: 2, width: WIDTH, batchNorm: false, bnPlacement });
      const withBn = randomWeights(config, 15, true);
      expect(withBn.hidden[0]!.bn).not.toBeNull();
      const plain: NetworkWeights = {
        hidden: withBn.hidden.map((b) => ({ dense: b.dense, bn: null })),
        output: withBn.output,
      };
      const spec: NetworkSpec = specOf(config);
      const rng = new Rng(15);
      const s = randomStandardisation(rng);
      const raw = randomRow(rng, s);
      const a = forwardFoldedRow(foldNetwork(withBn, spec, s), raw);
      const b = forwardUnfoldedRow(plain, spec, standardiseRow(raw, s));
      expect(maxAbsDiff(a, b)).toBeLessThan(TOL);
    }
  });

  it('stays accurate on a wider network with digits-like raw inputs (0..16) and small stds', () => {
    const features = 64;
    const config = resolveConfig({ depth: 2, width: 64, batchNorm: true, bnPlacement: 'before', activation: 'relu' });
    const w = initialWeights(config, features, 10, 21);
    const rng = new Rng(21);
    for (const b of w.hidden) {
      b.bn!.gamma.forEach((_, i) => (b.bn!.gamma[i] = 0.5 + rng.next()));
      b.bn!.movingMean.forEach((_, i) => (b.bn!.movingMean[i] = rng.normal()));
      b.bn!.movingVariance.forEach((_, i) => (b.bn!.movingVariance[i] = 0.1 + rng.next() * 3));
    }
    const s: Standardisation = {
      mean: Array.from({ length: features }, () => rng.next() * 12),
      std: Array.from({ length: features }, (_, f) => (f % 8 === 0 ? 1 : 0.2 + rng.next() * 6)),
    };
    const spec = specOf(config);
    const folded = foldNetwork(w, spec, s);
    for (let r = 0; r < 20; r++) {
      const raw = Array.from({ length: features }, () => Math.floor(rng.next() * 17));
      const expected = forwardUnfoldedRow(
        w,
        spec,
        raw.map((v, f) => (v - s.mean[f]!) / s.std[f]!),
      );
      expect(maxAbsDiff(forwardFoldedRow(folded, raw), expected)).toBeLessThan(TOL);
    }
  });
});

describe('forwardUnfoldedRow reference semantics', () => {
  const ACT: Record<ModelConfig['activation'], (v: number) => number> = {
    relu: (v) => Math.max(0, v),
    tanh: (v) => Math.tanh(v),
    sigmoid: (v) => 1 / (1 + Math.exp(-v)),
    elu: (v) => (v > 0 ? v : Math.exp(v) - 1),
  };

  // 2 inputs -> 2 hidden units -> 2 classes, hand-written weights.
  const weights = (): NetworkWeights => ({
    hidden: [
      {
        dense: {
          inputs: 2,
          units: 2,
          kernel: Float32Array.from([1, -2, 0.5, 1]),
          bias: Float32Array.from([0.25, -0.5]),
        },
        bn: {
          gamma: Float32Array.from([2, 0.5]),
          beta: Float32Array.from([0.5, -1]),
          movingMean: Float32Array.from([1, -1]),
          movingVariance: Float32Array.from([4, 0.25]),
        },
      },
    ],
    output: { inputs: 2, units: 2, kernel: Float32Array.from([1, -1, 2, 0.5]), bias: Float32Array.from([0, 0.5]) },
  });

  function byHand(
    x: [number, number],
    activation: ModelConfig['activation'],
    bn: 'none' | 'before' | 'after',
    eps: number,
  ): number[] {
    const w = weights();
    const k = w.hidden[0]!.dense.kernel;
    let z = [x[0] * k[0]! + x[1] * k[2]! + 0.25, x[0] * k[1]! + x[1] * k[3]! - 0.5];
    const b = w.hidden[0]!.bn!;
    const norm = (v: number[]) =>
      v.map((val, j) => ((val - b.movingMean[j]!) / Math.sqrt(b.movingVariance[j]! + eps)) * b.gamma[j]! + b.beta[j]!);
    if (bn === 'before') z = norm(z);
    z = z.map(ACT[activation]);
    if (bn === 'after') z = norm(z);
    const logits = [z[0]! * 1 + z[1]! * 2 + 0, z[0]! * -1 + z[1]! * 0.5 + 0.5];
    const m = Math.max(...logits);
    const e = logits.map((l) => Math.exp(l - m));
    return e.map((v) => v / (e[0]! + e[1]!));
  }

  for (const activation of ACTIVATIONS) {
    for (const bn of ['none', 'before', 'after'] as const) {
      it(`matches a hand computation: ${activation}, BN ${bn}`, () => {
        const spec: NetworkSpec = {
          activation,
          batchNorm: bn !== 'none',
          bnPlacement: bn === 'after' ? 'after' : 'before',
          bnEpsilon: 0.01,
        };
        for (const x of [
          [0.3, -1.2],
          [-2, 0.7],
          [1.5, 1.5],
        ] as [number, number][]) {
          const got = forwardUnfoldedRow(weights(), spec, x);
          const want = byHand(x, activation, bn, 0.01);
          expect(maxAbsDiff(got, want)).toBeLessThan(1e-12);
          // And the folded network agrees with it.
          expect(maxAbsDiff(forwardFoldedRow(foldNetwork(weights(), spec), x), want)).toBeLessThan(TOL);
        }
      });
    }
  }

  it('softmax is stable for huge logits', () => {
    const w: NetworkWeights = {
      hidden: [],
      output: { inputs: 1, units: 3, kernel: Float32Array.from([1000, 999, -1000]), bias: new Float32Array(3) },
    };
    const p = forwardUnfoldedRow(
      w,
      { activation: 'relu', batchNorm: false, bnPlacement: 'before', bnEpsilon: 1e-3 },
      [1],
    );
    expect(p.every(Number.isFinite)).toBe(true);
    expect(p[0]).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
    expect(p[2]).toBe(0);
    const f = forwardFoldedRow(
      foldNetwork(w, { activation: 'relu', batchNorm: false, bnPlacement: 'before', bnEpsilon: 1e-3 }),
      [1],
    );
    expect(maxAbsDiff(f, p)).toBeLessThan(1e-12);
  });
});
