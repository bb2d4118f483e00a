/**
 * Where every trainable parameter lives in one flat float32 array, in the order tfjs-layers lists
 * them (per hidden layer: kernel, bias, then BN gamma, beta; then the output kernel and bias).
 * One flat array lets the optimizer run as a single loop and lets the gradients be written by the
 * matmul kernel straight into their final place.
 */
import type { NetworkWeights } from '../network';

export interface LayerSlots {
  inputs: number;
  units: number;
  /** Start offsets in the flat parameter array; -1 when the layer has no BN. */
  kernel: number;
  bias: number;
  gamma: number;
  beta: number;
}

export interface ParamLayout {
  /** Hidden layers then the output layer. */
  layers: LayerSlots[];
  total: number;
}

/** `sizes` as from layerSizes(): input width, hidden widths, classes. */
export function paramLayout(sizes: readonly number[], batchNorm: boolean): ParamLayout {
  const layers: LayerSlots[] = [];
  let at = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inputs = sizes[l]!;
    const units = sizes[l + 1]!;
    const hidden = l + 2 < sizes.length;
    const kernel = at;
    const bias = kernel + inputs * units;
    at = bias + units;
    let gamma = -1;
    let beta = -1;
    if (hidden && batchNorm) {
      gamma = at;
      beta = gamma + units;
      at = beta + units;
    }
    layers.push({ inputs, units, kernel, bias, gamma, beta });
  }
  return { layers, total: at };
}

/** Writes the trainables of `w` into `out` (length layout.total) at their offsets. */
export function packTrainables(layout: ParamLayout, w: NetworkWeights, out: Float32Array): void {
  const denses = [...w.hidden.map((b) => b.dense), w.output];
  if (denses.length !== layout.layers.length)
    throw new Error(`weights have ${denses.length} layers, layout ${layout.layers.length}`);
  layout.layers.forEach((s, l) => {
    const d = denses[l]!;
    if (d.inputs !== s.inputs || d.units !== s.units)
      throw new Error(`layer ${l}: weights ${d.inputs}x${d.units}, layout ${s.inputs}x${s.units}`);
    out.set(d.kernel, s.kernel);
    out.set(d.bias, s.bias);
    const bn = w.hidden[l]?.bn;
    if (s.gamma >= 0) {
      if (!bn) throw new Error(`layer ${l}: the layout has BN, the weights do not`);
      out.set(bn.gamma, s.gamma);
      out.set(bn.beta, s.beta);
    }
  });
}

/** Offsets [start, end) of the Dense kernels, the only parameters L1/L2 apply to. */
export function kernelRanges(layout: ParamLayout): [number, number][] {
  return layout.layers.map((s) => [s.kernel, s.kernel + s.inputs * s.units]);
}
