import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../models/config';
import { createFlatOptimizer } from '../../models/engine/optimizers';
import { mixSeed, Rng } from '../../models/random';
import {
  batchesPerEpoch,
  sessionFloats,
  startSession,
  trainSlice,
  type SessionState,
} from '../../models/session-trainer';
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
        const slice = trainSlice(state, split, { epochs: n });
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

  it('slices cut inside epochs (1, 3, 7 batches...), persisted in between and with consumed state, reproduce train() exactly', async () => {
    await requireWasmSimd();
    const split = shrink(await digitsSplit(), 300);
    const config = resolveConfig({
      optimizer: 'adam',
      depth: 2,
      width: 16,
      dropout: 0.2,
      batchNorm: true,
      epochs: 3,
      batchSize: 64,
      decay: 'exponential',
      decayRate: 0.8,
    });
    const perEpoch = batchesPerEpoch(config, split.train.rows);
    expect(perEpoch).toBe(5);
    const reference = await train(config, split, 9);
    let state = persisted(startSession(config, split, 9));
    const records: EpochRecord[] = [];
    const cursors: number[] = [];
    const trained: number[] = [];
    for (const batches of [1, 3, 7, 2, 1, 100, 5]) {
      const slice = trainSlice(state, split, { batches }, { consume: true });
      expect(slice.diverged).toBe(false);
      trained.push(slice.batches);
      records.push(...slice.records);
      cursors.push(slice.state.cursor?.rowsDone ?? 0);
      state = persisted(slice.state);
    }
    expect(trained).toEqual([1, 3, 7, 2, 1, 1, 0]);
    // 1 -> 64 rows in; 4 -> 256; 11 -> epoch 3 at 64; 13 -> 192; 14 -> 256; 15 -> done; nothing more.
    expect(cursors).toEqual([64, 256, 64, 192, 256, 0, 0]);
    expect(state.epoch).toBe(3);
    expect(curve(records)).toEqual(curve(reference.history));
    expect(state.weights).toEqual(reference.weights);
  });

  it('an epoch begun under old hyperparameters finishes under them; the slice stops there and the next epoch takes the new ones', async () => {
    await requireWasmSimd();
    const split = shrink(await digitsSplit(), 300);
    const config = resolveConfig({ depth: 1, width: 16, epochs: 3, batchSize: 64, learningRate: 0.01 });
    let state = persisted(startSession(config, split, 4));
    let slice = trainSlice(state, split, { batches: 2 });
    // Both batches went to the epoch still in progress.
    expect(slice.epochBatches).toEqual([]);
    state = persisted({ ...slice.state, config: { ...slice.state.config, learningRate: 0.001, batchSize: 100 } });
    slice = trainSlice(state, split, { batches: 100 });
    // Three batches of 64 finish epoch 1 at the old rate, then the slice stops at the boundary.
    expect(slice.batches).toBe(3);
    expect(slice.epochBatches).toEqual([3]);
    expect(slice.records.map((r) => [r.epoch, r.learningRate])).toEqual([[1, 0.01]]);
    expect(slice.state.cursor).toBeNull();
    slice = trainSlice(persisted(slice.state), split, { batches: 100 });
    expect(slice.batches).toBe(2 * 3);
    expect(slice.epochBatches).toEqual([3, 3]);
    expect(slice.records.map((r) => [r.epoch, r.learningRate])).toEqual([
      [2, 0.001],
      [3, 0.001],
    ]);
  });
});
