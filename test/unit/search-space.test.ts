import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, ModelConfigSchema } from '../../models/config';
import { activeAssignment, DEFAULT_SPACE, mergeSpace, parseSpace, SpaceError, toConfig } from '../../models/search';

/** The issues of the SpaceError thrown by fn (fails the test if fn does not throw one). */
function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SpaceError);
    return (err as SpaceError).issues;
  }
  throw new Error('expected a SpaceError');
}

describe('DEFAULT_SPACE', () => {
  it('covers every ModelConfig key except epochs', () => {
    const modelKeys = Object.keys(ModelConfigSchema.shape).filter((k) => k !== 'epochs');
    expect(Object.keys(DEFAULT_SPACE).sort()).toEqual(modelKeys.sort());
  });

  it('is JSON round-trippable, order included', () => {
    const back = parseSpace(JSON.parse(JSON.stringify(DEFAULT_SPACE)));
    expect(back).toEqual(DEFAULT_SPACE);
    expect(Object.keys(back)).toEqual(Object.keys(DEFAULT_SPACE));
  });

  it('uses the documented scales', () => {
    // Per-optimizer learning-rate ranges (SGD needs larger rates than the adaptive methods).
    expect(DEFAULT_SPACE.learningRate).toMatchObject({ type: 'float', low: 1e-4, high: 1, log: true });
    expect((DEFAULT_SPACE.learningRate as { cases: unknown }).cases).toEqual({
      optimizer: {
        sgd: { low: 3e-3, high: 1 },
        momentum: { low: 1e-3, high: 0.3 },
        rmsprop: { low: 1e-4, high: 1e-2 },
        adam: { low: 1e-4, high: 1e-2 },
      },
    });
    expect(DEFAULT_SPACE.batchSize).toEqual({ type: 'categorical', choices: [16, 32, 64, 128] });
    expect(DEFAULT_SPACE.depth).toEqual({ type: 'int', low: 0, high: 4 });
    expect(DEFAULT_SPACE.l2).toMatchObject({ type: 'float', log: true, zeroProbability: 0.5 });
    // Digits-shaped default context: 20 epochs x ceil(1257 / 128) = 200 steps at the largest batch, v >= 5 / 200.
    expect(DEFAULT_SPACE.bnMomentum).toMatchObject({
      type: 'float',
      low: 0.025,
      high: 0.2,
      log: true,
      oneMinus: true,
      when: { batchNorm: [true] },
    });
    for (const k of ['momentum', 'rho', 'beta1', 'beta2', 'bnMomentum', 'decayRate'])
      expect(DEFAULT_SPACE[k]).toMatchObject({ oneMinus: true });
    expect(DEFAULT_SPACE.momentum!.when).toEqual({ optimizer: ['momentum'] });
    expect(DEFAULT_SPACE.rho!.when).toEqual({ optimizer: ['rmsprop'] });
    expect(DEFAULT_SPACE.decayRate!.when).toEqual({ decay: ['step', 'exponential'] });
  });
});

