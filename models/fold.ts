/**
 * Folding for serving: the frozen BN statistics (and the input standardisation) are affine maps, so
 * they fold exactly into the neighbouring Dense layers, leaving a plain stack of Dense + activation.
 *
 *   BN before the activation (Dense -> BN -> act), per unit j with s = gamma / sqrt(var + eps):
 *     w'[:, j] = w[:, j] * s_j            b'_j = (b_j - mean_j) * s_j + beta_j
 *   BN after the activation (act -> BN) is an affine map x -> x * s + (beta - mean * s) on the input of
 *   the following Dense layer, folded there:
 *     w'[r, :] = w[r, :] * s_r            b' = b + (beta - mean * s) . w
 *   Standardisation (x - mu) / sd is the same kind of affine input map on the first layer.
 */
import type { Standardisation } from './dataset';
import type { NetworkSpec, NetworkWeights } from './network';

export type FoldedActivation = NetworkSpec['activation'] | 'softmax';

export interface FoldedLayer {
  inputs: number;
  units: number;
  /** Row-major [inputs x units]. */
  kernel: Float32Array;
  bias: Float32Array;
  activation: FoldedActivation;
}

export interface FoldedNetwork {
  layers: FoldedLayer[];
  features: number;
  classes: number;
}

/** An affine map x -> x * scale + shift applied, per input unit, before a Dense layer. */
interface InputAffine {
  scale: Float64Array;
  shift: Float64Array;
}

function bnScale(gamma: Float32Array, variance: Float32Array, eps: number): Float64Array {
  return Float64Array.from(gamma, (g, j) => g / Math.sqrt(variance[j]! + eps));
}

/**
 * Folds BN (frozen moving statistics) and, when given, the input standardisation into the Dense
 * kernels. The result computes the same function as the network in inference mode on raw inputs.
 * Arithmetic is done in float64 and rounded once to float32.
 */
export function foldNetwork(w: NetworkWeights, spec: NetworkSpec, standardisation?: Standardisation): FoldedNetwork {
  const denses = [...w.hidden.map((b) => b.dense), w.output];
  let pending: InputAffine | null = standardisation
    ? {
        scale: Float64Array.from(standardisation.std, (s) => 1 / s),
        shift: Float64Array.from(standardisation.mean, (m, i) => -m / standardisation.std[i]!),
      }
    : null;
  const layers: FoldedLayer[] = denses.map((d, i) => {
    const kernel = Float64Array.from(d.kernel);
    const bias = Float64Array.from(d.bias);
    if (pending) {
      for (let r = 0; r < d.inputs; r++) {
        const s = pending.scale[r]!;
        const t = pending.shift[r]!;
        for (let j = 0; j < d.units; j++) {
          bias[j]! += t * d.kernel[r * d.units + j]!;
          kernel[r * d.units + j]! *= s;
        }
      }
      pending = null;
    }
    const bn = spec.batchNorm ? (w.hidden[i]?.bn ?? null) : null;
    if (bn && spec.bnPlacement === 'before') {
      const s = bnScale(bn.gamma, bn.movingVariance, spec.bnEpsilon);
      for (let j = 0; j < d.units; j++) {
        for (let r = 0; r < d.inputs; r++) kernel[r * d.units + j]! *= s[j]!;
        bias[j] = (bias[j]! - bn.movingMean[j]!) * s[j]! + bn.beta[j]!;
      }
    } else if (bn) {
      const s = bnScale(bn.gamma, bn.movingVariance, spec.bnEpsilon);
      pending = { scale: s, shift: Float64Array.from(bn.beta, (b, j) => b - bn.movingMean[j]! * s[j]!) };
    }
    return {
      inputs: d.inputs,
      units: d.units,
      kernel: Float32Array.from(kernel),
      bias: Float32Array.from(bias),
      activation: i < w.hidden.length ? spec.activation : 'softmax',
    };
  });
  return { layers, features: denses[0]!.inputs, classes: w.output.units };
}
