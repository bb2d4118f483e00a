import { describe, expect, it } from 'vitest';
import {
  type Assignment,
  assignmentKey,
  createSampler,
  DEFAULT_SPACE as DATA_DEFAULT_SPACE,
  mergeSpace,
  type Incumbent,
  type LocalSampler,
  localRanges,
  parseSpace,
  type SamplerSpec,
  toConfig,
  toUnit,
} from '../../models/search';

/**
 * Local search's mechanics on fixed ranges (the data-independent ranges the default space had before its
 * priors were scaled to the data): lr 1e-4..1e-1 for every optimizer, width 16..256, bnMomentum 0.9..0.999.
 */
const DEFAULT_SPACE = mergeSpace(DATA_DEFAULT_SPACE, {
  learningRate: { type: 'float', low: 1e-4, high: 1e-1, log: true },
  width: { type: 'int', low: 16, high: 256, log: true },
  bnMomentum: { type: 'float', low: 0.001, high: 0.1, log: true, oneMinus: true },
});

const BEST: Assignment = {
  learningRate: 0.003,
  optimizer: 'adam',
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-7,
  decay: 'none',
  batchSize: 64,
  depth: 2,
  width: 128,
  activation: 'relu',
  dropout: 0.2,
  batchNorm: true,
  bnPlacement: 'before',
  bnMomentum: 0.99,
  bnEpsilon: 1e-3,
  init: 'heNormal',
  l1: 0,
  l2: 1e-4,
  classWeights: 'none',
};
const SECOND: Assignment = {
  ...BEST,
  learningRate: 0.03,
  optimizer: 'sgd',
  depth: 1,
  width: 32,
  batchNorm: false,
  l2: 0,
};
for (const k of ['beta1', 'beta2', 'epsilon', 'bnPlacement', 'bnMomentum', 'bnEpsilon']) delete SECOND[k];

const incumbents: Incumbent[] = [
  { params: SECOND, score: 0.91 },
  { params: BEST, score: 0.95 },
];
const spec: SamplerSpec = { kind: 'local', seed: 17, incumbents };

