/**
 * The network's forward and backward passes written out by hand on tfjs-core kernels.
 *
 * tfjs-layers' fit records a tape and replays generic gradients (hundreds of kernel calls per step,
 * several through the slow transposed-matmul path). Here every gradient is the closed form for this
 * one architecture, so a step issues a few dozen kernels and each matmul takes its fast layout.
 * Gradients are checked against tfjs autodiff in the tests.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../config';
import type { NetworkWeights } from '../network';

type Activation = ModelConfig['activation'];

/** Trainable parameters and BN moving statistics as tensors, in a fixed order. */
export interface TensorBlock {
  kernel: tf.Tensor2D;
  bias: tf.Tensor1D;
  gamma: tf.Tensor1D | null;
  beta: tf.Tensor1D | null;
  movingMean: tf.Tensor1D | null;
  movingVariance: tf.Tensor1D | null;
}

export interface TensorNet {
  hidden: TensorBlock[];
  outKernel: tf.Tensor2D;
  outBias: tf.Tensor1D;
}

export interface GraphOptions {
  activation: Activation;
  batchNorm: boolean;
  bnPlacement: 'before' | 'after';
  bnEpsilon: number;
  bnMomentum: number;
}

export function graphOptions(config: ModelConfig): GraphOptions {
  return {
    activation: config.activation,
    batchNorm: config.batchNorm,
    bnPlacement: config.bnPlacement,
    bnEpsilon: config.bnEpsilon,
    bnMomentum: config.bnMomentum,
  };
}

export function toTensors(w: NetworkWeights): TensorNet {
  return {
    hidden: w.hidden.map((b) => ({
      kernel: tf.tensor2d(b.dense.kernel, [b.dense.inputs, b.dense.units]),
      bias: tf.tensor1d(b.dense.bias),
      gamma: b.bn ? tf.tensor1d(b.bn.gamma) : null,
      beta: b.bn ? tf.tensor1d(b.bn.beta) : null,
      movingMean: b.bn ? tf.tensor1d(b.bn.movingMean) : null,
      movingVariance: b.bn ? tf.tensor1d(b.bn.movingVariance) : null,
    })),
    outKernel: tf.tensor2d(w.output.kernel, [w.output.inputs, w.output.units]),
    outBias: tf.tensor1d(w.output.bias),
  };
}

export function fromTensors(net: TensorNet): NetworkWeights {
  const f32 = (t: tf.Tensor) => Float32Array.from(t.dataSync() as Float32Array);
  return {
    hidden: net.hidden.map((b) => ({
      dense: { inputs: b.kernel.shape[0], units: b.kernel.shape[1], kernel: f32(b.kernel), bias: f32(b.bias) },
      bn:
        b.gamma && b.beta && b.movingMean && b.movingVariance
          ? { gamma: f32(b.gamma), beta: f32(b.beta), movingMean: f32(b.movingMean), movingVariance: f32(b.movingVariance) }
          : null,
    })),
    output: { inputs: net.outKernel.shape[0], units: net.outKernel.shape[1], kernel: f32(net.outKernel), bias: f32(net.outBias) },
  };
}

export function disposeNet(net: TensorNet): void {
  for (const b of net.hidden) tf.dispose([b.kernel, b.bias, b.gamma, b.beta, b.movingMean, b.movingVariance].filter((t): t is tf.Tensor1D => t !== null));
  tf.dispose([net.outKernel, net.outBias]);
}

/** The trainable tensors in optimizer order (BN moving statistics excluded). */
export function trainables(net: TensorNet): tf.Tensor[] {
  const out: tf.Tensor[] = [];
  for (const b of net.hidden) {
    out.push(b.kernel, b.bias);
    if (b.gamma && b.beta) out.push(b.gamma, b.beta);
  }
  out.push(net.outKernel, net.outBias);
  return out;
}

/** Puts updated trainables back in the order `trainables` returned them. */
export function withTrainables(net: TensorNet, params: tf.Tensor[]): TensorNet {
  let i = 0;
  const next = () => params[i++]!;
  const hidden = net.hidden.map((b) => {
    const kernel = next() as tf.Tensor2D;
    const bias = next() as tf.Tensor1D;
    const gamma = b.gamma ? (next() as tf.Tensor1D) : null;
    const beta = b.beta ? (next() as tf.Tensor1D) : null;
    return { ...b, kernel, bias, gamma, beta };
  });
  return { hidden, outKernel: next() as tf.Tensor2D, outBias: next() as tf.Tensor1D };
}

const FUSABLE: Partial<Record<Activation, 'relu' | 'sigmoid' | 'elu'>> = { relu: 'relu', sigmoid: 'sigmoid', elu: 'elu' };

