import { describe, expect, it } from 'vitest';
import {
  createSampler,
  defaultSpace,
  DEFAULT_TEMPLATE,
  fewestSteps,
  gridSize,
  mergeSpace,
  parseSpace,
  SpaceError,
  TpeSampler,
  type Assignment,
} from '../../models/search';

describe('data-aware priors in the default space', () => {
  it('learning-rate ranges per optimizer: every draw lies in its optimizer’s range', () => {
    const ranges: Record<string, [number, number]> = {
      sgd: [3e-3, 1],
      momentum: [1e-3, 0.3],
      rmsprop: [1e-4, 1e-2],
      adam: [1e-4, 1e-2],
    };
    const space = defaultSpace({ features: 64, trainRows: 1257, epochs: 20 });
    const s = createSampler(space, { kind: 'random', seed: 3 });
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const p = s.sample(i).params;
      const [lo, hi] = ranges[p.optimizer as string]!;
      expect(p.learningRate).toBeGreaterThanOrEqual(lo);
      expect(p.learningRate).toBeLessThanOrEqual(hi);
      if ((p.learningRate as number) > 0.05) seen.add(p.optimizer as string);
    }
    // Only the plain-gradient optimizers ever get large rates.
    expect([...seen].sort()).toEqual(['momentum', 'sgd']);
  });

  it('width scales with the encoded input width', () => {
    const narrow = defaultSpace({ features: 8, trainRows: 1000, epochs: 20 }).width;
    const digits = defaultSpace({ features: 64, trainRows: 1257, epochs: 20 }).width;
    const wide = defaultSpace({ features: 784, trainRows: 4000, epochs: 30 }).width;
    expect(narrow).toMatchObject({ low: 16, high: 128 });
    expect(digits).toMatchObject({ low: 32, high: 256 });
    // The 784-feature table: no more width 25-41 trials.
    expect(wide).toMatchObject({ low: 128, high: 512 });
  });

  it('BN momentum suits the trial length: 1 / (1 - m) stays below a fifth of the fewest steps', () => {
    // 30 epochs x ceil(1000 / 128) = 240 steps: m <= 1 - 5 / 240 ~ 0.979, never 0.999.
    const ctx = { features: 784, trainRows: 1000, epochs: 30 };
    expect(fewestSteps(DEFAULT_TEMPLATE, ctx)).toBe(240);
    const s = createSampler(defaultSpace(ctx), { kind: 'random', seed: 1 });
    let top = 0;
    for (let i = 0; i < 3000; i++) {
      const m = s.sample(i).params.bnMomentum;
      if (typeof m === 'number') top = Math.max(top, m);
    }
    expect(top).toBeLessThanOrEqual(1 - 5 / 240 + 1e-9);
    expect(top).toBeGreaterThan(0.97);
    // A long study may use slow averages again (capped at 0.95 as the lowest possible upper end).
    expect(defaultSpace({ features: 64, trainRows: 20000, epochs: 200 }).bnMomentum).toMatchObject({ low: 0.001 });
  });

  it('users can still pass any space: an override without cases replaces the range for every optimizer', () => {
    const space = mergeSpace(defaultSpace({ features: 64, trainRows: 1257, epochs: 20 }), {
      learningRate: { type: 'float', low: 0.5, high: 0.9 },
    });
    const p = createSampler(space, { kind: 'random', seed: 2 }).sample(0).params;
    expect(p.learningRate).toBeGreaterThanOrEqual(0.5);
    // Fixing the optimizer keeps only its case.
    const adam = mergeSpace(defaultSpace({ features: 64, trainRows: 1257, epochs: 20 }), { optimizer: 'adam' });
    expect((adam.learningRate as { cases: unknown }).cases).toEqual({ optimizer: { adam: { low: 1e-4, high: 1e-2 } } });
  });

  it('cases are validated: declared earlier, possible values, inside the base range', () => {
    const bad = (space: Record<string, unknown>, re: RegExp) => {
      expect(() => parseSpace(space)).toThrow(SpaceError);
      expect(() => parseSpace(space)).toThrow(re);
    };
    const opt = { type: 'categorical', choices: ['sgd', 'adam'] };
    bad(
      {
        learningRate: { type: 'float', low: 1e-4, high: 1, log: true, cases: { optimizer: { sgd: { low: 0.1 } } } },
        optimizer: opt,
      },
      /not declared before/,
    );
    bad(
      {
        optimizer: opt,
        learningRate: { type: 'float', low: 1e-4, high: 1, log: true, cases: { optimizer: { rmsprop: { low: 0.1 } } } },
      },
      /not a possible value/,
    );
    bad(
      {
        optimizer: opt,
        learningRate: { type: 'float', low: 1e-4, high: 1, log: true, cases: { optimizer: { sgd: { high: 2 } } } },
      },
      /not inside the base range/,
    );
  });

  it('grid search enumerates each case’s own levels; TPE fits a cased range per case', () => {
    const space = parseSpace({
      optimizer: { type: 'categorical', choices: ['sgd', 'adam'] },
      learningRate: {
        type: 'float',
        low: 1e-4,
        high: 1,
        log: true,
        cases: { optimizer: { sgd: { low: 1e-2 }, adam: { high: 1e-2 } } },
      },
    });
    expect(gridSize(space, 3)).toBe(6);
    const g = createSampler(space, { kind: 'grid', gridLevels: 3 });
    const points = Array.from({ length: 6 }, (_, i) => g.sample(i).params);
    expect(points.filter((p) => p.optimizer === 'sgd').map((p) => p.learningRate)).toEqual([0.01, 0.1, 1]);
    expect(points.filter((p) => p.optimizer === 'adam').map((p) => p.learningRate)).toEqual([1e-4, 1e-3, 1e-2]);
    const tpe = new TpeSampler(space, { kind: 'tpe', seed: 1, startupTrials: 2 });
    const finished = points.map((p: Assignment, i) => ({
      params: p,
      state: 'complete' as const,
      value: i / 6,
      epochs: 5,
    }));
    for (let i = 0; i < 20; i++) {
      const p = tpe.propose(6 + i, { finished, running: [] }).params;
      const [lo, hi] = p.optimizer === 'sgd' ? [1e-2, 1] : [1e-4, 1e-2];
      expect(p.learningRate).toBeGreaterThanOrEqual(lo);
      expect(p.learningRate).toBeLessThanOrEqual(hi);
      finished.push({ params: p, state: 'complete', value: 0.5, epochs: 5 });
    }
  });
});