describe('local search', () => {
  const sampler = createSampler(DEFAULT_SPACE, spec) as LocalSampler;
  const draws = Array.from({ length: 2000 }, (_, i) => sampler.sample(i));

  it('ranks incumbents best first and alternates between them', () => {
    expect(sampler.incumbents.map((x) => x.score)).toEqual([0.95, 0.91]);
    expect(sampler.neighbourhood(0).incumbent.params).toEqual(BEST);
    expect(sampler.neighbourhood(1).incumbent.params).toEqual(SECOND);
    const minimize = createSampler(DEFAULT_SPACE, { ...spec, direction: 'minimize', topK: 1 }) as LocalSampler;
    expect(minimize.incumbents.map((x) => x.score)).toEqual([0.91]);
  });

  it('numeric parameters stay inside the shrunken ranges, which are shrink wide in unit space', () => {
    let checked = 0;
    for (const d of draws) {
      const { ranges } = sampler.neighbourhood(d.trial);
      for (const [name, v] of Object.entries(d.params)) {
        const r = ranges[name];
        if (r?.kind !== 'window') continue;
        expect(r.unitHigh - r.unitLow).toBeLessThanOrEqual(0.25 + 1e-12);
        expect(v as number, name).toBeGreaterThanOrEqual(r.low * (1 - 1e-12));
        expect(v as number, name).toBeLessThanOrEqual(r.high * (1 + 1e-12));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10_000);
  });

  it('the windows are narrow in value terms too', () => {
    const r = localRanges(DEFAULT_SPACE, BEST);
    // learningRate spans three decades, so a quarter of unit space is 0.75 decades around 3e-3.
    if (r.learningRate?.kind !== 'window') throw new Error('expected a window');
    expect(Math.log10(r.learningRate.high / r.learningRate.low)).toBeCloseTo(0.75, 9);
    expect(Math.sqrt(r.learningRate.low * r.learningRate.high)).toBeCloseTo(0.003, 9);
    expect(r.learningRate.centre).toBeCloseTo(toUnit(DEFAULT_SPACE.learningRate!, 0.003), 12);
    // depth 2 of 0..4: unit centre 0.5, window [0.375, 0.625) covers depths 1..3.
    expect(r.depth).toMatchObject({ kind: 'window', low: 1, high: 3 });
    // A window ending exactly on a bucket boundary reports the last bucket it reaches: depth 2 with shrink 0.2
    // is [0.4, 0.6), exactly depth 2.
    expect(localRanges(DEFAULT_SPACE, BEST, 0.2).depth).toMatchObject({ low: 2, high: 2 });
  });

  it('windows at an edge are clipped, not shifted', () => {
    const r = localRanges(DEFAULT_SPACE, { ...BEST, learningRate: 1e-4 }, 0.2);
    if (r.learningRate?.kind !== 'window') throw new Error('expected a window');
    expect(r.learningRate.unitLow).toBe(0);
    expect(r.learningRate.unitHigh).toBeCloseTo(0.1, 12);
    expect(r.learningRate.low).toBeCloseTo(1e-4, 15);
    expect(Math.log10(r.learningRate.high)).toBeCloseTo(-3.7, 9);
  });

  it("keeps the incumbent's categorical values mostly", () => {
    // keep 0.8, else a uniform redraw that may land on the same value: P(same) = 0.8 + 0.2 / choices.
    const fromBest = draws.filter((d) => d.trial % 2 === 0);
    const same = (name: string) => fromBest.filter((d) => d.params[name] === BEST[name]).length / fromBest.length;
    expect(Math.abs(same('optimizer') - (0.8 + 0.2 / 4))).toBeLessThan(0.03);
    expect(Math.abs(same('init') - (0.8 + 0.2 / 5))).toBeLessThan(0.03);
    expect(Math.abs(same('batchSize') - (0.8 + 0.2 / 4))).toBeLessThan(0.03);
    // ...and every value still occurs.
    expect(new Set(fromBest.map((d) => d.params.optimizer)).size).toBe(4);
  });

  it('parameters the incumbent did not have are drawn from the whole prior', () => {
    const r = localRanges(DEFAULT_SPACE, SECOND);
    expect(r).not.toHaveProperty('beta1');
    const adamFromSecond = draws
      .filter((d) => d.trial % 2 === 1 && d.params.optimizer === 'adam')
      .map((d) => d.params.beta1 as number);
    expect(adamFromSecond.length).toBeGreaterThan(20);
    expect(Math.min(...adamFromSecond)).toBeLessThan(0.9);
    expect(Math.max(...adamFromSecond)).toBeGreaterThan(0.95);
  });

  it('a zero penalty stays zero with the default shrink; a nonzero one stays close', () => {
    const fromBest = draws.filter((d) => d.trial % 2 === 0);
    expect(fromBest.every((d) => d.params.l1 === 0)).toBe(true);
    const l2 = fromBest.map((d) => d.params.l2 as number);
    expect(Math.min(...l2)).toBeGreaterThan(1e-5);
    expect(Math.max(...l2)).toBeLessThan(1e-3);
  });

  it('every local configuration is valid, new, and never an incumbent', () => {
    const keys = new Set(draws.map((d) => d.key));
    expect(keys.size).toBe(draws.length);
    expect(draws.every((d) => !d.duplicate)).toBe(true);
    expect(keys.has(assignmentKey(BEST))).toBe(false);
    for (const d of draws.slice(0, 300)) expect(() => toConfig(d.params, 10)).not.toThrow();
  });

  it('is reproducible per (seed, trial) in any order; another seed differs', () => {
    const again = createSampler(DEFAULT_SPACE, JSON.parse(JSON.stringify(spec)));
    for (const i of [1500, 3, 999, 0]) expect(again.sample(i).params).toEqual(draws[i]!.params);
    const other = createSampler(DEFAULT_SPACE, { ...spec, seed: 18 });
    expect(other.sample(0).params).not.toEqual(draws[0]!.params);
  });

  it('a tiny space around its only incumbent never proposes the incumbent itself', () => {
    const tiny = parseSpace({
      optimizer: { type: 'categorical', choices: ['sgd', 'adam'] },
      activation: { type: 'categorical', choices: ['relu', 'tanh', 'elu'] },
    });
    const s = createSampler(tiny, {
      kind: 'local',
      seed: 1,
      incumbents: [{ params: { optimizer: 'adam', activation: 'relu' }, score: 1 }],
    });
    const keys = Array.from({ length: 5 }, (_, i) => s.sample(i).key);
    expect(new Set(keys).size).toBe(5);
    expect(keys).not.toContain(assignmentKey({ optimizer: 'adam', activation: 'relu' }));
  });

  it('an incumbent outside a narrowed range anchors at the nearest end', () => {
    const r = localRanges(DEFAULT_SPACE, { ...BEST, learningRate: 0.5, width: 4 });
    if (r.learningRate?.kind !== 'window' || r.width?.kind !== 'window') throw new Error('expected windows');
    expect(r.learningRate.unitHigh).toBe(1);
    expect(r.learningRate.high).toBeCloseTo(0.1, 9);
    expect(r.width.unitLow).toBe(0);
    expect(r.width.low).toBe(16);
  });
});
