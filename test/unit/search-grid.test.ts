import { describe, expect, it } from 'vitest';
import {
  type Assignment,
  assignmentKey,
  createSampler,
  DEFAULT_SPACE,
  Grid,
  gridSize,
  gridValues,
  isActive,
  mergeSpace,
  parseSpace,
  type SearchSpace,
  toConfig,
} from '../../models/search';

/** Independent reference: enumerate the conditional grid by brute-force recursion. */
function naiveGrid(space: SearchSpace, levels: number): Assignment[] {
  const entries = Object.entries(space);
  const out: Assignment[] = [];
  const walk = (k: number, partial: Assignment) => {
    if (k === entries.length) return void out.push(partial);
    const [name, dist] = entries[k]!;
    if (!isActive(dist, partial)) return walk(k + 1, partial);
    for (const v of gridValues(dist, levels)) walk(k + 1, { ...partial, [name]: v });
  };
  walk(0, {});
  return out;
}

const PRODUCT = parseSpace({
  optimizer: { type: 'categorical', choices: ['sgd', 'momentum', 'adam'] },
  learningRate: { type: 'float', low: 1e-4, high: 1e-1, log: true },
  depth: { type: 'int', low: 0, high: 4 },
  batchSize: { type: 'categorical', choices: [32, 64] },
  epsilon: { type: 'const', value: 1e-7 },
});

const CONDITIONAL = parseSpace({
  optimizer: { type: 'categorical', choices: ['sgd', 'momentum', 'rmsprop', 'adam'] },
  momentum: { type: 'float', low: 0.01, high: 0.5, log: true, oneMinus: true, when: { optimizer: ['momentum'] } },
  beta1: { type: 'float', low: 0.01, high: 0.2, log: true, oneMinus: true, when: { optimizer: ['adam'] } },
  depth: { type: 'int', low: 0, high: 2 },
  batchNorm: { type: 'categorical', choices: [false, true], when: { depth: [1, 2] } },
  bnPlacement: { type: 'categorical', choices: ['before', 'after'], when: { batchNorm: [true] } },
});