function activate(x: tf.Tensor2D, a: Activation): tf.Tensor2D {
  switch (a) {
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'elu':
      return tf.elu(x);
  }
}

/** dL/dx from dL/dy and the activation's output y (every supported activation's derivative is a function of y). */
function activationGrad(dy: tf.Tensor2D, y: tf.Tensor2D, a: Activation): tf.Tensor2D {
  switch (a) {
    case 'relu':
      return tf.mul(dy, tf.step(y));
    case 'tanh':
      return tf.mul(dy, tf.sub(1, tf.square(y)));
    case 'sigmoid':
      return tf.mul(dy, tf.mul(y, tf.sub(1, y)));
    case 'elu':
      // y > 0: 1; otherwise d/dx (e^x - 1) = e^x = y + 1.
      return tf.mul(dy, tf.where(tf.greater(y, 0), tf.onesLike(y), tf.add(y, 1)));
  }
}

/** Dense layer, with the activation fused into the matmul where the wasm kernel supports it. */
function denseForward(x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D, activation: Activation | 'linear'): tf.Tensor2D {
  const fused = activation === 'linear' ? 'linear' : FUSABLE[activation];
  const z = tf.fused.matMul({ a: x, b: kernel, bias, activation: fused ?? 'linear' }) as tf.Tensor2D;
  return fused || activation === 'linear' ? z : activate(z, activation);
}

/** What the backward pass needs from the forward pass of one hidden block. */
interface BlockCache {
  input: tf.Tensor2D;
  /** Output of the activation function. */
  activated: tf.Tensor2D;
  /** Normalised BN input and 1/sqrt(var + eps), when the block has BN. */
  xhat: tf.Tensor2D | null;
  invStd: tf.Tensor1D | null;
  /** Inverted-dropout mask already scaled by 1/(1-p); null without dropout. */
  mask: tf.Tensor2D | null;
}

export interface ForwardResult {
  logits: tf.Tensor2D;
  caches: BlockCache[];
  /** Last hidden output (after BN/dropout), the input of the output layer. */
  top: tf.Tensor2D;
  /** Batch mean and biased variance of each BN layer, for the moving-average update. */
  batchStats: { mean: tf.Tensor1D; variance: tf.Tensor1D }[];
}

