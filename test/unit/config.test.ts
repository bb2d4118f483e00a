import { describe, expect, it } from 'vitest';
import {
  ACTIVATIONS,
  classWeightsFor,
  DEFAULT_CONFIG,
  DECAYS,
  INITIALISERS,
  learningRateAt,
  type ModelConfig,
  ModelConfigSchema,
  OPTIMIZERS,
  resolveConfig,
} from '../../models/config';

const cfg = (over: Partial<ModelConfig>): ModelConfig => resolveConfig(over);

describe('ModelConfigSchema / DEFAULT_CONFIG', () => {
  it('the defaults validate unchanged', () => {
    expect(ModelConfigSchema.safeParse(DEFAULT_CONFIG).success).toBe(true);
    expect(ModelConfigSchema.parse(DEFAULT_CONFIG)).toEqual(DEFAULT_CONFIG);
    expect(resolveConfig()).toEqual(DEFAULT_CONFIG);
    expect(resolveConfig({})).toEqual(DEFAULT_CONFIG);
  });

  it('the defaults cover every schema key', () => {
    expect(Object.keys(DEFAULT_CONFIG).sort()).toEqual(Object.keys(ModelConfigSchema.shape).sort());
  });

  it('accepts every enum value', () => {
    for (const activation of ACTIVATIONS) expect(() => cfg({ activation })).not.toThrow();
    for (const init of INITIALISERS) expect(() => cfg({ init })).not.toThrow();
    for (const optimizer of OPTIMIZERS) expect(() => cfg({ optimizer })).not.toThrow();
    for (const decay of DECAYS) expect(() => cfg({ decay })).not.toThrow();
    for (const bnPlacement of ['before', 'after'] as const) expect(() => cfg({ bnPlacement })).not.toThrow();
  });

  it('accepts the range boundaries', () => {
    for (const over of [
      { depth: 0 },
      { depth: 4 },
      { width: 1 },
      { width: 1024 },
      { dropout: 0 },
      { dropout: 0.9 },
      { learningRate: 100 },
      { learningRate: 1e-9 },
      { decayRate: 1 },
      { batchSize: 4096 },
      { epochs: 1 },
      { classWeights: [1, 2] },
    ] as Partial<ModelConfig>[]) {
      expect(() => cfg(over), JSON.stringify(over)).not.toThrow();
    }
  });
});

describe('resolveConfig', () => {
  it('fills unspecified keys from the defaults', () => {
    const c = resolveConfig({ depth: 3, activation: 'tanh' });
    expect(c.depth).toBe(3);
    expect(c.activation).toBe('tanh');
    expect(c.width).toBe(DEFAULT_CONFIG.width);
    expect(c.optimizer).toBe(DEFAULT_CONFIG.optimizer);
  });

  it('does not mutate DEFAULT_CONFIG', () => {
    const before = JSON.stringify(DEFAULT_CONFIG);
    resolveConfig({ depth: 1, classWeights: [1, 2, 3] });
    expect(JSON.stringify(DEFAULT_CONFIG)).toBe(before);
  });

  it('rejects unknown keys', () => {
    expect(() => resolveConfig({ depht: 3 } as unknown as Partial<ModelConfig>)).toThrow();
    expect(() => resolveConfig({ units: 10 } as unknown as Partial<ModelConfig>)).toThrow();
  });

  it('rejects NaN and Infinity', () => {
    for (const key of [
      'learningRate',
      'dropout',
      'l1',
      'l2',
      'bnEpsilon',
      'momentum',
      'decayRate',
      'depth',
      'width',
    ] as const) {
      for (const v of [NaN, Infinity, -Infinity]) {
        expect(() => resolveConfig({ [key]: v }), `${key}=${v}`).toThrow();
      }
    }
    expect(() => resolveConfig({ classWeights: [1, NaN] })).toThrow();
    expect(() => resolveConfig({ classWeights: [1, Infinity] })).toThrow();
  });

  it('rejects out-of-range values', () => {
    for (const over of [
      { depth: 5 },
      { depth: -1 },
      { depth: 1.5 },
      { width: 0 },
      { width: 1025 },
      { dropout: 0.95 },
      { dropout: -0.1 },
      { learningRate: 0 },
      { learningRate: -1e-3 },
      { learningRate: 101 },
      { decayRate: 0 },
      { decayRate: 1.5 },
      { decaySteps: 0 },
      { batchSize: 0 },
      { epochs: 0 },
      { bnEpsilon: 0 },
      { beta2: 1 },
      { classWeights: [1] },
      { classWeights: [1, -1] },
    ] as Partial<ModelConfig>[]) {
      expect(() => resolveConfig(over), JSON.stringify(over)).toThrow();
    }
  });

  it('rejects values of the wrong type', () => {
    for (const over of [
      { activation: 'gelu' },
      { init: 'zeros' },
      { batchNorm: 'yes' },
      { depth: '2' },
      { classWeights: 'auto' },
    ]) {
      expect(() => resolveConfig(over as unknown as Partial<ModelConfig>), JSON.stringify(over)).toThrow();
    }
  });
});

