import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { INITIALISERS, OPTIMIZERS, resolveConfig, type ModelConfig } from '../../models/config';
import type { Split } from '../../models/dataset';
import { createOptimizer } from '../../models/engine/optimizers';
import { initialWeights } from '../../models/network';
import { train } from '../../models/train';
import { digitsSplit, requireWasmSimd, shrink } from './fixtures';

let split: Split;
beforeAll(async () => {
  await requireWasmSimd();
  split = shrink(await digitsSplit(), 500, 150);
});

/** Runs `steps` optimizer updates of a scalar parameter under a constant gradient. */
function steps(optimizer: ModelConfig['optimizer'], count: number, grad = 0.5, lr = 0.1): number[] {
  const opt = createOptimizer(
    resolveConfig({ optimizer, momentum: 0.9, rho: 0.9, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 }),
  );
  let params = [tf.scalar(1) as tf.Tensor];
  const seen: number[] = [];
  for (let i = 0; i < count; i++) {
    params = tf.tidy(() => opt.apply(params, [tf.scalar(grad)], lr));
    seen.push(params[0]!.dataSync()[0]!);
  }
  tf.dispose(params);
  opt.dispose();
  return seen;
}

describe('optimizers follow their update rules', () => {
  it('sgd: p -= lr g', () => {
    expect(steps('sgd', 2)).toEqual([expect.closeTo(0.95, 6), expect.closeTo(0.9, 6)]);
  });
  it('momentum: v = m v - lr g; p += v', () => {
    expect(steps('momentum', 2)).toEqual([expect.closeTo(0.95, 6), expect.closeTo(0.855, 6)]);
  });
  it('rmsprop: ms = rho ms + (1 - rho) g^2; p -= lr g / (sqrt(ms) + eps)', () => {
    const ms1 = 0.1 * 0.25;
    const p1 = 1 - (0.1 * 0.5) / (Math.sqrt(ms1) + 1e-7);
    const ms2 = 0.9 * ms1 + 0.1 * 0.25;
    expect(steps('rmsprop', 2)).toEqual([
      expect.closeTo(p1, 5),
      expect.closeTo(p1 - (0.1 * 0.5) / (Math.sqrt(ms2) + 1e-7), 5),
    ]);
  });
  it('adam: bias-corrected first step moves by lr', () => {
    // m_hat = g, v_hat = g^2 on the first step, so the step is lr * g / |g| = lr.
    expect(steps('adam', 1)[0]).toBeCloseTo(0.9, 5);
  });
  for (const optimizer of OPTIMIZERS) {
    it(`${optimizer} trains digits (loss falls over 4 epochs)`, async () => {
      const lr = { sgd: 0.05, momentum: 0.02, rmsprop: 1e-3, adam: 2e-3 }[optimizer];
      const r = await train(resolveConfig({ optimizer, learningRate: lr, epochs: 4, batchSize: 32 }), split, 2);
      expect(r.status).toBe('complete');
      expect(r.history.at(-1)!.loss).toBeLessThan(r.history[0]!.loss * 0.7);
      expect(r.final!.valAccuracy).toBeGreaterThan(0.8);
    });
  }
});

describe('learning-rate decay', () => {
  it('step decay lowers the rate at the step and only there', async () => {
    const r = await train(
      resolveConfig({ decay: 'step', learningRate: 0.01, decayRate: 0.5, decaySteps: 2, epochs: 5 }),
      split,
      1,
    );
    expect(r.history.map((h) => h.learningRate)).toEqual([0.01, 0.01, 0.005, 0.005, 0.0025]);
  });
  it('exponential decay multiplies the rate every epoch', async () => {
    const r = await train(
      resolveConfig({ decay: 'exponential', learningRate: 0.01, decayRate: 0.8, epochs: 3 }),
      split,
      1,
    );
    const lrs = r.history.map((h) => h.learningRate);
    expect(lrs[0]).toBeCloseTo(0.01, 12);
    expect(lrs[1]).toBeCloseTo(0.008, 12);
    expect(lrs[2]).toBeCloseTo(0.0064, 12);
  });
  it('a decayed rate changes training compared to a constant one', async () => {
    const base = { learningRate: 0.01, epochs: 3, optimizer: 'sgd' as const };
    const constant = await train(resolveConfig(base), split, 4);
    const decayed = await train(resolveConfig({ ...base, decay: 'step', decayRate: 0.1, decaySteps: 1 }), split, 4);
    expect(decayed.history[0]!.loss).toBe(constant.history[0]!.loss);
    expect(decayed.history[2]!.loss).not.toBe(constant.history[2]!.loss);
  });
});

