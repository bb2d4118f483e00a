import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients; the engine never needs them, the autodiff reference does.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { resolveConfig, type ModelConfig } from '../../models/config';
import { backward, disposeNet, forwardTrain, graphOptions, penalty, toTensors, trainables, withTrainables, type TensorNet } from '../../models/engine/graph';
import { initialWeights } from '../../models/network';
import { Rng } from '../../models/random';
import { requireWasmSimd } from './fixtures';

beforeAll(requireWasmSimd);

/** A random batch, fixed dropout masks and class-weighted one-hot targets. */
function problem(config: ModelConfig, seed: number) {
  const rng = new Rng(seed);
  const rows = 24;
  const features = 7;
  const classes = 4;
  const w = initialWeights(config, features, classes, seed);
  // Non-trivial BN parameters so their gradients are exercised away from gamma = 1, beta = 0.
  for (const b of w.hidden) if (b.bn) for (let j = 0; j < b.bn.gamma.length; j++) (b.bn.gamma[j] = 0.5 + rng.next()), (b.bn.beta[j] = rng.normal() * 0.3);
  const x = tf.tensor2d(Float32Array.from({ length: rows * features }, () => rng.normal()), [rows, features]);
  const labels = Array.from({ length: rows }, () => rng.int(classes));
  const cw = [1, 2, 0.5, 1.5];
  const targets = tf.tensor2d(labels.flatMap((c) => Array.from({ length: classes }, (_, k) => (k === c ? cw[c]! : 0))), [rows, classes]);
  const rowWeights = tf.tensor2d(labels.map((c) => cw[c]!), [rows, 1]);
  const masks = w.hidden.map((b) =>
    config.dropout > 0 ? tf.tensor2d(Float32Array.from({ length: rows * b.dense.units }, () => (rng.next() < 1 - config.dropout ? 1 / (1 - config.dropout) : 0)), [rows, b.dense.units]) : null,
  );
  return { net: toTensors(w), x, targets, rowWeights, masks, rows };
}

const CASES: Partial<ModelConfig>[] = [
  { batchNorm: true, bnPlacement: 'before', activation: 'relu' },
  { batchNorm: true, bnPlacement: 'after', activation: 'relu' },
  { batchNorm: true, bnPlacement: 'before', activation: 'tanh', dropout: 0.3 },
  { batchNorm: true, bnPlacement: 'after', activation: 'sigmoid', l2: 0.01 },
  { batchNorm: false, activation: 'elu', l1: 0.01, l2: 0.005, dropout: 0.2 },
  { batchNorm: false, depth: 0 },
  { batchNorm: true, depth: 3, width: 9, activation: 'relu', bnPlacement: 'after', dropout: 0.1 },
];

describe('hand-written backward pass vs tfjs autodiff', () => {
  for (const partial of CASES) {
    it(`matches tf.grads for ${JSON.stringify(partial)}`, () => {
      const config = resolveConfig({ depth: 2, width: 6, ...partial });
      const opts = graphOptions(config);
      const reg = { l1: config.l1, l2: config.l2 };
      const { net, x, targets, rowWeights, masks, rows } = problem(config, 5);
      const params = trainables(net);

      // Autodiff of the loss the engine minimises: -sum(target * log softmax) / rows + penalty.
      const lossOf = (...ps: tf.Tensor[]) => {
        const n: TensorNet = withTrainables(net, ps);
        const fwd = forwardTrain(n, x, opts, masks);
        const data = tf.div(tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(fwd.logits)))), rows);
        return tf.add(data, penalty(n, reg)) as tf.Scalar;
      };
      const expected = tf.grads(lossOf)(params);

      const actual = tf.tidy(() => {
        const fwd = forwardTrain(net, x, opts, masks);
        const p = tf.softmax(fwd.logits);
        const dLogits = tf.div(tf.sub(tf.mul(p, rowWeights), targets), rows) as tf.Tensor2D;
        return backward(net, fwd, dLogits, opts, reg);
      });

      expect(actual).toHaveLength(expected.length);
      actual.forEach((g, i) => {
        const e = expected[i]!;
        expect(g.shape).toEqual(e.shape);
        const scale = Math.max(1e-3, tf.max(tf.abs(e)).dataSync()[0]!);
        const diff = tf.max(tf.abs(tf.sub(g, e))).dataSync()[0]!;
        // L1's sign() has no gradient in tfjs autodiff at exactly 0, never hit with random weights.
        expect(diff / scale, `param ${i}`).toBeLessThan(1e-4);
      });
      tf.dispose([...actual, ...expected, x, targets, rowWeights, ...masks.filter((m): m is tf.Tensor2D => m !== null)]);
      disposeNet(net);
    });
  }
});