describe('parseSpace rejects invalid spaces with clear messages', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      'a condition on a later parameter',
      {
        momentum: { type: 'float', low: 0.1, high: 0.9, when: { optimizer: ['momentum'] } },
        optimizer: { type: 'categorical', choices: ['sgd', 'momentum'] },
      },
      /momentum\.when: refers to "optimizer", which is not declared before momentum/,
    ],
    [
      'a condition on itself',
      { depth: { type: 'int', low: 0, high: 4, when: { depth: [1] } } },
      /depth\.when: refers to itself/,
    ],
    [
      'an impossible condition value',
      {
        optimizer: { type: 'categorical', choices: ['sgd', 'adam'] },
        beta1: { type: 'float', low: 0.5, high: 0.9, when: { optimizer: ['Adam'] } },
      },
      /beta1\.when\.optimizer: "Adam" is not a possible value of optimizer/,
    ],
    [
      'a condition value outside an int range',
      { depth: { type: 'int', low: 0, high: 4 }, width: { type: 'int', low: 8, high: 64, when: { depth: [5] } } },
      /width\.when\.depth: 5 is not a possible value/,
    ],
    [
      'an empty condition list',
      {
        batchNorm: { type: 'categorical', choices: [true, false] },
        bnPlacement: { type: 'const', value: 'after', when: { batchNorm: [] } },
      },
      /bnPlacement\.when\.batchNorm: lists no allowed value/,
    ],
    [
      'log with low 0',
      { learningRate: { type: 'float', low: 0, high: 1, log: true } },
      /learningRate: log scale needs low > 0/,
    ],
    [
      'low >= high',
      { dropout: { type: 'float', low: 0.5, high: 0.5 } },
      /dropout: low \(0\.5\) must be below high \(0\.5\); use a const/,
    ],
    [
      'oneMinus without log',
      { beta1: { type: 'float', low: 0.01, high: 0.1, oneMinus: true } },
      /beta1: oneMinus needs log: true/,
    ],
    [
      'oneMinus with high > 1',
      { beta1: { type: 'float', low: 0.01, high: 2, log: true, oneMinus: true } },
      /beta1: oneMinus needs high <= 1/,
    ],
    [
      'step with log',
      { learningRate: { type: 'float', low: 0.001, high: 0.1, log: true, step: 0.001 } },
      /learningRate: step cannot be combined with log/,
    ],
    [
      'zeroProbability with low 0',
      { l1: { type: 'float', low: 0, high: 0.01, zeroProbability: 0.5 } },
      /l1: zeroProbability needs low > 0/,
    ],
    ['a non-integer int bound', { depth: { type: 'int', low: 0, high: 3.5 } }, /depth\.high: /],
    ['int log with low 0', { width: { type: 'int', low: 0, high: 64, log: true } }, /width: log scale needs low >= 1/],
    [
      'duplicate choices',
      { batchSize: { type: 'categorical', choices: [32, 64, 32] } },
      /batchSize: choice 32 appears twice/,
    ],
    [
      'an unknown type',
      { depth: { type: 'integer', low: 0, high: 4 } },
      /depth\.type: must be one of float, int, categorical, const \(got "integer"\)/,
    ],
    ['an unknown field', { depth: { type: 'int', low: 0, high: 4, levels: 3 } }, /depth: .*levels/i],
    ['an unknown parameter', { lr: { type: 'float', low: 0.001, high: 0.1 } }, /lr: not a tunable model parameter/],
    [
      'epochs',
      { epochs: { type: 'int', low: 1, high: 10 } },
      /epochs: not a tunable model parameter \(epochs comes from the study budget\)/,
    ],
    [
      'values the model rejects',
      { dropout: { type: 'float', low: 0, high: 0.95 } },
      /dropout: can produce 0\.95, which the model rejects/,
    ],
    [
      'a float range on an integer key',
      { depth: { type: 'float', low: 0, high: 4 } },
      /depth: can produce .* which the model rejects/,
    ],
    ['a const the model rejects', { optimizer: { type: 'const', value: 'lbfgs' } }, /optimizer: can produce "lbfgs"/],
    ['an empty space', {}, /no parameters/],
    [
      'an inherited property name',
      JSON.parse('{"toString": {"type": "const", "value": 1}}'),
      /toString: not a tunable model parameter/,
    ],
    [
      'a prototype key',
      JSON.parse('{"__proto__": {"type": "const", "value": 1}}'),
      /__proto__: not a tunable model parameter/,
    ],
  ];
  for (const [what, space, message] of cases) {
    it(what, () => {
      const issues = issuesOf(() => parseSpace(space));
      expect(issues.join('\n')).toMatch(message);
    });
  }

  it('reports every problem at once', () => {
    const issues = issuesOf(() =>
      parseSpace({
        dropout: { type: 'float', low: 0, high: 2 },
        lr: { type: 'const', value: 1 },
        depth: { type: 'int', low: 3, high: 1 },
      }),
    );
    expect(issues).toHaveLength(3);
  });

  it('accepts a minimal valid space', () => {
    expect(parseSpace({ learningRate: { type: 'float', low: 0.001, high: 0.1, log: true } })).toEqual({
      learningRate: { type: 'float', low: 0.001, high: 0.1, log: true },
    });
  });
});

