import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { resolveConfig } from '../../models/config';
import type { Split } from '../../models/dataset';
import { train } from '../../models/train';
import { digitsSplit, requireWasmSimd, shrink } from './fixtures';
import { trackWasmHeap } from './wasm-heap';

let split: Split;
beforeAll(async () => {
  await requireWasmSimd();
  split = await digitsSplit();
});

const withoutTimes = (h: { ms: number }[]) => h.map(({ ms: _ms, ...rest }) => rest);

describe('train() on digits inside workerd', () => {
  it('reaches >= 95% validation accuracy within 20 epochs on wasm-SIMD, with falling loss', async () => {
    const config = resolveConfig({
      depth: 2,
      width: 128,
      batchNorm: true,
      optimizer: 'adam',
      learningRate: 2e-3,
      epochs: 20,
      batchSize: 32,
    });
    const result = await train(config, split, 7);
    expect(result.backend).toBe('wasm');
    expect(result.status).toBe('complete');
    expect(result.history).toHaveLength(20);
    const first = result.history[0]!;
    const last = result.history.at(-1)!;
    expect(last.loss).toBeLessThan(first.loss / 4);
    expect(last.valLoss).toBeLessThan(first.valLoss);
    expect(result.final!.valAccuracy).toBeGreaterThanOrEqual(0.95);
    expect(result.weights).not.toBeNull();
    // BN moving statistics moved away from their initial 0 / 1.
    const bn = result.weights!.hidden[0]!.bn!;
    expect(bn.movingMean.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    expect(bn.movingVariance.some((v) => Math.abs(v - 1) > 1e-3)).toBe(true);
  });

  it('is deterministic: same seed, same history and weights; another seed differs', async () => {
    const small = shrink(split, 400);
    const config = resolveConfig({ epochs: 3, dropout: 0.2, batchSize: 32 });
    const a = await train(config, small, 11);
    const b = await train(config, small, 11);
    const c = await train(config, small, 12);
    expect(withoutTimes(a.history)).toEqual(withoutTimes(b.history));
    expect(a.weights!.output.kernel).toEqual(b.weights!.output.kernel);
    expect(withoutTimes(c.history)).not.toEqual(withoutTimes(a.history));
  });

  it('does not leak tensors across repeated trainings', async () => {
    const small = shrink(split, 200);
    const configs = [
      resolveConfig({ epochs: 2, optimizer: 'adam', dropout: 0.3 }),
      resolveConfig({
        epochs: 2,
        optimizer: 'momentum',
        bnPlacement: 'after',
        l1: 1e-4,
        l2: 1e-4,
        classWeights: 'balanced',
      }),
      resolveConfig({ epochs: 2, optimizer: 'rmsprop', batchNorm: false, activation: 'tanh' }),
    ];
    await train(configs[0]!, small, 1); // warm-up: kernels may allocate lazily on first use
    const before = tf.memory();
    // The engine allocates with _malloc, which tf.memory() never sees: count the heap itself.
    const heap = trackWasmHeap();
    try {
      for (let i = 0; i < 3; i++) for (const c of configs) await train(c, small, i);
      expect(heap.allocations()).toBeGreaterThan(0);
      expect(heap.outstanding()).toBe(0);
    } finally {
      heap.stop();
    }
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
  });

  it('ends `diverged` on a huge learning rate and returns no weights', async () => {
    const config = resolveConfig({
      batchNorm: false,
      optimizer: 'sgd',
      learningRate: 90,
      depth: 3,
      width: 64,
      epochs: 5,
      init: 'randomNormal',
    });
    const before = tf.memory().numTensors;
    const result = await train(config, shrink(split, 300), 3);
    expect(result.status).toBe('diverged');
    expect(result.stopReason).toBe('non_finite_loss');
    expect(result.weights).toBeNull();
    expect(result.final).toBeNull();
    expect(result.history.length).toBeLessThan(5);
    expect(Number.isFinite(result.history.at(-1)!.loss)).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops at the time budget with a complete, usable result', async () => {
    const config = resolveConfig({ epochs: 200, batchSize: 16 });
    const result = await train(config, shrink(split, 600), 5, { maxSeconds: 0.3 });
    expect(result.status).toBe('complete');
    expect(result.stopReason).toBe('time_budget');
    expect(result.timing.epochsRun).toBeLessThan(200);
    expect(result.weights).not.toBeNull();
  });
});
