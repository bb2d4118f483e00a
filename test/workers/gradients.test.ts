import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients; the engine never needs them, the autodiff reference does.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { resolveConfig, type ModelConfig } from '../../models/config';
import { Engine, engineSpec } from '../../models/engine/engine';
import { initialWeights, type NetworkWeights } from '../../models/network';
import { Rng } from '../../models/random';
import { requireWasmSimd } from './fixtures';

beforeAll(requireWasmSimd);

const ROWS = 24;
const FEATURES = 7;
const CLASSES = 4;
const CLASS_WEIGHTS = [1, 2, 0.5, 1.5];

/** A random batch, fixed dropout masks, and weights with non-trivial BN parameters. */
function problem(config: ModelConfig, seed: number) {
  const rng = new Rng(seed);
  const w = initialWeights(config, FEATURES, CLASSES, seed);
  // Gamma and beta away from 1 and 0 so their gradients are exercised.
  for (const b of w.hidden)
    if (b.bn)
      for (let j = 0; j < b.bn.gamma.length; j++) {
        b.bn.gamma[j] = 0.5 + rng.next();
        b.bn.beta[j] = rng.normal() * 0.3;
      }
  const x = Float32Array.from({ length: ROWS * FEATURES }, () => rng.normal());
  const labels = Int32Array.from({ length: ROWS }, () => rng.int(CLASSES));
  const masks = w.hidden.map((b) =>
    config.dropout > 0
      ? Float32Array.from({ length: ROWS * b.dense.units }, () =>
          rng.next() < 1 - config.dropout ? 1 / (1 - config.dropout) : 0,
        )
      : null,
  );
  return { w, x, labels, masks };
}

/** The trainables in engine (and tfjs-layers) order, as tensors. */
function trainables(w: NetworkWeights): tf.Tensor[] {
  const out: tf.Tensor[] = [];
  for (const b of w.hidden) {
    out.push(tf.tensor2d(b.dense.kernel, [b.dense.inputs, b.dense.units]), tf.tensor1d(b.dense.bias));
    if (b.bn) out.push(tf.tensor1d(b.bn.gamma), tf.tensor1d(b.bn.beta));
  }
  out.push(tf.tensor2d(w.output.kernel, [w.output.inputs, w.output.units]), tf.tensor1d(w.output.bias));
  return out;
}

const ACT: Record<ModelConfig['activation'], (t: tf.Tensor) => tf.Tensor> = {
  relu: tf.relu,
  tanh: tf.tanh,
  sigmoid: tf.sigmoid,
  elu: tf.elu,
};

/**
 * The training loss written independently with tfjs ops, for autodiff:
 * -sum(classWeight * onehot * log softmax) / rows + l1 * sum|W| + l2 * sum W^2, BN on batch statistics.
 */
function referenceLoss(
  config: ModelConfig,
  depth: number,
  x: tf.Tensor2D,
  targets: tf.Tensor2D,
  masks: (tf.Tensor | null)[],
) {
  return (...ps: tf.Tensor[]): tf.Scalar => {
    let i = 0;
    let h: tf.Tensor = x;
    let penalty: tf.Tensor = tf.scalar(0);
    const kernel = () => {
      const k = ps[i++]!;
      penalty = tf.add(penalty, tf.add(tf.mul(tf.sum(tf.abs(k)), config.l1), tf.mul(tf.sum(tf.square(k)), config.l2)));
      return k;
    };
    const bn = (t: tf.Tensor) => {
      const gamma = ps[i++]!;
      const beta = ps[i++]!;
      const { mean, variance } = tf.moments(t, 0);
      return tf.add(tf.mul(tf.div(tf.sub(t, mean), tf.sqrt(tf.add(variance, config.bnEpsilon))), gamma), beta);
    };
    for (let l = 0; l < depth; l++) {
      const k = kernel();
      let z = tf.add(tf.matMul(h as tf.Tensor2D, k as tf.Tensor2D), ps[i++]!);
      if (config.batchNorm && config.bnPlacement === 'before') z = ACT[config.activation](bn(z));
      else if (config.batchNorm) z = bn(ACT[config.activation](z));
      else z = ACT[config.activation](z);
      h = masks[l] ? tf.mul(z, masks[l]!) : z;
    }
    const k = kernel();
    const logits = tf.add(tf.matMul(h as tf.Tensor2D, k as tf.Tensor2D), ps[i++]!);
    const data = tf.div(tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(logits)))), x.shape[0]);
    return tf.add(data, penalty) as tf.Scalar;
  };
}

