import { describe, expect, it } from 'vitest';
import { INITIALISERS, type ModelConfig, resolveConfig } from '../../models/config';
import {
  allFinite,
  initialWeights,
  layerSizes,
  type NetworkWeights,
  parameterCount,
  specOf,
} from '../../models/network';

function stats(a: Float32Array): { mean: number; std: number; min: number; max: number } {
  let sum = 0;
  let sq = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of a) {
    sum += v;
    sq += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / a.length;
  return { mean, std: Math.sqrt(sq / a.length - mean * mean), min, max };
}

function denses(w: NetworkWeights) {
  return [...w.hidden.map((b) => b.dense), w.output];
}

describe('layerSizes', () => {
  it('goes from features through depth x width to classes', () => {
    expect(layerSizes(resolveConfig({ depth: 2, width: 128 }), 64, 10)).toEqual([64, 128, 128, 10]);
    expect(layerSizes(resolveConfig({ depth: 0 }), 64, 10)).toEqual([64, 10]);
    expect(layerSizes(resolveConfig({ depth: 4, width: 3 }), 5, 2)).toEqual([5, 3, 3, 3, 3, 2]);
  });
});

describe('initialWeights', () => {
  it('has shapes that follow layerSizes', () => {
    for (const depth of [0, 1, 2, 4]) {
      for (const batchNorm of [true, false]) {
        const config = resolveConfig({ depth, width: 7, batchNorm });
        const w = initialWeights(config, 13, 4, 1);
        const sizes = layerSizes(config, 13, 4);
        expect(w.hidden).toHaveLength(depth);
        denses(w).forEach((d, l) => {
          expect(d.inputs).toBe(sizes[l]);
          expect(d.units).toBe(sizes[l + 1]);
          expect(d.kernel).toBeInstanceOf(Float32Array);
          expect(d.kernel.length).toBe(sizes[l]! * sizes[l + 1]!);
          expect(d.bias.length).toBe(sizes[l + 1]);
        });
        for (const b of w.hidden) {
          if (batchNorm) {
            expect(b.bn).not.toBeNull();
            for (const arr of [b.bn!.gamma, b.bn!.beta, b.bn!.movingMean, b.bn!.movingVariance])
              expect(arr.length).toBe(7);
          } else {
            expect(b.bn).toBeNull();
          }
        }
      }
    }
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const config = resolveConfig({ depth: 2, width: 16 });
    const a = initialWeights(config, 10, 3, 42);
    const b = initialWeights(config, 10, 3, 42);
    const c = initialWeights(config, 10, 3, 43);
    expect(a).toEqual(b);
    expect(a.hidden[0]!.dense.kernel).not.toEqual(c.hidden[0]!.dense.kernel);
    expect(a.output.kernel).not.toEqual(c.output.kernel);
  });

  it('draws different kernels for different layers', () => {
    const w = initialWeights(resolveConfig({ depth: 2, width: 8 }), 8, 8, 1);
    expect(w.hidden[0]!.dense.kernel).not.toEqual(w.hidden[1]!.dense.kernel);
  });

  const theory: Record<(typeof INITIALISERS)[number], (inp: number, out: number) => { std: number; bound: number }> = {
    randomNormal: () => ({ std: 0.05, bound: Infinity }),
    glorotUniform: (i, o) => ({ std: Math.sqrt(6 / (i + o)) / Math.sqrt(3), bound: Math.sqrt(6 / (i + o)) }),
    glorotNormal: (i, o) => ({
      std: Math.sqrt(2 / (i + o)),
      bound: (2 * Math.sqrt(2 / (i + o))) / 0.87962566103423978,
    }),
    heNormal: (i) => ({ std: Math.sqrt(2 / i), bound: (2 * Math.sqrt(2 / i)) / 0.87962566103423978 }),
    heUniform: (i) => ({ std: Math.sqrt(6 / i) / Math.sqrt(3), bound: Math.sqrt(6 / i) }),
  };

  for (const init of INITIALISERS) {
    it(`kernel statistics match theory for ${init} (400x400 and a non-square layer)`, () => {
      // Hidden layer 400 -> 400, output 400 -> 100 (fan-in != fan-out distinguishes glorot from he).
      const w = initialWeights(resolveConfig({ depth: 1, width: 400, init, batchNorm: false }), 400, 100, 7);
      for (const d of denses(w)) {
        const s = stats(d.kernel);
        const t = theory[init](d.inputs, d.units);
        expect(Math.abs(s.mean)).toBeLessThan(0.03 * t.std);
        expect(Math.abs(s.std / t.std - 1), `${init} ${d.inputs}x${d.units}: std ${s.std} vs ${t.std}`).toBeLessThan(
          0.03,
        );
        expect(Math.max(-s.min, s.max)).toBeLessThanOrEqual(t.bound * (1 + 1e-6));
        if (t.bound !== Infinity) expect(Math.max(-s.min, s.max)).toBeGreaterThan(t.bound * 0.97);
        else expect(Math.max(-s.min, s.max)).toBeGreaterThan(4 * t.std); // untruncated normal reaches the tails
      }
    });
  }

  it('uniform initialisers are flat, normal ones are bell-shaped', () => {
    const w = (init: ModelConfig['init']) =>
      initialWeights(resolveConfig({ depth: 1, width: 400, init }), 400, 10, 3).hidden[0]!.dense.kernel;
    // Fraction within half the bound: 0.5 for a uniform; much higher for a truncated normal at 2 sd.
    const frac = (k: Float32Array, bound: number) => k.filter((v) => Math.abs(v) < bound / 2).length / k.length;
    expect(Math.abs(frac(w('heUniform'), Math.sqrt(6 / 400)) - 0.5)).toBeLessThan(0.01);
    const heBound = (2 * Math.sqrt(2 / 400)) / 0.87962566103423978;
    expect(frac(w('heNormal'), heBound)).toBeGreaterThan(0.7);
  });

  it('starts biases at 0 and BN at gamma 1, beta 0, movingMean 0, movingVariance 1', () => {
    const w = initialWeights(resolveConfig({ depth: 3, width: 9, batchNorm: true }), 5, 4, 2);
    for (const d of denses(w)) expect(d.bias.every((v) => v === 0)).toBe(true);
    for (const b of w.hidden) {
      expect(b.bn!.gamma.every((v) => v === 1)).toBe(true);
      expect(b.bn!.beta.every((v) => v === 0)).toBe(true);
      expect(b.bn!.movingMean.every((v) => v === 0)).toBe(true);
      expect(b.bn!.movingVariance.every((v) => v === 1)).toBe(true);
    }
    const off = initialWeights(resolveConfig({ depth: 3, width: 9, batchNorm: false }), 5, 4, 2);
    for (const b of off.hidden) expect(b.bn).toBeNull();
  });

  it('kernels do not depend on batchNorm (same draws either way)', () => {
    const on = initialWeights(resolveConfig({ depth: 2, width: 6, batchNorm: true }), 5, 3, 9);
    const off = initialWeights(resolveConfig({ depth: 2, width: 6, batchNorm: false }), 5, 3, 9);
    expect(denses(on).map((d) => d.kernel)).toEqual(denses(off).map((d) => d.kernel));
  });
});

