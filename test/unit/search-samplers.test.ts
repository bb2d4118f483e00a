import { describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../models/config';
import {
  type Assignment,
  assignmentHash,
  assignmentKey,
  contains,
  createSampler,
  DEFAULT_SPACE,
  mergeSpace,
  parseSpace,
  type SamplerSpec,
  toConfig,
} from '../../models/search';

const take = (spec: SamplerSpec, n: number, space = DEFAULT_SPACE): Assignment[] => {
  const s = createSampler(space, spec);
  return Array.from({ length: n }, (_, i) => s.sample(i).params);
};

/** 2 optimizers x 3 activations: six configurations in all. */
const TINY = parseSpace({
  optimizer: { type: 'categorical', choices: ['sgd', 'adam'] },
  activation: { type: 'categorical', choices: ['relu', 'tanh', 'elu'] },
});

describe('random sampler: reproducibility', () => {
  it('the same seed gives the same configurations, a different seed different ones', () => {
    const a = take({ kind: 'random', seed: 42 }, 50);
    expect(take({ kind: 'random', seed: 42 }, 50)).toEqual(a);
    const b = take({ kind: 'random', seed: 43 }, 50);
    expect(b.filter((p, i) => assignmentKey(p) === assignmentKey(a[i]!))).toHaveLength(0);
  });

  it("trial i's configuration does not depend on which other trials were sampled, or in what order", () => {
    const sequential = take({ kind: 'random', seed: 7 }, 60);
    const reverse = createSampler(DEFAULT_SPACE, { kind: 'random', seed: 7 });
    for (let i = 59; i >= 0; i--) expect(reverse.sample(i).params).toEqual(sequential[i]);
    for (const i of [37, 3, 59, 0])
      expect(createSampler(DEFAULT_SPACE, { kind: 'random', seed: 7 }).sample(i).params).toEqual(sequential[i]);
  });

  it('a spec that went through JSON gives the same configurations', () => {
    const spec: SamplerSpec = { kind: 'random', seed: 99, enqueued: [{ learningRate: 0.01, optimizer: 'sgd' }] };
    expect(take(JSON.parse(JSON.stringify(spec)), 20, JSON.parse(JSON.stringify(DEFAULT_SPACE)))).toEqual(
      take(spec, 20),
    );
  });

  it('large seeds work and differ from their low 32 bits', () => {
    const big = take({ kind: 'random', seed: 2 ** 40 + 5 }, 5);
    expect(big).not.toEqual(take({ kind: 'random', seed: 5 }, 5));
    expect(take({ kind: 'random', seed: 2 ** 40 + 5 }, 5)).toEqual(big);
  });
});

describe('random sampler: conditions and validity', () => {
  const draws = take({ kind: 'random', seed: 5 }, 3000);

  it('conditional parameters are present exactly when active', () => {
    for (const p of draws) {
      const hidden = (p.depth as number) > 0;
      expect('momentum' in p).toBe(p.optimizer === 'momentum');
      expect('rho' in p).toBe(p.optimizer === 'rmsprop');
      expect('beta1' in p).toBe(p.optimizer === 'adam');
      expect('beta2' in p).toBe(p.optimizer === 'adam');
      expect('epsilon' in p).toBe(p.optimizer === 'adam' || p.optimizer === 'rmsprop');
      expect('decayRate' in p).toBe(p.decay !== 'none');
      expect('decaySteps' in p).toBe(p.decay === 'step');
      for (const k of ['width', 'activation', 'dropout', 'batchNorm']) expect(k in p).toBe(hidden);
      for (const k of ['bnPlacement', 'bnMomentum', 'bnEpsilon']) expect(k in p).toBe(hidden && p.batchNorm === true);
      for (const k of ['learningRate', 'optimizer', 'decay', 'batchSize', 'depth', 'init', 'l1', 'l2', 'classWeights'])
        expect(k in p).toBe(true);
    }
  });

  it('every value lies in its distribution and every configuration passes toConfig', () => {
    for (const p of draws) {
      for (const [k, v] of Object.entries(p)) expect(contains(DEFAULT_SPACE[k]!, v), k).toBe(true);
      const config = toConfig(p, 12);
      expect(ModelConfigSchema.parse(config)).toEqual(config);
      expect(config.epochs).toBe(12);
      for (const [k, v] of Object.entries(p)) expect(config[k as keyof typeof config]).toEqual(v);
    }
  }, 60_000);

  it('every categorical value occurs', () => {
    for (const [name, dist] of Object.entries(DEFAULT_SPACE)) {
      if (dist.type !== 'categorical') continue;
      const seen = new Set(draws.filter((p) => name in p).map((p) => p[name]));
      expect([...seen].sort(), name).toEqual([...dist.choices].sort());
    }
  });

  it('a space of consts yields exactly those values', () => {
    const fixed = mergeSpace(parseSpace({ depth: { type: 'const', value: 1 } }), { width: 32, optimizer: 'sgd' });
    const s = createSampler(fixed, { kind: 'random', seed: 1 });
    expect(s.sample(0).params).toEqual({ depth: 1, width: 32, optimizer: 'sgd' });
    expect(s.sample(1).duplicate).toBe(true);
  });
});

describe('duplicate avoidance', () => {
  it('six draws of a six-configuration space are all distinct, for every seed', () => {
    for (let seed = 0; seed < 30; seed++) {
      const s = createSampler(TINY, { kind: 'random', seed });
      const keys = Array.from({ length: 6 }, (_, i) => s.sample(i)).map((x) => {
        expect(x.duplicate).toBe(false);
        return x.key;
      });
      expect(new Set(keys).size).toBe(6);
      // The space is exhausted: the seventh trial can only repeat, and says so.
      const seventh = s.sample(6);
      expect(seventh.duplicate).toBe(true);
      expect(seventh.attempts).toBe(100);
    }
  });

  it('retries are deterministic: the same seed needs the same attempts', () => {
    const attempts = (seed: number) => {
      const s = createSampler(TINY, { kind: 'random', seed });
      return Array.from({ length: 6 }, (_, i) => s.sample(i).attempts);
    };
    expect(attempts(3)).toEqual(attempts(3));
    expect(attempts(3).some((a) => a > 1)).toBe(true);
  });

  it('without retries the same space repeats configurations (the check above is not vacuous)', () => {
    let repeats = 0;
    for (let seed = 0; seed < 30; seed++) {
      const s = createSampler(TINY, { kind: 'random', seed, maxAttempts: 1 });
      repeats += Array.from({ length: 6 }, (_, i) => s.sample(i)).filter((x) => x.duplicate).length;
    }
    expect(repeats).toBeGreaterThan(30);
  });

  it('excluded configurations are never proposed', () => {
    const exclude = [
      { optimizer: 'sgd', activation: 'relu' },
      { activation: 'tanh', optimizer: 'adam' },
    ];
    const s = createSampler(TINY, { kind: 'random', seed: 4, exclude });
    const keys = Array.from({ length: 4 }, (_, i) => s.sample(i).key);
    expect(new Set(keys).size).toBe(4);
    for (const e of exclude) expect(keys).not.toContain(assignmentKey(e));
    expect(s.sample(4).duplicate).toBe(true);
  });

  it('the canonical key ignores key order and float noise but not real differences', () => {
    expect(assignmentKey({ a: 0.1 + 0.2, b: 'x' })).toBe(assignmentKey({ b: 'x', a: 0.3 }));
    expect(assignmentKey({ beta2: 0.99991 })).not.toBe(assignmentKey({ beta2: 0.999914 }));
    expect(assignmentKey({ l2: -0 })).toBe(assignmentKey({ l2: 0 }));
    expect(assignmentHash({ a: 1, b: 2 })).toBe(assignmentHash({ b: 2, a: 1 }));
    expect(assignmentHash({ a: 1 })).toMatch(/^[0-9a-f]{16}$/);
    expect(assignmentHash({ a: 1 })).not.toBe(assignmentHash({ a: 2 }));
  });
});

describe('warm start (enqueued)', () => {
  const enqueued: Assignment[] = [
    { learningRate: 0.001, optimizer: 'adam', depth: 2 },
    { learningRate: 0.05, optimizer: 'momentum', momentum: 0.9, depth: 0 },
  ];

  it('enqueued assignments are trials 0..k-1, then sampling continues without repeating them', () => {
    const s = createSampler(DEFAULT_SPACE, { kind: 'random', seed: 1, enqueued });
    expect(s.sample(0)).toMatchObject({ params: enqueued[0], source: 'enqueued', duplicate: false });
    expect(s.sample(1)).toMatchObject({ params: enqueued[1], source: 'enqueued' });
    const later = Array.from({ length: 20 }, (_, i) => s.sample(i + 2));
    expect(later.every((x) => x.source === 'random' && !x.duplicate)).toBe(true);
    // Trial numbers keep their seeds: trial 5 is the same draw with or without a queue in front.
    expect(s.sample(5).params).toEqual(createSampler(DEFAULT_SPACE, { kind: 'random', seed: 1 }).sample(5).params);
  });

  it('a repeated enqueued assignment is still run, but flagged', () => {
    const s = createSampler(TINY, {
      kind: 'random',
      seed: 1,
      enqueued: [
        { optimizer: 'sgd', activation: 'elu' },
        { activation: 'elu', optimizer: 'sgd' },
      ],
    });
    expect(s.sample(1).duplicate).toBe(true);
  });

  it('rejects enqueued assignments that are not valid models', () => {
    expect(() => createSampler(DEFAULT_SPACE, { kind: 'random', seed: 1, enqueued: [{ dropout: 2 }] })).toThrow(
      /enqueued assignment .* is not a valid model configuration/,
    );
    expect(() => createSampler(DEFAULT_SPACE, { kind: 'random', seed: 1, enqueued: [{ lr: 0.1 }] })).toThrow(
      /not tunable model parameters: lr/,
    );
  });
});

describe('createSampler', () => {
  it('validates the spec', () => {
    expect(() => createSampler(DEFAULT_SPACE, { kind: 'random' } as unknown as SamplerSpec)).toThrow();
    expect(() => createSampler(DEFAULT_SPACE, { kind: 'random', seed: -1 })).toThrow();
    expect(() => createSampler(DEFAULT_SPACE, { kind: 'grid', gridLevels: 0 })).toThrow();
    expect(() => createSampler(DEFAULT_SPACE, { kind: 'local', seed: 1, incumbents: [] })).toThrow(
      /at least one incumbent/,
    );
    expect(() =>
      createSampler(DEFAULT_SPACE, { kind: 'local', seed: 1, incumbents: [{ params: {}, score: 1 }], shrink: 1.5 }),
    ).toThrow();
    expect(() => createSampler(DEFAULT_SPACE, { kind: 'bayes', seed: 1 } as unknown as SamplerSpec)).toThrow();
  });

  it('rejects bad trial numbers', () => {
    const s = createSampler(DEFAULT_SPACE, { kind: 'random', seed: 1 });
    expect(() => s.sample(-1)).toThrow(RangeError);
    expect(() => s.sample(1.5)).toThrow(RangeError);
    expect(s.size).toBeNull();
  });
});