describe('learningRateAt', () => {
  it("'none' is constant", () => {
    const c = cfg({ decay: 'none', learningRate: 0.02, decayRate: 0.5, decaySteps: 1 });
    for (const e of [0, 1, 5, 100]) expect(learningRateAt(c, e)).toBe(0.02);
  });

  it("'step' multiplies by the rate every decaySteps epochs", () => {
    const c = cfg({ decay: 'step', learningRate: 0.1, decayRate: 0.5, decaySteps: 3 });
    const expected = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125];
    expected.forEach((lr, e) => expect(learningRateAt(c, e)).toBeCloseTo(lr, 15));
    const one = cfg({ decay: 'step', learningRate: 1, decayRate: 0.1, decaySteps: 1 });
    expect(learningRateAt(one, 0)).toBe(1);
    expect(learningRateAt(one, 2)).toBeCloseTo(0.01, 15);
  });

  it("'exponential' is lr * rate^epoch", () => {
    const c = cfg({ decay: 'exponential', learningRate: 0.01, decayRate: 0.9, decaySteps: 7 });
    for (const e of [0, 1, 2, 3, 10, 50]) expect(learningRateAt(c, e)).toBeCloseTo(0.01 * 0.9 ** e, 15);
    expect(learningRateAt(c, 0)).toBe(0.01);
    expect(learningRateAt(c, 1)).toBeLessThan(learningRateAt(c, 0));
  });
});

describe('classWeightsFor', () => {
  it("'none' gives null", () => {
    expect(classWeightsFor(cfg({ classWeights: 'none' }), [10, 20, 30])).toBeNull();
  });

  it("'balanced' gives total / (classes * count)", () => {
    const w = classWeightsFor(cfg({ classWeights: 'balanced' }), [10, 30, 60]);
    expect(w).not.toBeNull();
    expect(w![0]).toBeCloseTo(100 / 30, 12);
    expect(w![1]).toBeCloseTo(100 / 90, 12);
    expect(w![2]).toBeCloseTo(100 / 180, 12);
    // Weighted class totals are all equal to total / classes.
    [10, 30, 60].forEach((n, k) => expect(n * w![k]!).toBeCloseTo(100 / 3, 10));
    // Balanced data gives weight 1 everywhere.
    expect(classWeightsFor(cfg({ classWeights: 'balanced' }), [5, 5, 5, 5])).toEqual([1, 1, 1, 1]);
  });

  it("'balanced' gives 0 (not Infinity) for an absent class", () => {
    const w = classWeightsFor(cfg({ classWeights: 'balanced' }), [10, 0, 30]);
    expect(w).toEqual([40 / 30, 0, 40 / 90]);
  });

  it('an explicit array is returned as given', () => {
    expect(classWeightsFor(cfg({ classWeights: [1, 2, 0.5] }), [10, 20, 30])).toEqual([1, 2, 0.5]);
  });

  it('an explicit array of the wrong length throws', () => {
    expect(() => classWeightsFor(cfg({ classWeights: [1, 2] }), [10, 20, 30])).toThrow(
      'classWeights has 2 entries for 3 classes',
    );
    expect(() => classWeightsFor(cfg({ classWeights: [1, 2, 3, 4] }), [10, 20, 30])).toThrow(/4 entries for 3 classes/);
  });
});