describe('regularisation, dropout, class weights, initialisers', () => {
  const sumAbs = (a: Float32Array) => a.reduce((s, v) => s + Math.abs(v), 0);
  const sumSq = (a: Float32Array) => a.reduce((s, v) => s + v * v, 0);

  it('L2 raises the reported loss and shrinks the kernels', async () => {
    const plain = await train(resolveConfig({ epochs: 6 }), split, 8);
    const l2 = await train(resolveConfig({ epochs: 6, l2: 1e-2 }), split, 8);
    expect(l2.history[0]!.loss).toBeGreaterThan(plain.history[0]!.loss);
    expect(sumSq(l2.weights!.hidden[0]!.dense.kernel)).toBeLessThan(sumSq(plain.weights!.hidden[0]!.dense.kernel));
  });

  it('L1 raises the reported loss and shrinks the kernels in absolute value', async () => {
    const plain = await train(resolveConfig({ epochs: 6 }), split, 8);
    const l1 = await train(resolveConfig({ epochs: 6, l1: 1e-3 }), split, 8);
    expect(l1.history[0]!.loss).toBeGreaterThan(plain.history[0]!.loss);
    expect(sumAbs(l1.weights!.hidden[0]!.dense.kernel)).toBeLessThan(sumAbs(plain.weights!.hidden[0]!.dense.kernel));
  });

  it('dropout is active in training (training fit is worse) and off for validation', async () => {
    // Without BN: dropout before a BN layer shifts the variance BN sees between training and inference.
    const base = { epochs: 10, batchNorm: false, learningRate: 3e-3 };
    const plain = await train(resolveConfig(base), split, 6);
    const dropped = await train(resolveConfig({ ...base, dropout: 0.5 }), split, 6);
    const last = dropped.history.at(-1)!;
    expect(last.accuracy).toBeLessThan(plain.history.at(-1)!.accuracy);
    // Validation runs the inference path without dropout: it beats the noisy training-mode accuracy.
    expect(last.valAccuracy).toBeGreaterThan(last.accuracy);
    expect(last.valAccuracy).toBeGreaterThan(0.85);
  });

  it('class weights scale the loss: all weights 2 doubles the first step loss', async () => {
    const one = {
      epochs: 1,
      batchSize: split.train.rows,
      optimizer: 'sgd' as const,
      learningRate: 1e-9,
      batchNorm: false,
    };
    const a = await train(resolveConfig(one), split, 3);
    const b = await train(resolveConfig({ ...one, classWeights: Array(10).fill(2) }), split, 3);
    expect(b.history[0]!.loss).toBeCloseTo(2 * a.history[0]!.loss, 4);
    const balanced = await train(resolveConfig({ ...one, classWeights: 'balanced' }), split, 3);
    expect(balanced.history[0]!.loss).not.toBe(a.history[0]!.loss);
  });

  for (const init of INITIALISERS) {
    it(`${init} initialisation is seeded and trains`, async () => {
      const config = resolveConfig({ init, epochs: 3, learningRate: 2e-3 });
      expect(initialWeights(config, 64, 10, 1).hidden[0]!.dense.kernel).toEqual(
        initialWeights(config, 64, 10, 1).hidden[0]!.dense.kernel,
      );
      const r = await train(config, split, 1);
      expect(r.final!.valAccuracy).toBeGreaterThan(0.8);
    });
  }
});
