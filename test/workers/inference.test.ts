import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { resolveConfig, type ModelConfig } from '../../models/config';
import type { Split } from '../../models/dataset';
import { foldNetwork } from '../../models/fold';
import { Predictor } from '../../models/infer';
import { buildLayersModel, setLayersWeights } from '../oracles/layers';
import { specOf } from '../../models/network';
import { train } from '../../models/train';
import { digitsSplit, maxAbsDiff, requireWasmSimd } from './fixtures';

let split: Split;
let rawTest: Float32Array;
beforeAll(async () => {
  await requireWasmSimd();
  split = await digitsSplit();
  // The predictor takes raw features (standardisation is folded in); undo it on the test rows.
  const { mean, std } = split.standardisation;
  rawTest = split.test.x.map((v, i) => v * std[i % split.features]! + mean[i % split.features]!);
});

const CASES: Partial<ModelConfig>[] = [
  { batchNorm: true, bnPlacement: 'before', activation: 'relu' },
  { batchNorm: true, bnPlacement: 'after', activation: 'relu', dropout: 0.5 },
  { batchNorm: true, bnPlacement: 'before', activation: 'tanh', depth: 3, width: 48 },
  { batchNorm: true, bnPlacement: 'after', activation: 'elu', depth: 1 },
  { batchNorm: false, activation: 'sigmoid', dropout: 0.3 },
  { batchNorm: false, depth: 0 },
];

describe('folded serving path vs the unfolded tfjs-layers model in inference mode', () => {
  for (const partial of CASES) {
    it(`agrees within 1e-5, one row == the same row in a 256-row batch: ${JSON.stringify(partial)}`, async () => {
      const config = resolveConfig({ depth: 2, width: 64, epochs: 3, batchSize: 32, ...partial });
      const trained = await train(config, split, 3);
      const weights = trained.weights!;

      const model = buildLayersModel(config, split.features, split.classes);
      setLayersWeights(model, weights);
      const rows = split.test.rows;
      const reference = tf.tidy(() =>
        (model.predict(tf.tensor2d(split.test.x, [rows, split.features]), { batchSize: rows }) as tf.Tensor).dataSync(),
      );
      model.dispose();

      const predictor = new Predictor(foldNetwork(weights, specOf(config), split.standardisation));
      const ours = predictor.predictProba(rawTest, rows);
      expect(maxAbsDiff(ours, reference)).toBeLessThan(1e-5);

      const batch = predictor.predictProba(rawTest.subarray(0, 256 * split.features), 256);
      for (const r of [0, 1, 100, 255]) {
        const alone = predictor.predictProba(rawTest.subarray(r * split.features, (r + 1) * split.features), 1);
        expect(maxAbsDiff(alone, batch.subarray(r * split.classes, (r + 1) * split.classes))).toBeLessThan(1e-6);
      }
      // Dropout is off at inference: the same input gives the same answer every time.
      expect(predictor.predictProba(rawTest, rows)).toEqual(ours);
      predictor.dispose();
    });
  }

  it('serving accuracy on the test split equals the validation-level accuracy of training', async () => {
    const config = resolveConfig({ epochs: 15, batchSize: 32, learningRate: 2e-3 });
    const trained = await train(config, split, 21);
    const predictor = new Predictor(foldNetwork(trained.weights!, specOf(config), split.standardisation));
    const probs = predictor.predictProba(rawTest, split.test.rows);
    let hits = 0;
    for (let r = 0; r < split.test.rows; r++) {
      const row = probs.subarray(r * split.classes, (r + 1) * split.classes);
      if (row.indexOf(Math.max(...row)) === split.test.y[r]) hits++;
    }
    const testAccuracy = hits / split.test.rows;
    expect(testAccuracy).toBeGreaterThan(0.95);
    predictor.dispose();
  });
});