const CASES: Partial<ModelConfig>[] = [
  { batchNorm: true, bnPlacement: 'before', activation: 'relu' },
  { batchNorm: true, bnPlacement: 'after', activation: 'relu' },
  { batchNorm: true, bnPlacement: 'before', activation: 'tanh', dropout: 0.3 },
  { batchNorm: true, bnPlacement: 'after', activation: 'sigmoid', l2: 0.01 },
  { batchNorm: true, bnPlacement: 'after', activation: 'elu', dropout: 0.2, l1: 0.01 },
  { batchNorm: false, activation: 'elu', l1: 0.01, l2: 0.005, dropout: 0.2 },
  { batchNorm: false, activation: 'tanh' },
  { batchNorm: false, depth: 0 },
  { batchNorm: true, depth: 3, width: 9, activation: 'relu', bnPlacement: 'after', dropout: 0.1 },
  // At least twice as wide as the batch: the engine computes these products in transposed form.
  { batchNorm: true, depth: 2, width: 48, activation: 'relu', bnPlacement: 'before', dropout: 0.2 },
  { batchNorm: true, depth: 3, width: 50, activation: 'sigmoid', bnPlacement: 'after', l2: 0.01 },
  { batchNorm: false, depth: 2, width: 64, activation: 'tanh', l1: 0.01 },
];

describe('engine backward pass vs tfjs autodiff of the same loss', () => {
  for (const partial of CASES) {
    it(`matches tf.grads for ${JSON.stringify(partial)}`, () => {
      const config = resolveConfig({ depth: 2, width: 6, ...partial });
      const { w, x, labels, masks } = problem(config, 5);

      const params = trainables(w);
      const xt = tf.tensor2d(x, [ROWS, FEATURES]);
      const targets = tf.tensor2d(
        Array.from(labels).flatMap((c) => Array.from({ length: CLASSES }, (_, k) => (k === c ? CLASS_WEIGHTS[c]! : 0))),
        [ROWS, CLASSES],
      );
      const maskTensors = masks.map((m, l) => (m ? tf.tensor2d(m, [ROWS, w.hidden[l]!.dense.units]) : null));
      const lossOf = referenceLoss(config, config.depth, xt, targets, maskTensors);
      const { value, grads } = tf.valueAndGrads(lossOf)(params);
      const expectedLoss = value.dataSync()[0]!;
      const expected = grads.map((g) => g.dataSync() as Float32Array);

      const engine = new Engine(engineSpec(config, FEATURES, CLASSES), ROWS, config.dropout > 0);
      engine.setWeights(w);
      engine.stage(x, labels, null, 0, ROWS);
      engine.forward(ROWS, true, (l, mask, n) => mask.set(masks[l]!.subarray(0, n)));
      const sums = engine.loss(ROWS, CLASS_WEIGHTS, true);
      const loss = sums.loss / ROWS + engine.penalty();
      engine.backward(ROWS);
      const actual = engine.gradients();
      engine.dispose();

      expect(loss).toBeCloseTo(expectedLoss, 5);
      let at = 0;
      expected.forEach((e, i) => {
        const got = actual.subarray(at, at + e.length);
        at += e.length;
        let scale = 1e-3;
        let diff = 0;
        for (let j = 0; j < e.length; j++) {
          scale = Math.max(scale, Math.abs(e[j]!));
          diff = Math.max(diff, Math.abs(got[j]! - e[j]!));
        }
        // L1's sign() has no gradient in tfjs autodiff at exactly 0, never hit with random weights.
        expect(diff / scale, `param ${i}`).toBeLessThan(1e-4);
      });
      expect(at).toBe(actual.length);
      tf.dispose([...params, ...grads, value, xt, targets, ...maskTensors.filter((m): m is tf.Tensor2D => m !== null)]);
    });
  }
});