describe('mergeSpace', () => {
  it('replaces a distribution in place and keeps its condition', () => {
    const m = mergeSpace(DEFAULT_SPACE, {
      momentum: { type: 'float', low: 0.001, high: 0.1, log: true, oneMinus: true },
    });
    expect(Object.keys(m)).toEqual(Object.keys(DEFAULT_SPACE));
    expect(m.momentum).toEqual({
      type: 'float',
      low: 0.001,
      high: 0.1,
      log: true,
      oneMinus: true,
      when: { optimizer: ['momentum'] },
    });
  });

  it('fixes a parameter from a plain JSON value', () => {
    const m = mergeSpace(DEFAULT_SPACE, {
      batchSize: 32,
      bnPlacement: 'after',
      classWeights: [1, 2, 1, 1, 1, 1, 1, 1, 1, 1],
    });
    expect(m.batchSize).toEqual({ type: 'const', value: 32 });
    expect(m.bnPlacement).toEqual({ type: 'const', value: 'after', when: { batchNorm: [true] } });
    expect(m.classWeights).toEqual({ type: 'const', value: [1, 2, 1, 1, 1, 1, 1, 1, 1, 1] });
  });

  it('drops parameters a narrowed switch makes impossible and narrows conditions', () => {
    const m = mergeSpace(DEFAULT_SPACE, { optimizer: { type: 'categorical', choices: ['adam', 'sgd'] } });
    expect(m).not.toHaveProperty('momentum');
    expect(m).not.toHaveProperty('rho');
    expect(m.beta1!.when).toEqual({ optimizer: ['adam'] });
    expect(m.epsilon!.when).toEqual({ optimizer: ['adam'] });
  });

  it('drops the whole hidden-layer subtree when depth is fixed to 0 (transitively)', () => {
    const m = mergeSpace(DEFAULT_SPACE, { depth: 0 });
    for (const k of ['width', 'activation', 'dropout', 'batchNorm', 'bnPlacement', 'bnMomentum', 'bnEpsilon'])
      expect(m).not.toHaveProperty(k);
    expect(m).toHaveProperty('init');
  });

  it('an explicit when replaces the inherited one; when: {} removes it', () => {
    const m = mergeSpace(DEFAULT_SPACE, { epsilon: { type: 'const', value: 1e-8, when: {} } });
    expect(m.epsilon).toEqual({ type: 'const', value: 1e-8, when: {} });
  });

  it('appends new parameters after the base ones', () => {
    const base = parseSpace({ learningRate: { type: 'float', low: 0.001, high: 0.1, log: true } });
    const m = mergeSpace(base, { depth: { type: 'int', low: 0, high: 2 } });
    expect(Object.keys(m)).toEqual(['learningRate', 'depth']);
  });

  it('does not mutate the base space', () => {
    const before = JSON.stringify(DEFAULT_SPACE);
    mergeSpace(DEFAULT_SPACE, { optimizer: 'adam', depth: { type: 'int', low: 1, high: 2 } });
    expect(JSON.stringify(DEFAULT_SPACE)).toBe(before);
  });

  it('rejects an overridden parameter that can never be active', () => {
    const issues = issuesOf(() => mergeSpace(DEFAULT_SPACE, { optimizer: 'adam', momentum: 0.95 }));
    expect(issues).toEqual(['momentum: overridden, but it can never be active: optimizer can no longer be "momentum"']);
  });

  it('rejects invalid overrides with clear messages, all at once', () => {
    const issues = issuesOf(() =>
      mergeSpace(DEFAULT_SPACE, {
        dropout: { type: 'float', low: 0, high: 0.95 },
        learningRate: { type: 'float', low: 0, high: 0.1, log: true },
        depth: { type: 'int', low: 0 },
        lr: 0.01,
      }),
    );
    expect(issues).toHaveLength(4);
    const text = issues.join('\n');
    expect(text).toMatch(/learningRate: log scale needs low > 0/);
    expect(text).toMatch(/depth\.high: /);
    expect(text).toMatch(/dropout: can produce 0\.95, which the model rejects/);
    expect(text).toMatch(/lr: not a tunable model parameter/);
  });

  it('rejects a const value the model does not accept', () => {
    expect(issuesOf(() => mergeSpace(DEFAULT_SPACE, { batchSize: 0 })).join('\n')).toMatch(/batchSize: can produce 0/);
    expect(issuesOf(() => mergeSpace(DEFAULT_SPACE, { optimizer: 'nadam' })).join('\n')).toMatch(
      /optimizer: can produce "nadam"/,
    );
  });

  it('rejects an explicit condition on a value that is no longer possible', () => {
    const issues = issuesOf(() =>
      mergeSpace(DEFAULT_SPACE, {
        optimizer: 'adam',
        beta1: { type: 'const', value: 0.9, when: { optimizer: ['sgd'] } },
      }),
    );
    expect(issues.join('\n')).toMatch(/beta1\.when\.optimizer: "sgd" is not a possible value of optimizer/);
  });

  it('rejects prototype keys as override names without touching prototypes', () => {
    const issues = issuesOf(() =>
      mergeSpace(DEFAULT_SPACE, JSON.parse('{"__proto__": {"type": "const", "value": 1}}')),
    );
    expect(issues.join('\n')).toMatch(/__proto__: not a tunable model parameter/);
    expect(({} as Record<string, unknown>).type).toBeUndefined();
  });

  it('merged spaces stay JSON round-trippable', () => {
    const m = mergeSpace(DEFAULT_SPACE, { optimizer: 'adam', batchSize: { type: 'categorical', choices: [32, 64] } });
    expect(parseSpace(JSON.parse(JSON.stringify(m)))).toEqual(m);
  });
});

describe('activeAssignment', () => {
  it('drops keys that are dead under the space, keeps the rest', () => {
    const a = activeAssignment(DEFAULT_SPACE, {
      optimizer: 'adam',
      momentum: 0.9,
      beta1: 0.9,
      depth: 0,
      width: 64,
      learningRate: 0.01,
    });
    expect(a).toEqual({ optimizer: 'adam', beta1: 0.9, depth: 0, learningRate: 0.01 });
  });
});

describe('toConfig', () => {
  it('fills inactive parameters from DEFAULT_CONFIG and takes epochs from the budget', () => {
    const c = toConfig({ learningRate: 0.01, optimizer: 'sgd', depth: 0 }, 7);
    expect(c).toEqual({ ...DEFAULT_CONFIG, learningRate: 0.01, optimizer: 'sgd', depth: 0, epochs: 7 });
  });

  it('rejects unknown keys and epochs in the assignment', () => {
    expect(() => toConfig({ lr: 0.01 }, 5)).toThrow(/not tunable model parameters: lr/);
    expect(() => toConfig({ epochs: 3 }, 5)).toThrow(/epochs/);
  });

  it('rejects values the model does not accept', () => {
    expect(() => toConfig({ dropout: 0.99 }, 5)).toThrow();
    expect(() => toConfig({ depth: 1 }, 0)).toThrow();
  });
});
