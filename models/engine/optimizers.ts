/**
 * Optimizers as one loop over a flat parameter array. Update rules follow Keras (SGD, SGD with
 * momentum, RMSProp) and tfjs (Adam with bias correction), so results stay comparable with
 * tfjs-layers fit. State is float32, as tfjs keeps it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../config';

/** An optimizer's moments and step count: enough to continue training exactly where it stopped. */
export interface OptimizerState {
  kind: ModelConfig['optimizer'];
  step: number;
  slots: Float32Array[];
}

export interface FlatOptimizer {
  /** Updates n parameters at p[pOff..] from the gradients at g[gOff..] (p and g may be one array). */
  update(p: Float32Array, pOff: number, g: Float32Array, gOff: number, n: number, learningRate: number): void;
  /**
   * The internal state (training sessions persist it between slices): copies, or with `copy` false the
   * live arrays themselves, for a caller that is done with this optimizer (a session's moments can be
   * tens of MB, and a second copy of them is what pushes a slice past the isolate's memory).
   */
  exportState(copy?: boolean): OptimizerState;
  /** Restores exportState's output (copied, or with `adopt` taken over); the optimizer kind must match. */
  importState(state: OptimizerState, adopt?: boolean): void;
}

function checkKind(state: OptimizerState, kind: OptimizerState['kind'], slots: number): void {
  if (state.kind !== kind || state.slots.length !== slots)
    throw new Error(`optimizer state of ${state.kind} (${state.slots.length} slots) cannot restore ${kind}`);
}

/** p -= lr g */
class Sgd implements FlatOptimizer {
  update(p: Float32Array, pOff: number, g: Float32Array, gOff: number, n: number, lr: number): void {
    for (let i = 0; i < n; i++) p[pOff + i] = p[pOff + i]! - lr * g[gOff + i]!;
  }
  exportState(): OptimizerState {
    return { kind: 'sgd', step: 0, slots: [] };
  }
  importState(state: OptimizerState): void {
    checkKind(state, 'sgd', 0);
  }
}

/** Keras SGD(momentum): v = m v - lr g; p = p + v. */
class Momentum implements FlatOptimizer {
  private v: Float32Array = new Float32Array(0);
  constructor(private readonly momentum: number) {}
  update(p: Float32Array, pOff: number, g: Float32Array, gOff: number, n: number, lr: number): void {
    if (this.v.length !== n) this.v = new Float32Array(n);
    const v = this.v;
    const m = this.momentum;
    for (let i = 0; i < n; i++) {
      const vi = m * v[i]! - lr * g[gOff + i]!;
      v[i] = vi;
      p[pOff + i] = p[pOff + i]! + Math.fround(vi);
    }
  }
  exportState(copy = true): OptimizerState {
    return { kind: 'momentum', step: 0, slots: [copy ? this.v.slice() : this.v] };
  }
  importState(state: OptimizerState, adopt = false): void {
    checkKind(state, 'momentum', 1);
    this.v = adopt ? state.slots[0]! : state.slots[0]!.slice();
  }
}

/** Keras RMSprop: ms = rho ms + (1 - rho) g^2; p = p - lr g / (sqrt(ms) + eps). */
class RmsProp implements FlatOptimizer {
  private ms: Float32Array = new Float32Array(0);
  constructor(
    private readonly rho: number,
    private readonly epsilon: number,
  ) {}
  update(p: Float32Array, pOff: number, g: Float32Array, gOff: number, n: number, lr: number): void {
    if (this.ms.length !== n) this.ms = new Float32Array(n);
    const ms = this.ms;
    const rho = this.rho;
    const eps = this.epsilon;
    for (let i = 0; i < n; i++) {
      const gi = g[gOff + i]!;
      const m = Math.fround(rho * ms[i]! + (1 - rho) * gi * gi);
      ms[i] = m;
      p[pOff + i] = p[pOff + i]! - (lr * gi) / (Math.sqrt(m) + eps);
    }
  }
  exportState(copy = true): OptimizerState {
    return { kind: 'rmsprop', step: 0, slots: [copy ? this.ms.slice() : this.ms] };
  }
  importState(state: OptimizerState, adopt = false): void {
    checkKind(state, 'rmsprop', 1);
    this.ms = adopt ? state.slots[0]! : state.slots[0]!.slice();
  }
}

/** Adam as tfjs: m, v moments; p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps). */
class Adam implements FlatOptimizer {
  private m: Float32Array = new Float32Array(0);
  private v: Float32Array = new Float32Array(0);
  private t = 0;
  constructor(
    private readonly beta1: number,
    private readonly beta2: number,
    private readonly epsilon: number,
  ) {}
  update(p: Float32Array, pOff: number, g: Float32Array, gOff: number, n: number, lr: number): void {
    if (this.m.length !== n) {
      this.m = new Float32Array(n);
      this.v = new Float32Array(n);
    }
    this.t += 1;
    const { m, v, beta1: b1, beta2: b2, epsilon: eps } = this;
    const step = lr / (1 - b1 ** this.t);
    // sqrt(v / c2) as sqrt(v) / sqrt(c2): one division less in the hottest loop of a step.
    const invSqrtC2 = 1 / Math.sqrt(1 - b2 ** this.t);
    const ob1 = 1 - b1;
    const ob2 = 1 - b2;
    for (let i = 0; i < n; i++) {
      const gi = g[gOff + i]!;
      // The moments are stored as float32 (as tfjs keeps them); the update uses them unrounded.
      const mi = b1 * m[i]! + ob1 * gi;
      const vi = b2 * v[i]! + ob2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[pOff + i] = p[pOff + i]! - (step * mi) / (Math.sqrt(vi) * invSqrtC2 + eps);
    }
  }
  exportState(copy = true): OptimizerState {
    return { kind: 'adam', step: this.t, slots: copy ? [this.m.slice(), this.v.slice()] : [this.m, this.v] };
  }
  importState(state: OptimizerState, adopt = false): void {
    checkKind(state, 'adam', 2);
    this.t = state.step;
    this.m = adopt ? state.slots[0]! : state.slots[0]!.slice();
    this.v = adopt ? state.slots[1]! : state.slots[1]!.slice();
  }
}

export function createFlatOptimizer(config: ModelConfig): FlatOptimizer {
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

/** The flat optimizer over a list of tensors (for callers holding tfjs tensors; the engine uses the flat form). */
export interface Optimizer {
  /** Returns the updated parameters (kept); the old ones are disposed. */
  apply(params: tf.Tensor[], grads: tf.Tensor[], learningRate: number): tf.Tensor[];
  dispose(): void;
}

export function createOptimizer(config: ModelConfig): Optimizer {
  const flat = createFlatOptimizer(config);
  return {
    apply(params, grads, lr) {
      const sizes = params.map((t) => t.size);
      const total = sizes.reduce((a, b) => a + b, 0);
      const p = new Float32Array(total);
      const g = new Float32Array(total);
      let at = 0;
      params.forEach((t, i) => {
        p.set(t.dataSync() as Float32Array, at);
        g.set(grads[i]!.dataSync() as Float32Array, at);
        at += t.size;
      });
      flat.update(p, 0, g, 0, total, lr);
      at = 0;
      const next = params.map((t) => {
        const out = tf.keep(tf.tensor(p.subarray(at, at + t.size), t.shape, 'float32'));
        at += t.size;
        return out;
      });
      tf.dispose(params);
      return next;
    },
    dispose() {},
  };
}
