import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients; tfjs-layers' fit needs them (the engine does not).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { resolveConfig, type ModelConfig } from '../../models/config';
import type { Split } from '../../models/dataset';
import { initialWeights, type NetworkWeights } from '../../models/network';
import { buildLayersModel, flatLayersWeights, layersOptimizer, setLayersWeights } from '../oracles/layers';
import { train } from '../../models/train';
import { digitsSplit, maxAbsDiff, requireWasmSimd, shrink } from './fixtures';

let split: Split;
beforeAll(async () => {
  await requireWasmSimd();
  split = shrink(await digitsSplit(), 256, 64);
});

function flatten(w: NetworkWeights): number[] {
  const parts: Float32Array[] = [];
  for (const b of w.hidden) {
    parts.push(b.dense.kernel, b.dense.bias);
    if (b.bn) parts.push(b.bn.gamma, b.bn.beta, b.bn.movingMean, b.bn.movingVariance);
  }
  parts.push(w.output.kernel, w.output.bias);
  // Concatenated without spreading: wide layers exceed the call-stack limit of push(...array).
  return parts.flatMap((p) => Array.from(p));
}

/** Full-batch steps (order-independent) of tfjs-layers fit from the given weights. */
async function fitSteps(config: ModelConfig, start: NetworkWeights, steps: number): Promise<number[]> {
  const model = buildLayersModel(config, split.features, split.classes);
  setLayersWeights(model, start);
  model.compile({ optimizer: layersOptimizer(config), loss: 'sparseCategoricalCrossentropy' });
  const x = tf.tensor2d(split.train.x, [split.train.rows, split.features]);
  const y = tf.tensor1d(Array.from(split.train.y), 'float32');
  await model.fit(x, y, { batchSize: split.train.rows, epochs: steps, shuffle: false, verbose: 0 });
  const out = flatLayersWeights(model);
  tf.dispose([x, y]);
  model.dispose();
  return out;
}

const CASES: Partial<ModelConfig>[] = [
  { optimizer: 'sgd', learningRate: 0.1, batchNorm: true, bnPlacement: 'before', bnMomentum: 0.9 },
  { optimizer: 'sgd', learningRate: 0.1, batchNorm: true, bnPlacement: 'after', bnMomentum: 0.8, activation: 'tanh' },
  // Not Adam with BN *before* the activation: the Dense bias there has a ~1e-9 noise gradient that Adam
  // normalises to a full-size step, so the two implementations' rounding noise decides its direction.
  { optimizer: 'adam', learningRate: 0.01, batchNorm: true, bnPlacement: 'after', l2: 1e-3 },
  { optimizer: 'sgd', learningRate: 0.05, batchNorm: false, l1: 1e-3, activation: 'sigmoid' },
  { optimizer: 'momentum', learningRate: 0.05, momentum: 0.9, batchNorm: false, activation: 'elu' },
  // Layers at least twice as wide as the batch: the engine's transposed-product paths.
  { optimizer: 'sgd', learningRate: 0.1, batchNorm: true, bnPlacement: 'before', width: 512, activation: 'relu' },
  {
    optimizer: 'momentum',
    learningRate: 0.05,
    momentum: 0.9,
    batchNorm: true,
    bnPlacement: 'after',
    width: 512,
    activation: 'tanh',
    l2: 1e-3,
  },
];

describe('engine steps equal tfjs-layers fit steps (same weights, full batch)', () => {
  for (const partial of CASES) {
    it(`3 steps agree, BN moving statistics included: ${JSON.stringify(partial)}`, async () => {
      const config = resolveConfig({ depth: 2, width: 32, epochs: 3, batchSize: split.train.rows, ...partial });
      const start = initialWeights(config, split.features, split.classes, 9);
      const engine = await train(config, split, 1, { initialWeights: start });
      const reference = await fitSteps(config, start, 3);
      const ours = flatten(engine.weights!);
      expect(ours).toHaveLength(reference.length);
      expect(maxAbsDiff(ours, reference)).toBeLessThan(2e-5);
      // And the steps did move the weights.
      expect(maxAbsDiff(ours, flatten(start))).toBeGreaterThan(1e-3);
    });
  }
});
