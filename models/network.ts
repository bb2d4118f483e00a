/**
 * The trained network as plain arrays: what training returns, what is stored, and what serving folds.
 * Kernels are row-major [inputs x units], the layout of tfjs-layers Dense kernels.
 */
import type { ModelConfig } from './config';
import { Rng } from './random';

export interface DenseWeights {
  inputs: number;
  units: number;
  kernel: Float32Array;
  bias: Float32Array;
}

/** Batch normalization parameters; the moving statistics are the frozen ones used at inference. */
export interface BatchNormWeights {
  gamma: Float32Array;
  beta: Float32Array;
  movingMean: Float32Array;
  movingVariance: Float32Array;
}

export interface HiddenBlock {
  dense: DenseWeights;
  bn: BatchNormWeights | null;
}

export interface NetworkWeights {
  hidden: HiddenBlock[];
  output: DenseWeights;
}

/** What inference needs to know about the architecture besides the weights. */
export interface NetworkSpec {
  activation: ModelConfig['activation'];
  batchNorm: boolean;
  bnPlacement: ModelConfig['bnPlacement'];
  bnEpsilon: number;
}

export function specOf(config: ModelConfig): NetworkSpec {
  return {
    activation: config.activation,
    batchNorm: config.batchNorm,
    bnPlacement: config.bnPlacement,
    bnEpsilon: config.bnEpsilon,
  };
}

/** Layer widths from input to output, e.g. [64, 128, 128, 10]. */
export function layerSizes(config: ModelConfig, features: number, classes: number): number[] {
  return [features, ...Array.from({ length: config.depth }, () => config.width), classes];
}

// Keras' truncated-normal variance scaling divides by this so the truncated draw keeps the variance.
const TRUNCATED_STD = 0.87962566103423978;

function initKernel(kind: ModelConfig['init'], inputs: number, units: number, rng: Rng): Float32Array {
  const w = new Float32Array(inputs * units);
  const uniform = (limit: number) => {
    for (let i = 0; i < w.length; i++) w[i] = (rng.next() * 2 - 1) * limit;
  };
  const truncated = (std: number) => {
    for (let i = 0; i < w.length; i++) w[i] = rng.truncatedNormal() * (std / TRUNCATED_STD);
  };
  switch (kind) {
    case 'randomNormal':
      // Keras' RandomNormal default.
      for (let i = 0; i < w.length; i++) w[i] = rng.normal() * 0.05;
      break;
    case 'glorotUniform':
      uniform(Math.sqrt(6 / (inputs + units)));
      break;
    case 'glorotNormal':
      truncated(Math.sqrt(2 / (inputs + units)));
      break;
    case 'heNormal':
      truncated(Math.sqrt(2 / inputs));
      break;
    case 'heUniform':
      uniform(Math.sqrt(6 / inputs));
      break;
  }
  return w;
}

function dense(kind: ModelConfig['init'], inputs: number, units: number, rng: Rng): DenseWeights {
  return { inputs, units, kernel: initKernel(kind, inputs, units, rng), bias: new Float32Array(units) };
}

/** Seeded initial weights: kernels per `config.init`, zero biases, BN gamma 1, beta 0, mean 0, variance 1. */
export function initialWeights(config: ModelConfig, features: number, classes: number, seed: number): NetworkWeights {
  const rng = new Rng(seed);
  const sizes = layerSizes(config, features, classes);
  const hidden: HiddenBlock[] = [];
  for (let l = 0; l < config.depth; l++) {
    const units = sizes[l + 1]!;
    hidden.push({
      dense: dense(config.init, sizes[l]!, units, rng),
      bn: config.batchNorm
        ? {
            gamma: new Float32Array(units).fill(1),
            beta: new Float32Array(units),
            movingMean: new Float32Array(units),
            movingVariance: new Float32Array(units).fill(1),
          }
        : null,
    });
  }
  return { hidden, output: dense(config.init, sizes[config.depth]!, classes, rng) };
}

/** Number of parameters (trainable and BN moving statistics). */
export function parameterCount(w: NetworkWeights): number {
  let n = w.output.kernel.length + w.output.bias.length;
  for (const b of w.hidden) n += b.dense.kernel.length + b.dense.bias.length + (b.bn ? 4 * b.bn.gamma.length : 0);
  return n;
}

/** True when every weight is a finite number. */
export function allFinite(w: NetworkWeights): boolean {
  const arrays = [w.output.kernel, w.output.bias];
  for (const b of w.hidden) {
    arrays.push(b.dense.kernel, b.dense.bias);
    if (b.bn) arrays.push(b.bn.gamma, b.bn.beta, b.bn.movingMean, b.bn.movingVariance);
  }
  return arrays.every((a) => a.every(Number.isFinite));
}
