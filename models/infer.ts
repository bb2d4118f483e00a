/**
 * Serving-side inference on TF.js: a folded network held as tensors, one fused matmul (+ bias +
 * activation) per layer, softmax at the end. Probabilities only depend on the row, never on the rest
 * of the batch, because BN is frozen into the weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FoldedActivation, FoldedNetwork } from './fold';

const FUSED: Partial<Record<FoldedActivation, 'relu' | 'sigmoid' | 'elu'>> = { relu: 'relu', sigmoid: 'sigmoid', elu: 'elu' };

export class Predictor {
  private readonly layers: { kernel: tf.Tensor2D; bias: tf.Tensor1D; activation: FoldedActivation }[];
  readonly features: number;
  readonly classes: number;

  constructor(net: FoldedNetwork) {
    this.features = net.features;
    this.classes = net.classes;
    this.layers = net.layers.map((l) => ({
      kernel: tf.tensor2d(l.kernel, [l.inputs, l.units]),
      bias: tf.tensor1d(l.bias),
      activation: l.activation,
    }));
  }

  /** Class probabilities for `rows` raw rows laid out row-major; returns rows x classes. */
  predictProba(x: Float32Array, rows: number): Float32Array {
    if (x.length !== rows * this.features) throw new Error(`expected ${rows * this.features} values, got ${x.length}`);
    const probs = tf.tidy(() => {
      let h: tf.Tensor2D = tf.tensor2d(x, [rows, this.features]);
      for (const l of this.layers) {
        const fused = FUSED[l.activation];
        h = tf.fused.matMul({ a: h, b: l.kernel, bias: l.bias, activation: fused ?? 'linear' }) as tf.Tensor2D;
        if (l.activation === 'tanh') h = tf.tanh(h);
        else if (l.activation === 'softmax') h = tf.softmax(h);
      }
      return h;
    });
    const out = probs.dataSync() as Float32Array;
    probs.dispose();
    return out;
  }

  dispose(): void {
    for (const l of this.layers) tf.dispose([l.kernel, l.bias]);
  }
}
