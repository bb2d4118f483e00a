import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { resolveConfig, type ModelConfig } from '../../models/config';
import { foldNetwork } from '../../models/fold';
import { forwardFoldedRow } from '../oracles/forward-js';
import { Predictor } from '../../models/infer';
import { initialWeights, specOf } from '../../models/network';
import { Rng } from '../../models/random';
import { maxAbsDiff, requireWasmSimd } from './fixtures';
import { trackWasmHeap } from './wasm-heap';

beforeAll(requireWasmSimd);

function folded(partial: Partial<ModelConfig>, features = 12, classes = 5) {
  const config = resolveConfig({ depth: 2, width: 16, ...partial });
  const w = initialWeights(config, features, classes, 3);
  const rng = new Rng(4);
  for (const b of w.hidden) {
    for (let j = 0; j < b.dense.bias.length; j++) b.dense.bias[j] = rng.normal() * 0.1;
    if (b.bn)
      for (let j = 0; j < b.bn.gamma.length; j++) {
        b.bn.movingMean[j] = rng.normal() * 0.2;
        b.bn.movingVariance[j] = 0.5 + rng.next();
      }
  }
  return foldNetwork(w, specOf(config));
}

const rows = (n: number, features: number, seed = 9) => {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * features }, () => rng.normal());
};

describe('Predictor direct-wasm path', () => {
  for (const activation of ['relu', 'tanh', 'sigmoid', 'elu'] as const) {
    it(`agrees with the float64 reference forward pass (${activation}), across the chunk boundary`, () => {
      const net = folded({ activation, bnPlacement: activation === 'elu' ? 'after' : 'before' });
      const p = new Predictor(net);
      // 600 rows: more than one 256-row chunk, and a partial last chunk.
      const x = rows(600, net.features);
      const probs = p.predictProba(x, 600);
      for (const r of [0, 255, 256, 511, 599]) {
        const ref = forwardFoldedRow(net, x.subarray(r * net.features, (r + 1) * net.features));
        expect(maxAbsDiff(probs.subarray(r * net.classes, (r + 1) * net.classes), ref)).toBeLessThan(1e-5);
        const alone = p.predictProba(x.slice(r * net.features, (r + 1) * net.features), 1);
        expect(maxAbsDiff(alone, probs.subarray(r * net.classes, (r + 1) * net.classes))).toBeLessThan(1e-6);
      }
      p.dispose();
    });
  }

  it('several predictors coexist, and each keeps its own weights', () => {
    const a = folded({ activation: 'relu' });
    const b = folded({ activation: 'tanh', depth: 1 });
    const pa = new Predictor(a);
    const pb = new Predictor(b);
    const x = rows(3, a.features);
    const first = pa.predictProba(x, 3);
    pb.predictProba(x, 3);
    pb.dispose();
    expect(pa.predictProba(x, 3)).toEqual(first);
    pa.dispose();
  });

  it('allocates no tfjs tensors and no wasm heap per prediction, and dispose frees every heap byte', () => {
    const heap = trackWasmHeap();
    try {
      const p = new Predictor(folded({}));
      const held = heap.outstanding();
      expect(held).toBeGreaterThan(0);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) p.predictProba(rows(7, 12, i), 7);
      expect(tf.memory().numTensors).toBe(before);
      expect(heap.outstanding()).toBe(held);
      p.dispose();
      expect(heap.outstanding()).toBe(0);
    } finally {
      heap.stop();
    }
  });

  it('rejects input of the wrong length', () => {
    const p = new Predictor(folded({}));
    expect(() => p.predictProba(new Float32Array(5), 1)).toThrow(/expected 12 values/);
    p.dispose();
  });
});
