/**
 * The small per-element work of a training step as plain loops over the wasm heap.
 *
 * Each of these touches a few thousand values: as tfjs ops they would cost more in dispatch than in
 * arithmetic, and several fuse naturally (BN statistics, normalisation and activation in two passes).
 * Arrays are addressed as (array, offset) pairs because heap views must not outlive a wasm call
 * (see wasm.ts). Accumulations run in float64; stored values are float32 like the tfjs kernels'.
 */
import type { ModelConfig } from '../config';

export type Activation = ModelConfig['activation'];

/** y = act(y) in place over n values. */
export function activateInPlace(h: Float32Array, off: number, n: number, a: Activation): void {
  const end = off + n;
  switch (a) {
    case 'relu':
      for (let i = off; i < end; i++) if (h[i]! < 0) h[i] = 0;
      return;
    case 'tanh':
      for (let i = off; i < end; i++) h[i] = Math.tanh(h[i]!);
      return;
    case 'sigmoid':
      for (let i = off; i < end; i++) h[i] = 1 / (1 + Math.exp(-h[i]!));
      return;
    case 'elu':
      for (let i = off; i < end; i++) {
        const v = h[i]!;
        if (v < 0) h[i] = Math.expm1(v);
      }
      return;
  }
}

/** d *= act'(x), written in terms of the activation's output y (every supported one allows it). */
export function activationBackward(
  d: Float32Array,
  dOff: number,
  y: Float32Array,
  yOff: number,
  n: number,
  a: Activation,
): void {
  switch (a) {
    case 'relu':
      for (let i = 0; i < n; i++) if (!(y[yOff + i]! > 0)) d[dOff + i] = 0;
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) {
        const v = y[yOff + i]!;
        d[dOff + i] = d[dOff + i]! * (1 - v * v);
      }
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) {
        const v = y[yOff + i]!;
        d[dOff + i] = d[dOff + i]! * v * (1 - v);
      }
      return;
    case 'elu':
      // y > 0: slope 1; otherwise d/dx (e^x - 1) = e^x = y + 1.
      for (let i = 0; i < n; i++) {
        const v = y[yOff + i]!;
        if (!(v > 0)) d[dOff + i] = d[dOff + i]! * (v + 1);
      }
      return;
  }
}

/** What the backward pass of a training-mode BN needs, plus the batch statistics for the moving averages. */
export interface BnCache {
  /** Normalised input, rows x units. */
  xhat: Float32Array;
  invStd: Float64Array;
  mean: Float64Array;
  /** Biased batch variance (what tfjs-layers feeds its moving average). */
  variance: Float64Array;
}

export function bnCache(capacityRows: number, units: number): BnCache {
  return {
    xhat: new Float32Array(capacityRows * units),
    invStd: new Float64Array(units),
    mean: new Float64Array(units),
    variance: new Float64Array(units),
  };
}

/**
 * Training-mode BN over `rows` rows of x (row-major, `units` wide): normalises with the batch's own
 * mean and biased variance and writes gamma * xhat + beta to `out` (which may be x itself).
 * gamma and beta are read from `p` at gOff / bOff.
 */
export function bnTrainForward(
  x: Float32Array,
  xOff: number,
  rows: number,
  units: number,
  p: Float32Array,
  gOff: number,
  bOff: number,
  eps: number,
  c: BnCache,
  out: Float32Array,
  outOff: number,
): void {
  const { mean, variance, invStd, xhat } = c;
  mean.fill(0);
  variance.fill(0);
  for (let r = 0; r < rows; r++) {
    const base = xOff + r * units;
    for (let j = 0; j < units; j++) mean[j]! += x[base + j]!;
  }
  for (let j = 0; j < units; j++) mean[j]! /= rows;
  // Two passes: the variance from squared deviations stays accurate where E[x^2] - E[x]^2 cancels.
  for (let r = 0; r < rows; r++) {
    const base = xOff + r * units;
    for (let j = 0; j < units; j++) {
      const d = x[base + j]! - mean[j]!;
      variance[j]! += d * d;
    }
  }
  for (let j = 0; j < units; j++) {
    variance[j]! /= rows;
    invStd[j] = 1 / Math.sqrt(variance[j]! + eps);
  }
  for (let r = 0; r < rows; r++) {
    const base = xOff + r * units;
    const ob = outOff + r * units;
    const cb = r * units;
    for (let j = 0; j < units; j++) {
      const v = (x[base + j]! - mean[j]!) * invStd[j]!;
      xhat[cb + j] = v;
      out[ob + j] = v * p[gOff + j]! + p[bOff + j]!;
    }
  }
}

/**
 * Backward through training-mode BN, in place on d (dL/dy in, dL/dx out):
 *   dBeta = sum dy, dGamma = sum dy * xhat, dx = gamma * invStd / n * (n * dy - dBeta - xhat * dGamma).
 * dGamma and dBeta are written into `g` at the given offsets.
 */
export function bnBackward(
  d: Float32Array,
  dOff: number,
  rows: number,
  units: number,
  c: BnCache,
  p: Float32Array,
  gammaOff: number,
  g: Float32Array,
  dGammaOff: number,
  dBetaOff: number,
  scratch: Float64Array,
): void {
  const { xhat, invStd } = c;
  const dGamma = scratch.subarray(0, units).fill(0);
  const dBeta = scratch.subarray(units, 2 * units).fill(0);
  for (let r = 0; r < rows; r++) {
    const db = dOff + r * units;
    const cb = r * units;
    for (let j = 0; j < units; j++) {
      const dy = d[db + j]!;
      dBeta[j]! += dy;
      dGamma[j]! += dy * xhat[cb + j]!;
    }
  }
  const k = scratch.subarray(2 * units, 3 * units);
  for (let j = 0; j < units; j++) {
    g[dGammaOff + j] = dGamma[j]!;
    g[dBetaOff + j] = dBeta[j]!;
    k[j] = (p[gammaOff + j]! * invStd[j]!) / rows;
  }
  for (let r = 0; r < rows; r++) {
    const db = dOff + r * units;
    const cb = r * units;
    for (let j = 0; j < units; j++) d[db + j] = k[j]! * (rows * d[db + j]! - dBeta[j]! - xhat[cb + j]! * dGamma[j]!);
  }
}

