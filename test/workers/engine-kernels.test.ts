import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { resolveConfig, type ModelConfig } from '../../models/config';
import { Engine, engineSpec } from '../../models/engine/engine';
import { JsKernels } from '../../models/engine/js-kernels';
import { initialWeights } from '../../models/network';
import { Rng } from '../../models/random';
import { train } from '../../models/train';
import { digitsSplit, requireWasmSimd, shrink } from './fixtures';

beforeAll(requireWasmSimd);

/** Loss and gradients of one training-mode batch on the given kernels. */
function gradients(config: ModelConfig, rows: number, js: boolean) {
  const [features, classes] = [9, 4];
  const rng = new Rng(8);
  const x = Float32Array.from({ length: rows * features }, () => rng.normal());
  const y = Int32Array.from({ length: rows }, () => rng.int(classes));
  const engine = new Engine(
    engineSpec(config, features, classes),
    rows,
    config.dropout > 0,
    js ? new JsKernels() : undefined,
  );
  engine.setWeights(initialWeights(config, features, classes, 2));
  engine.stage(x, y, null, 0, rows);
  const maskRng = new Rng(9);
  engine.forward(rows, true, (_l, mask, n) => {
    for (let i = 0; i < n; i++) mask[i] = maskRng.next() < 0.7 ? 1 / 0.7 : 0;
  });
  const loss = engine.loss(rows, [1, 2, 1, 0.5], true).loss;
  engine.backward(rows);
  const g = engine.gradients();
  engine.dispose();
  return { loss, g };
}

describe('plain-JS kernels (the engine on backends other than wasm)', () => {
  for (const partial of [
    { batchNorm: true, bnPlacement: 'before' as const, activation: 'relu' as const },
    { batchNorm: true, bnPlacement: 'after' as const, activation: 'elu' as const, dropout: 0.3, l2: 0.01 },
    { batchNorm: false, activation: 'sigmoid' as const, width: 48, l1: 0.01 },
  ]) {
    it(`give the wasm kernels' loss and gradients: ${JSON.stringify(partial)}`, () => {
      const config = resolveConfig({ depth: 2, width: 12, ...partial });
      const wasm = gradients(config, 16, false);
      const js = gradients(config, 16, true);
      expect(js.loss).toBeCloseTo(wasm.loss, 4);
      let scale = 1e-3;
      let diff = 0;
      for (let i = 0; i < wasm.g.length; i++) {
        scale = Math.max(scale, Math.abs(wasm.g[i]!));
        diff = Math.max(diff, Math.abs(js.g[i]! - wasm.g[i]!));
      }
      expect(diff / scale).toBeLessThan(1e-4);
    });
  }

  it('train() runs on the cpu backend through them and learns', async () => {
    const split = shrink(await digitsSplit(), 300, 100);
    const config = resolveConfig({ depth: 1, width: 32, epochs: 5, batchSize: 32, learningRate: 5e-3 });
    await tf.setBackend('cpu');
    try {
      const r = await train(config, split, 1);
      expect(r.backend).toBe('cpu');
      expect(r.status).toBe('complete');
      expect(r.history.at(-1)!.loss).toBeLessThan(r.history[0]!.loss);
      // Chance is 0.1.
      expect(r.final!.valAccuracy).toBeGreaterThan(0.6);
    } finally {
      await tf.setBackend('wasm');
    }
    expect(tf.getBackend()).toBe('wasm');
  });
});