/** Batch normalization in training mode: normalises with the batch's own mean and biased variance. */
function bnTrain(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number) {
  const { mean, variance } = tf.moments(x, 0);
  const invStd = tf.rsqrt(tf.add(variance, eps)) as tf.Tensor1D;
  const xhat = tf.mul(tf.sub(x, mean), invStd) as tf.Tensor2D;
  const y = tf.add(tf.mul(xhat, gamma), beta) as tf.Tensor2D;
  return { y, xhat, invStd, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

/**
 * Training-mode forward pass. `masks[l]` is the dropout mask of hidden block l (or null).
 * Must run inside tf.tidy; returns tensors the backward pass consumes.
 */
export function forwardTrain(net: TensorNet, x: tf.Tensor2D, opts: GraphOptions, masks: (tf.Tensor2D | null)[]): ForwardResult {
  const caches: BlockCache[] = [];
  const batchStats: ForwardResult['batchStats'] = [];
  let h = x;
  net.hidden.forEach((b, l) => {
    const input = h;
    let xhat: tf.Tensor2D | null = null;
    let invStd: tf.Tensor1D | null = null;
    let activated: tf.Tensor2D;
    if (opts.batchNorm && b.gamma && b.beta) {
      if (opts.bnPlacement === 'before') {
        const z = denseForward(input, b.kernel, b.bias, 'linear');
        const bn = bnTrain(z, b.gamma, b.beta, opts.bnEpsilon);
        ({ xhat, invStd } = bn);
        batchStats.push({ mean: bn.mean, variance: bn.variance });
        activated = activate(bn.y, opts.activation);
        h = activated;
      } else {
        activated = denseForward(input, b.kernel, b.bias, opts.activation);
        const bn = bnTrain(activated, b.gamma, b.beta, opts.bnEpsilon);
        ({ xhat, invStd } = bn);
        batchStats.push({ mean: bn.mean, variance: bn.variance });
        h = bn.y;
      }
    } else {
      activated = denseForward(input, b.kernel, b.bias, opts.activation);
      h = activated;
    }
    const mask = masks[l] ?? null;
    if (mask) h = tf.mul(h, mask);
    caches.push({ input, activated, xhat, invStd, mask });
  });
  const logits = denseForward(h, net.outKernel, net.outBias, 'linear');
  return { logits, caches, top: h, batchStats };
}

/** Backward through training-mode BN: returns dL/dx and the gamma/beta gradients. */
function bnBackward(dy: tf.Tensor2D, xhat: tf.Tensor2D, invStd: tf.Tensor1D, gamma: tf.Tensor1D) {
  const n = dy.shape[0];
  const dBeta = tf.sum(dy, 0) as tf.Tensor1D;
  const dGamma = tf.sum(tf.mul(dy, xhat), 0) as tf.Tensor1D;
  // dx = gamma * invStd / n * (n * dy - dBeta - xhat * dGamma)
  const inner = tf.sub(tf.sub(tf.mul(dy, n), dBeta), tf.mul(xhat, dGamma));
  const dx = tf.mul(inner, tf.div(tf.mul(gamma, invStd), n)) as tf.Tensor2D;
  return { dx, dGamma, dBeta };
}

/** X^T · D through an explicit transpose: the wasm matmul's transposed-operand path is several times slower. */
function weightGrad(input: tf.Tensor2D, d: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(tf.transpose(input), d);
}

export interface Regularisation {
  l1: number;
  l2: number;
}

function withPenalty(grad: tf.Tensor2D, kernel: tf.Tensor2D, reg: Regularisation): tf.Tensor2D {
  let g = grad;
  if (reg.l2 > 0) g = tf.add(g, tf.mul(kernel, 2 * reg.l2));
  if (reg.l1 > 0) g = tf.add(g, tf.mul(tf.sign(kernel), reg.l1));
  return g;
}

/**
 * Gradients of the loss w.r.t. the trainables, in `trainables()` order, given dL/dlogits.
 * Must run inside tf.tidy.
 */
export function backward(net: TensorNet, fwd: ForwardResult, dLogits: tf.Tensor2D, opts: GraphOptions, reg: Regularisation): tf.Tensor[] {
  const grads: tf.Tensor[][] = [];
  const outGrads = [withPenalty(weightGrad(fwd.top, dLogits), net.outKernel, reg), tf.sum(dLogits, 0)];
  let d: tf.Tensor2D = tf.matMul(dLogits, tf.transpose(net.outKernel));
  for (let l = net.hidden.length - 1; l >= 0; l--) {
    const b = net.hidden[l]!;
    const c = fwd.caches[l]!;
    if (c.mask) d = tf.mul(d, c.mask);
    let dz: tf.Tensor2D;
    let bnGrads: tf.Tensor[] = [];
    if (c.xhat && c.invStd && b.gamma) {
      if (opts.bnPlacement === 'before') {
        const dy = activationGrad(d, c.activated, opts.activation);
        const bn = bnBackward(dy, c.xhat, c.invStd, b.gamma);
        dz = bn.dx;
        bnGrads = [bn.dGamma, bn.dBeta];
      } else {
        const bn = bnBackward(d, c.xhat, c.invStd, b.gamma);
        dz = activationGrad(bn.dx, c.activated, opts.activation);
        bnGrads = [bn.dGamma, bn.dBeta];
      }
    } else {
      dz = activationGrad(d, c.activated, opts.activation);
    }
    grads.unshift([withPenalty(weightGrad(c.input, dz), b.kernel, reg), tf.sum(dz, 0), ...bnGrads]);
    if (l > 0) d = tf.matMul(dz, tf.transpose(b.kernel));
  }
  return [...grads.flat(), ...outGrads];
}

/** Inference-mode forward pass (BN with moving statistics, no dropout), as tfjs-layers predict. */
export function forwardInference(net: TensorNet, x: tf.Tensor2D, opts: GraphOptions): tf.Tensor2D {
  let h = x;
  for (const b of net.hidden) {
    const bn = (t: tf.Tensor2D) => tf.batchNorm(t, b.movingMean!, b.movingVariance!, b.beta!, b.gamma!, opts.bnEpsilon) as tf.Tensor2D;
    if (opts.batchNorm && b.gamma) {
      h = opts.bnPlacement === 'before' ? activate(bn(denseForward(h, b.kernel, b.bias, 'linear')), opts.activation) : bn(denseForward(h, b.kernel, b.bias, opts.activation));
    } else {
      h = denseForward(h, b.kernel, b.bias, opts.activation);
    }
  }
  return denseForward(h, net.outKernel, net.outBias, 'linear');
}

/** Sum over the network's kernels of l1|w| + l2 w^2 (the penalty added to the data loss). */
export function penalty(net: TensorNet, reg: Regularisation): tf.Scalar {
  let total: tf.Scalar = tf.scalar(0);
  if (reg.l1 === 0 && reg.l2 === 0) return total;
  for (const k of [...net.hidden.map((b) => b.kernel), net.outKernel]) {
    if (reg.l1 > 0) total = tf.add(total, tf.mul(tf.sum(tf.abs(k)), reg.l1));
    if (reg.l2 > 0) total = tf.add(total, tf.mul(tf.sum(tf.square(k)), reg.l2));
  }
  return total;
}