describe('parameterCount', () => {
  it('counts kernels, biases and the four BN vectors', () => {
    // 64 -> 128 -> 128 -> 10 with BN: (64*128+128) + (128*128+128) + (128*10+10) + 2 * 4 * 128
    const w = initialWeights(resolveConfig({ depth: 2, width: 128, batchNorm: true }), 64, 10, 1);
    expect(parameterCount(w)).toBe(64 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10 + 2 * 4 * 128);
    const off = initialWeights(resolveConfig({ depth: 2, width: 128, batchNorm: false }), 64, 10, 1);
    expect(parameterCount(off)).toBe(64 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10);
    const lr = initialWeights(resolveConfig({ depth: 0 }), 64, 10, 1);
    expect(parameterCount(lr)).toBe(650);
  });
});

describe('allFinite', () => {
  it('is true for fresh weights and false once any NaN or Infinity appears', () => {
    const make = () => initialWeights(resolveConfig({ depth: 2, width: 8, batchNorm: true }), 4, 3, 5);
    expect(allFinite(make())).toBe(true);
    const injections: ((w: NetworkWeights) => void)[] = [
      (w) => (w.output.kernel[5] = NaN),
      (w) => (w.output.bias[2] = Infinity),
      (w) => (w.hidden[0]!.dense.kernel[0] = NaN),
      (w) => (w.hidden[1]!.dense.bias[7] = -Infinity),
      (w) => (w.hidden[0]!.bn!.gamma[3] = NaN),
      (w) => (w.hidden[1]!.bn!.beta[0] = NaN),
      (w) => (w.hidden[1]!.bn!.movingMean[1] = NaN),
      (w) => (w.hidden[0]!.bn!.movingVariance[6] = Infinity),
    ];
    for (const inject of injections) {
      const w = make();
      inject(w);
      expect(allFinite(w), inject.toString()).toBe(false);
    }
  });
});

describe('specOf', () => {
  it('copies the inference-relevant keys', () => {
    const c = resolveConfig({ activation: 'elu', batchNorm: false, bnPlacement: 'after', bnEpsilon: 0.01 });
    expect(specOf(c)).toEqual({ activation: 'elu', batchNorm: false, bnPlacement: 'after', bnEpsilon: 0.01 });
  });
});
