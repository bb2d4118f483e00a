/**
 * Plain-JS forward passes in float64: the reference semantics of the network in inference mode
 * (used to check folding and the TF.js paths), and a forward pass over a folded network.
 */
import type { FoldedActivation, FoldedNetwork } from '../../models/fold';
import type { DenseWeights, NetworkSpec, NetworkWeights } from '../../models/network';

function act(v: number, a: FoldedActivation): number {
  switch (a) {
    case 'relu':
      return v > 0 ? v : 0;
    case 'tanh':
      return Math.tanh(v);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-v));
    case 'elu':
      return v > 0 ? v : Math.expm1(v);
    case 'softmax':
      return v; // applied over the row below
  }
}

function softmaxInPlace(row: Float64Array): void {
  let max = -Infinity;
  for (const v of row) if (v > max) max = v;
  let sum = 0;
  for (let i = 0; i < row.length; i++) {
    row[i] = Math.exp(row[i]! - max);
    sum += row[i]!;
  }
  for (let i = 0; i < row.length; i++) row[i]! /= sum;
}

function dense(x: Float64Array, d: Pick<DenseWeights, 'inputs' | 'units' | 'kernel' | 'bias'>): Float64Array {
  const out = Float64Array.from(d.bias);
  for (let r = 0; r < d.inputs; r++) {
    const xr = x[r]!;
    if (xr === 0) continue;
    for (let j = 0; j < d.units; j++) out[j]! += xr * d.kernel[r * d.units + j]!;
  }
  return out;
}

/** The unfolded network in inference mode (BN with moving statistics, dropout off) on one standardised row. */
export function forwardUnfoldedRow(w: NetworkWeights, spec: NetworkSpec, x: ArrayLike<number>): Float64Array {
  let h: Float64Array = Float64Array.from(x);
  for (const b of w.hidden) {
    let z = dense(h, b.dense);
    const bn = spec.batchNorm ? b.bn : null;
    const norm = (v: Float64Array) =>
      v.map(
        (val, j) =>
          ((val - bn!.movingMean[j]!) / Math.sqrt(bn!.movingVariance[j]! + spec.bnEpsilon)) * bn!.gamma[j]! +
          bn!.beta[j]!,
      );
    if (bn && spec.bnPlacement === 'before') z = norm(z);
    z = z.map((v) => act(v, spec.activation));
    if (bn && spec.bnPlacement === 'after') z = norm(z);
    h = z;
  }
  const out = dense(h, w.output);
  softmaxInPlace(out);
  return out;
}

/** A folded network on one raw row. */
export function forwardFoldedRow(net: FoldedNetwork, x: ArrayLike<number>): Float64Array {
  let h: Float64Array = Float64Array.from(x);
  for (const layer of net.layers) {
    h = dense(h, layer);
    if (layer.activation === 'softmax') softmaxInPlace(h);
    else h = h.map((v) => act(v, layer.activation));
  }
  return h;
}
