/**
 * Serving a table model: request instances (objects or arrays of numbers, strings, null) go straight into
 * the folded first layer through the version's preprocessing (FirstLayer: one gathered kernel row per
 * categorical value, so a prediction costs the same however many categories a column has); the layers
 * after it run as any folded network does (Predictor, wasm direct kernels).
 */
import type { FoldedNetwork } from './fold';
import { Predictor } from './infer';
import { FirstLayer, type Preprocessing, type TableInstance } from './preprocess';

function activate(h: Float32Array, activation: string): void {
  switch (activation) {
    case 'relu':
      for (let i = 0; i < h.length; i++) if (h[i]! < 0) h[i] = 0;
      return;
    case 'tanh':
      for (let i = 0; i < h.length; i++) h[i] = Math.tanh(h[i]!);
      return;
    case 'sigmoid':
      for (let i = 0; i < h.length; i++) h[i] = 1 / (1 + Math.exp(-h[i]!));
      return;
    case 'elu':
      for (let i = 0; i < h.length; i++) if (h[i]! < 0) h[i] = Math.expm1(h[i]!);
      return;
    default:
      throw new Error(`unknown activation ${activation}`);
  }
}

/** Row-wise softmax in place (the max subtracted first, as the wasm kernel does). */
function softmaxRows(h: Float32Array, classes: number): void {
  for (let base = 0; base < h.length; base += classes) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, h[base + c]!);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += h[base + c] = Math.exp(h[base + c]! - max);
    for (let c = 0; c < classes; c++) h[base + c]! /= sum;
  }
}

export class TablePredictor {
  readonly classes: number;
  private readonly first: FirstLayer;
  private readonly activation: string;
  /** The layers after the first (null: the first layer is the output, a depth-0 model). */
  private readonly rest: Predictor | null;

  constructor(
    readonly preprocessing: Preprocessing,
    net: FoldedNetwork,
  ) {
    const l0 = net.layers[0]!;
    if (l0.inputs !== preprocessing.width)
      throw new RangeError(`the network takes ${l0.inputs} inputs, the preprocessing encodes ${preprocessing.width}`);
    this.classes = net.classes;
    this.first = new FirstLayer(preprocessing, l0.kernel, l0.bias, l0.units);
    this.activation = l0.activation;
    this.rest =
      net.layers.length > 1
        ? new Predictor({ layers: net.layers.slice(1), features: l0.units, classes: net.classes })
        : null;
  }

  /** Class probabilities (rows x classes); a value that cannot be read throws a PreprocessError naming it. */
  predictInstances(instances: readonly TableInstance[]): Float32Array {
    const u = this.first.units;
    const h = new Float32Array(instances.length * u);
    instances.forEach((inst, i) => this.first.apply(inst, i, h, i * u));
    if (!this.rest) {
      softmaxRows(h, this.classes);
      return h;
    }
    activate(h, this.activation);
    return this.rest.predictProba(h, instances.length);
  }

  dispose(): void {
    this.rest?.dispose();
  }
}
