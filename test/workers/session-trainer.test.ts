import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../models/config';
import { createFlatOptimizer } from '../../models/engine/optimizers';
import { mixSeed, Rng } from '../../models/random';
import { sessionFloats, startSession, trainSlice, type SessionState } from '../../models/session-trainer';
import { train, type EpochRecord } from '../../models/train';
import { digitsSplit, requireWasmSimd, shrink } from './fixtures';

const curve = (h: EpochRecord[]) => h.map(({ ms: _ms, ...rest }) => rest);
/** As the state crosses a Durable Object boundary: structured clone. */
const persisted = (s: SessionState): SessionState => structuredClone(s);

describe('resumable training (session trainer)', () => {
  it('an Rng restored from its state continues the same stream, spare normal included', () => {
    const a = new Rng(mixSeed(7, 3));
    for (let i = 0; i < 5; i++) a.next();
    a.normal(); // leaves a spare normal behind
    const b = Rng.fromState(structuredClone(a.state()));
    expect(Array.from({ length: 50 }, () => [b.normal(), b.nextUint32()])).toEqual(
      Array.from({ length: 50 }, () => [a.normal(), a.nextUint32()]),
    );
  });

  it('optimizer state refuses a different optimizer kind', () => {
    const adam = createFlatOptimizer(resolveConfig({ optimizer: 'adam' }));
    expect(() => createFlatOptimizer(resolveConfig({ optimizer: 'rmsprop' })).importState(adam.exportState())).toThrow(
      /cannot restore/,
    );
  });

  it('sessionFloats counts exactly the floats of the stored weights', async () => {
    const split = shrink(await digitsSplit(), 50);
    for (const over of [
      { depth: 0 },
      { depth: 2, width: 24, batchNorm: true },
      { depth: 3, width: 10, batchNorm: false },
    ]) {
      const config = resolveConfig(over);
      const w = startSession(config, split, 1).weights;
      const floats = [
        ...w.hidden.flatMap((h) => [
          h.dense.kernel,
          h.dense.bias,
          ...(h.bn ? [h.bn.gamma, h.bn.beta, h.bn.movingMean, h.bn.movingVariance] : []),
        ]),
        w.output.kernel,
        w.output.bias,
      ];
      expect(sessionFloats(config, split.features, split.classes)).toBe(floats.reduce((n, a) => n + a.length, 0));
    }
  });

  for (const optimizer of ['adam', 'momentum', 'rmsprop'] as const) {
    it(`slices of 2+1+2 epochs with the state persisted in between (then one past the end, training nothing) reproduce train() exactly (${optimizer}, BN, dropout)`, async () => {
      await requireWasmSimd();
      const split = shrink(await digitsSplit(), 400);
      const config = resolveConfig({
        optimizer,
        depth: 2,
        width: 24,
        dropout: 0.2,
        batchNorm: true,
        epochs: 5,
        batchSize: 32,
        decay: 'step',
        decaySteps: 2,
        decayRate: 0.5,
      });
      const reference = await train(config, split, 123);
      let state = persisted(startSession(config, split, 123));
      const records: EpochRecord[] = [];
      for (const n of [2, 1, 2, 4]) {
        const slice = trainSlice(state, split, n);
        expect(slice.diverged).toBe(false);
        records.push(...slice.records);
        state = persisted(slice.state);
      }
      expect(state.epoch).toBe(5);
      expect(records).toHaveLength(5);
      expect(curve(records)).toEqual(curve(reference.history));
      expect(state.weights).toEqual(reference.weights);
    });
  }
});