describe('grid', () => {
  it('without conditions the size is the product of the level counts, all points distinct', () => {
    const g = new Grid(PRODUCT, 3);
    expect(g.size).toBe(3 * 3 * 3 * 2 * 1);
    const points = Array.from({ length: g.size }, (_, i) => g.point(i));
    expect(new Set(points.map(assignmentKey)).size).toBe(g.size);
    expect(new Set(points.map((p) => p.optimizer))).toEqual(new Set(['sgd', 'momentum', 'adam']));
    expect(new Set(points.map((p) => p.batchSize))).toEqual(new Set([32, 64]));
    expect(new Set(points.map((p) => p.depth))).toEqual(new Set([0, 2, 4]));
    expect([...new Set(points.map((p) => p.learningRate))]).toEqual([1e-4, Number((10 ** -2.5).toPrecision(12)), 1e-1]);
  });

  it('inactive parameters are not multiplied in: sizes match a brute-force enumeration', () => {
    // optimizer: sgd 1 + momentum 3 + rmsprop 1 + adam 3 = 8; depth: 0 -> 1, 1 or 2 -> (false 1 + true 2) = 3 each, so 7.
    expect(gridSize(CONDITIONAL, 3)).toBe(8 * 7);
    for (const levels of [1, 2, 3, 5]) {
      const g = new Grid(CONDITIONAL, levels);
      const naive = naiveGrid(CONDITIONAL, levels);
      expect(g.size).toBe(naive.length);
      const points = Array.from({ length: g.size }, (_, i) => g.point(i));
      expect(points).toEqual(naive); // same fixed order, too
    }
  });

  it('grid points carry only active parameters', () => {
    const g = new Grid(CONDITIONAL, 3);
    for (let i = 0; i < g.size; i++) {
      const p = g.point(i);
      expect('momentum' in p).toBe(p.optimizer === 'momentum');
      expect('bnPlacement' in p).toBe(p.batchNorm === true);
      expect('batchNorm' in p).toBe(p.depth !== 0);
    }
  });

  it('numbers the DEFAULT_SPACE grid without materialising it and every point is a valid model', () => {
    const g = new Grid(DEFAULT_SPACE, 3);
    expect(g.size).toBeGreaterThan(1e8);
    const narrowed = mergeSpace(DEFAULT_SPACE, {
      learningRate: 1e-3,
      batchSize: 64,
      init: 'heNormal',
      classWeights: 'none',
      l1: 0,
      decay: 'none',
    });
    expect(gridSize(narrowed, 2)).toBe(naiveGrid(narrowed, 2).length);
    const keyOf = new Map<number, string>();
    for (let k = 0; k < 500; k++) {
      const i = Math.floor((((k * 2654435761) % 2 ** 32) / 2 ** 32) * g.size);
      const p = g.point(i);
      expect(g.has(p)).toBe(true);
      expect(() => toConfig(p, 5)).not.toThrow();
      keyOf.set(i, assignmentKey(p));
    }
    // Distinct indices give distinct points.
    expect(new Set(keyOf.values()).size).toBe(keyOf.size);
    expect(() => g.point(g.size)).toThrow(RangeError);
  });

  it('has() recognises grid points only', () => {
    const g = new Grid(CONDITIONAL, 3);
    expect(g.has({ optimizer: 'sgd', depth: 0 })).toBe(true);
    expect(g.has({ optimizer: 'sgd', depth: 0, momentum: 0.9 })).toBe(false);
    expect(g.has({ optimizer: 'momentum', momentum: 0.9, depth: 0 })).toBe(false);
    expect(g.has({ optimizer: 'momentum', momentum: 0.99, depth: 0 })).toBe(true); // 1 - 0.01, the top level
    expect(g.has({ optimizer: 'momentum', momentum: 0.99, depth: 1 })).toBe(false); // batchNorm missing
    expect(g.has({ optimizer: 'momentum', momentum: gridValues(CONDITIONAL.momentum!, 3)[1]!, depth: 0 })).toBe(true);
  });
});

describe('grid sampler', () => {
  it('trial i is the i-th grid point and the sampler reports the grid size', () => {
    const s = createSampler(CONDITIONAL, { kind: 'grid' });
    const g = new Grid(CONDITIONAL, 3);
    expect(s.size).toBe(g.size);
    for (let i = 0; i < g.size; i++)
      expect(s.sample(i)).toMatchObject({ params: g.point(i), source: 'grid', duplicate: false });
    expect(() => s.sample(g.size)).toThrow(/only 56 trials/);
  });

  it('is independent of the order trials are asked for', () => {
    const a = createSampler(CONDITIONAL, { kind: 'grid', gridLevels: 2 });
    const b = createSampler(CONDITIONAL, { kind: 'grid', gridLevels: 2 });
    const forward = Array.from({ length: a.size! }, (_, i) => a.sample(i).params);
    for (let i = b.size! - 1; i >= 0; i--) expect(b.sample(i).params).toEqual(forward[i]);
  });

  it('enqueued points come first and are not repeated by the grid; the size accounts for it', () => {
    const onGrid = new Grid(CONDITIONAL, 3).point(10);
    const offGrid = { optimizer: 'adam', beta1: 0.95, depth: 0 };
    const s = createSampler(CONDITIONAL, {
      kind: 'grid',
      enqueued: [onGrid, offGrid],
      exclude: [new Grid(CONDITIONAL, 3).point(0)],
    });
    expect(s.size).toBe(56 + 2 - 1 - 1);
    const all = Array.from({ length: s.size! }, (_, i) => s.sample(i));
    expect(all[0]!.params).toEqual(onGrid);
    expect(all[1]!.params).toEqual(offGrid);
    expect(new Set(all.map((x) => x.key)).size).toBe(s.size);
    expect(all.map((x) => x.key)).not.toContain(assignmentKey(new Grid(CONDITIONAL, 3).point(0)));
  });
});