/** Inference-mode BN in place: (x - movingMean) / sqrt(movingVariance + eps) * gamma + beta. */
export function bnInference(
  x: Float32Array,
  off: number,
  rows: number,
  units: number,
  p: Float32Array,
  gOff: number,
  bOff: number,
  movingMean: Float32Array,
  movingVariance: Float32Array,
  eps: number,
  scratch: Float64Array,
): void {
  const scale = scratch.subarray(0, units);
  const shift = scratch.subarray(units, 2 * units);
  for (let j = 0; j < units; j++) {
    scale[j] = p[gOff + j]! / Math.sqrt(movingVariance[j]! + eps);
    shift[j] = p[bOff + j]! - movingMean[j]! * scale[j]!;
  }
  for (let r = 0; r < rows; r++) {
    const base = off + r * units;
    for (let j = 0; j < units; j++) x[base + j] = x[base + j]! * scale[j]! + shift[j]!;
  }
}

/** Keras moving averages: moving = momentum * moving + (1 - momentum) * batch. */
export function updateMovingStats(
  c: BnCache,
  movingMean: Float32Array,
  movingVariance: Float32Array,
  momentum: number,
): void {
  for (let j = 0; j < movingMean.length; j++) {
    movingMean[j] = movingMean[j]! * momentum + c.mean[j]! * (1 - momentum);
    movingVariance[j] = movingVariance[j]! * momentum + c.variance[j]! * (1 - momentum);
  }
}

export interface LossSums {
  /** Sum over rows of the (class-weighted) negative log-likelihood. */
  loss: number;
  /** Rows whose arg-max logit is the label. */
  hits: number;
}

/**
 * Softmax cross-entropy over `rows` rows of logits. labels[r] is row r's class; classWeight (or 1)
 * weighs its loss. When dOff >= 0, writes dL/dlogits of the batch-mean loss there (in `d`):
 * weight * (softmax - onehot) / rows.
 */
export function softmaxCrossEntropy(
  z: Float32Array,
  zOff: number,
  rows: number,
  classes: number,
  labels: ArrayLike<number>,
  classWeight: ArrayLike<number> | null,
  d: Float32Array,
  dOff: number,
): LossSums {
  let loss = 0;
  let hits = 0;
  for (let r = 0; r < rows; r++) {
    const base = zOff + r * classes;
    const y = labels[r]!;
    let max = -Infinity;
    let arg = 0;
    for (let c = 0; c < classes; c++) {
      const v = z[base + c]!;
      if (v > max) {
        max = v;
        arg = c;
      }
    }
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(z[base + c]! - max);
    const w = classWeight ? classWeight[y]! : 1;
    loss -= w * (z[base + y]! - max - Math.log(sum));
    if (arg === y && max === max) hits++;
    if (dOff >= 0) {
      const db = dOff + r * classes;
      const scale = w / rows;
      for (let c = 0; c < classes; c++) d[db + c] = (Math.exp(z[base + c]! - max) / sum - (c === y ? 1 : 0)) * scale;
    }
  }
  return { loss, hits };
}

/** x[r, j] += v[j] for every row (the bias, when the matmul could not fuse it). */
export function addRowVector(
  x: Float32Array,
  off: number,
  rows: number,
  cols: number,
  v: Float32Array,
  vOff: number,
): void {
  for (let r = 0; r < rows; r++) {
    const base = off + r * cols;
    for (let j = 0; j < cols; j++) x[base + j] = x[base + j]! + v[vOff + j]!;
  }
}

/** out[j] = sum over rows of x[r, j]. */
export function columnSums(
  x: Float32Array,
  off: number,
  rows: number,
  cols: number,
  out: Float32Array,
  outOff: number,
  scratch: Float64Array,
): void {
  const s = scratch.subarray(0, cols).fill(0);
  for (let r = 0; r < rows; r++) {
    const base = off + r * cols;
    for (let j = 0; j < cols; j++) s[j]! += x[base + j]!;
  }
  for (let j = 0; j < cols; j++) out[outOff + j] = s[j]!;
}

/** x *= mask elementwise (the inverted-dropout mask already holds 0 or 1/(1-p)). */
export function multiplyInto(
  x: Float32Array,
  xOff: number,
  mask: Float32Array,
  n: number,
  out: Float32Array,
  outOff: number,
): void {
  for (let i = 0; i < n; i++) out[outOff + i] = x[xOff + i]! * mask[i]!;
}

/** l1 * sum|w| + l2 * sum w^2 over p[start, end). */
export function penaltyValue(p: Float32Array, start: number, end: number, l1: number, l2: number): number {
  let a = 0;
  let s = 0;
  for (let i = start; i < end; i++) {
    const v = p[i]!;
    a += Math.abs(v);
    s += v * v;
  }
  return l1 * a + l2 * s;
}

/** g += l1 * sign(w) + 2 * l2 * w for n weights at pOff and their gradients at gOff (same array). */
export function addPenaltyGradient(
  h: Float32Array,
  pOff: number,
  gOff: number,
  n: number,
  l1: number,
  l2: number,
): void {
  for (let i = 0; i < n; i++) {
    const v = h[pOff + i]!;
    h[gOff + i] = h[gOff + i]! + 2 * l2 * v + l1 * Math.sign(v);
  }
}
