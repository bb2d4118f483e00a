/**
 * Optimizers over a list of parameter tensors. Update rules follow Keras (SGD, SGD with momentum,
 * RMSProp) and tfjs (Adam with bias correction), so results stay comparable with tfjs-layers fit.
 *
 * `apply` runs inside the caller's tf.tidy: it keeps the new parameters and state it returns
 * and disposes the tensors they replace.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../config';

export interface Optimizer {
  /** Returns the updated parameters (kept); the old ones are disposed. */
  apply(params: tf.Tensor[], grads: tf.Tensor[], learningRate: number): tf.Tensor[];
  dispose(): void;
}

function replace(old: tf.Tensor[], next: tf.Tensor[]): tf.Tensor[] {
  const kept = next.map((t) => tf.keep(t));
  tf.dispose(old);
  return kept;
}

class Sgd implements Optimizer {
  apply(params: tf.Tensor[], grads: tf.Tensor[], lr: number): tf.Tensor[] {
    return replace(
      params,
      params.map((p, i) => tf.sub(p, tf.mul(grads[i]!, lr))),
    );
  }
  dispose(): void {}
}

/** Keras SGD(momentum): v = m v - lr g; p = p + v. */
class Momentum implements Optimizer {
  private velocity: tf.Tensor[] | null = null;
  constructor(private readonly momentum: number) {}
  apply(params: tf.Tensor[], grads: tf.Tensor[], lr: number): tf.Tensor[] {
    const v0 = this.velocity ?? params.map((p) => tf.zerosLike(p));
    const v = v0.map((v, i) => tf.sub(tf.mul(v, this.momentum), tf.mul(grads[i]!, lr)));
    this.velocity = replace(this.velocity ?? [], v);
    return replace(
      params,
      params.map((p, i) => tf.add(p, this.velocity![i]!)),
    );
  }
  dispose(): void {
    tf.dispose(this.velocity ?? []);
  }
}

/** Keras RMSprop: ms = rho ms + (1 - rho) g^2; p = p - lr g / (sqrt(ms) + eps). */
class RmsProp implements Optimizer {
  private meanSquare: tf.Tensor[] | null = null;
  constructor(
    private readonly rho: number,
    private readonly epsilon: number,
  ) {}
  apply(params: tf.Tensor[], grads: tf.Tensor[], lr: number): tf.Tensor[] {
    const ms0 = this.meanSquare ?? params.map((p) => tf.zerosLike(p));
    const ms = ms0.map((m, i) => tf.add(tf.mul(m, this.rho), tf.mul(tf.square(grads[i]!), 1 - this.rho)));
    this.meanSquare = replace(this.meanSquare ?? [], ms);
    return replace(
      params,
      params.map((p, i) => tf.sub(p, tf.div(tf.mul(grads[i]!, lr), tf.add(tf.sqrt(this.meanSquare![i]!), this.epsilon)))),
    );
  }
  dispose(): void {
    tf.dispose(this.meanSquare ?? []);
  }
}

/** Adam as tfjs: m, v moments; p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps). */
class Adam implements Optimizer {
  private m: tf.Tensor[] | null = null;
  private v: tf.Tensor[] | null = null;
  private t = 0;
  constructor(
    private readonly beta1: number,
    private readonly beta2: number,
    private readonly epsilon: number,
  ) {}
  apply(params: tf.Tensor[], grads: tf.Tensor[], lr: number): tf.Tensor[] {
    this.t += 1;
    const m0 = this.m ?? params.map((p) => tf.zerosLike(p));
    const v0 = this.v ?? params.map((p) => tf.zerosLike(p));
    const m = m0.map((m, i) => tf.add(tf.mul(m, this.beta1), tf.mul(grads[i]!, 1 - this.beta1)));
    const v = v0.map((v, i) => tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(grads[i]!), 1 - this.beta2)));
    this.m = replace(this.m ?? [], m);
    this.v = replace(this.v ?? [], v);
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    return replace(
      params,
      params.map((p, i) => tf.sub(p, tf.div(tf.mul(this.m![i]!, lr / c1), tf.add(tf.sqrt(tf.div(this.v![i]!, c2)), this.epsilon)))),
    );
  }
  dispose(): void {
    tf.dispose([...(this.m ?? []), ...(this.v ?? [])]);
  }
}

export function createOptimizer(config: ModelConfig): Optimizer {
  switch (config.optimizer) {
    case 'sgd':
      return new Sgd();
    case 'momentum':
      return new Momentum(config.momentum);
    case 'rmsprop':
      return new RmsProp(config.rho, config.epsilon);
    case 'adam':
      return new Adam(config.beta1, config.beta2, config.epsilon);
  }
}
