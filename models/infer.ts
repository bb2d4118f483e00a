/**
 * Serving-side inference over a folded network (BN and standardisation already in the weights).
 *
 * On the wasm backend the weights are copied once to the wasm heap and every layer is one direct call
 * to the backend's fused matmul (XNNPACK, bias and relu/sigmoid/elu in its epilogue), then one call to
 * its softmax kernel. The weights never change, so XNNPACK packs them once and keeps the packed copy
 * for every later call; with no tfjs op dispatch, a one-row prediction costs a few microseconds.
 * Probabilities depend on the row alone, never on the rest of the batch.
 *
 * Any other backend (the cpu fallback) takes the same computation through tfjs ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import { temperInPlace } from './calibration';
import { WasmKernels, type FusedActivationName, type HeapBuffer } from './engine/wasm';
import type { FoldedActivation, FoldedNetwork } from './fold';

const FUSED: Partial<Record<FoldedActivation, FusedActivationName>> = { relu: 'relu', sigmoid: 'sigmoid', elu: 'elu' };

/** Rows per pass; larger batches run in chunks of this many (bounds the heap the predictor holds). */
const CHUNK_ROWS = 256;

interface HeapLayer {
  inputs: number;
  units: number;
  kernel: HeapBuffer;
  bias: HeapBuffer;
  activation: FoldedActivation;
}

/** The same network through tfjs ops, for backends other than wasm. */
class TensorPath {
  private readonly layers: { kernel: tf.Tensor2D; bias: tf.Tensor1D; activation: FoldedActivation }[];

  constructor(net: FoldedNetwork) {
    this.layers = net.layers.map((l) => ({
      kernel: tf.tensor2d(l.kernel, [l.inputs, l.units]),
      bias: tf.tensor1d(l.bias),
      activation: l.activation,
    }));
  }

  run(x: Float32Array, rows: number, features: number): Float32Array {
    const probs = tf.tidy(() => {
      let h: tf.Tensor2D = tf.tensor2d(x, [rows, features]);
      for (const l of this.layers) {
        h = tf.fused.matMul({
          a: h,
          b: l.kernel,
          bias: l.bias,
          activation: FUSED[l.activation] ?? 'linear',
        }) as tf.Tensor2D;
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

/**
 * Memory one or several folded networks hold while loaded on the heap path, in bytes: their weights twice (our
 * heap copy and XNNPACK's packed copy of each kernel), the input buffer and the two activation buffers of
 * CHUNK_ROWS rows. Serving's cache budgets by it.
 */
export function heapBytesOf(nets: FoldedNetwork[]): number {
  const weights = nets.reduce((a, net) => a + net.layers.reduce((b, l) => b + l.kernel.length + l.bias.length, 0), 0);
  const widest = Math.max(...nets.flatMap((net) => net.layers.map((l) => l.units)));
  return 4 * (2 * weights + CHUNK_ROWS * (nets[0]!.features + 2 * widest));
}

export class Predictor implements ProbabilityModel {
  readonly features: number;
  readonly classes: number;
  readonly heapBytes: number;
  private readonly path: HeapPath | TensorPath;

  constructor(net: FoldedNetwork) {
    this.features = net.features;
    this.classes = net.classes;
    this.heapBytes = heapBytesOf([net]);
    this.path = tf.getBackend() === 'wasm' ? new HeapPath([{ net, weight: 1 }]) : new TensorPath(net);
  }

  /** Class probabilities for `rows` raw rows laid out row-major; returns rows x classes. */
  predictProba(x: Float32Array, rows: number): Float32Array {
    if (x.length !== rows * this.features) throw new Error(`expected ${rows * this.features} values, got ${x.length}`);
    return this.path.run(x, rows, this.features, this.classes);
  }

  dispose(): void {
    this.path.dispose();
  }
}

/** What serving needs from a model: raw rows in, class probabilities out. */
export interface ProbabilityModel {
  readonly features: number;
  readonly classes: number;
  /** What it holds in memory while loaded (see heapBytesOf). */
  readonly heapBytes: number;
  predictProba(x: Float32Array, rows: number): Float32Array;
  dispose(): void;
}

/** Loads one folded network's layers onto the heap (the caller disposes `k` on failure). */
function heapLayers(k: WasmKernels, net: FoldedNetwork): HeapLayer[] {
  return net.layers.map((l) => {
    const kernel = k.alloc(l.kernel.length);
    const bias = k.alloc(l.bias.length);
    k.write(kernel, l.kernel);
    k.write(bias, l.bias);
    return { inputs: l.inputs, units: l.units, kernel, bias, activation: l.activation };
  });
}

/**
 * The direct-kernel path of one network or an ensemble's members: every member's layers on the heap, one input
 * buffer written once per chunk and two activation buffers shared by all members (members run one after
 * another), and each member's probabilities added into the output straight from the heap by weight (a single
 * network is one member of weight 1: w * p is then p exactly). For an ensemble this saves, against separate
 * Predictors, an input copy, an output array and a pair of activation buffers per extra member.
 */
class HeapPath {
  private readonly k: WasmKernels;
  private readonly members: { layers: HeapLayer[]; weight: number }[];
  private readonly input: HeapBuffer;
  private readonly buffers: [HeapBuffer, HeapBuffer];

  constructor(members: { net: FoldedNetwork; weight: number }[]) {
    const k = (this.k = WasmKernels.fromActiveBackend());
    try {
      const total = members.reduce((a, m) => a + m.weight, 0);
      this.members = members.map((m) => ({ layers: heapLayers(k, m.net), weight: m.weight / total }));
      const features = members[0]!.net.features;
      const widest = Math.max(...members.flatMap((m) => m.net.layers.map((l) => l.units)));
      this.input = k.alloc(CHUNK_ROWS * features);
      this.buffers = [k.alloc(CHUNK_ROWS * widest), k.alloc(CHUNK_ROWS * widest)];
    } catch (err) {
      k.dispose();
      throw err;
    }
  }

  run(x: Float32Array, rows: number, features: number, classes: number): Float32Array {
    const out = new Float32Array(rows * classes);
    for (let start = 0; start < rows; start += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, rows - start);
      this.k.write(this.input, x.subarray(start * features, (start + n) * features));
      const base = start * classes;
      for (let m = 0; m < this.members.length; m++) {
        const { layers, weight } = this.members[m]!;
        let src = this.input;
        let dst = 0;
        for (const l of layers) {
          const to = this.buffers[dst]!;
          this.k.matmul(src, n, l.inputs, l.kernel, l.units, to, l.bias, FUSED[l.activation] ?? 'linear');
          if (l.activation === 'tanh') {
            const h = this.k.heap();
            for (let i = to.offset; i < to.offset + n * l.units; i++) h[i] = Math.tanh(h[i]!);
          }
          src = to;
          dst = 1 - dst;
        }
        const probs = this.buffers[dst]!;
        this.k.softmax(src, n, classes, probs);
        const h = this.k.heap();
        const o = probs.offset;
        // The same float32 steps as averageProbabilities (ensemble selection) and mixMembers: w * p, then += w * p.
        if (m === 0) for (let i = 0; i < n * classes; i++) out[base + i] = h[o + i]! * weight;
        else for (let i = 0; i < n * classes; i++) out[base + i]! += weight * h[o + i]!;
      }
    }
    return out;
  }

  dispose(): void {
    this.k.dispose();
  }
}

/**
 * Several folded networks served as one: the weighted average of their probabilities (an ensemble chosen by
 * ensemble selection; weights are how often each member was picked), then the version's temperature, if any.
 * On wasm all members share one heap path (HeapPath); elsewhere each member runs through tfjs ops.
 * One member with a temperature is a calibrated single network.
 */
export class EnsemblePredictor implements ProbabilityModel {
  readonly features: number;
  readonly classes: number;
  readonly heapBytes: number;
  private readonly path: HeapPath | { nets: TensorPath[]; weights: number[] };

  constructor(
    members: { net: FoldedNetwork; weight: number }[],
    private readonly temperature = 1,
  ) {
    if (!members.length) throw new Error('an ensemble needs at least one member');
    const first = members[0]!.net;
    for (const m of members)
      if (m.net.features !== first.features || m.net.classes !== first.classes)
        throw new Error('ensemble members must share features and classes');
    if (!(temperature > 0 && Number.isFinite(temperature))) throw new RangeError(`bad temperature ${temperature}`);
    this.features = first.features;
    this.classes = first.classes;
    this.heapBytes = heapBytesOf(members.map((m) => m.net));
    if (tf.getBackend() === 'wasm') this.path = new HeapPath(members);
    else {
      const nets: TensorPath[] = [];
      try {
        for (const m of members) nets.push(new TensorPath(m.net));
      } catch (err) {
        for (const t of nets) t.dispose();
        throw err;
      }
      this.path = { nets, weights: members.map((m) => m.weight) };
    }
  }

  predictProba(x: Float32Array, rows: number): Float32Array {
    if (x.length !== rows * this.features) throw new Error(`expected ${rows * this.features} values, got ${x.length}`);
    const path = this.path;
    if (path instanceof HeapPath) {
      const out = path.run(x, rows, this.features, this.classes);
      return this.temperature === 1 ? out : temperInPlace(out, this.classes, this.temperature);
    }
    return mixMembers(
      path.nets.map((t, i) => ({ run: () => t.run(x, rows, this.features), weight: path.weights[i]! })),
      this.classes,
      this.temperature,
    );
  }

  dispose(): void {
    if (this.path instanceof HeapPath) this.path.dispose();
    else for (const t of this.path.nets) t.dispose();
  }
}

/**
 * The members' probabilities averaged by weight (in the members' order, one float32 rounding per step, as
 * ensemble selection's averageProbabilities does), then softmax(log p / T) unless T = 1. Each member's output
 * is consumed as it is produced, so at most two arrays are alive.
 */
export function mixMembers(
  members: { run: () => Float32Array; weight: number }[],
  classes: number,
  temperature: number,
): Float32Array {
  const total = members.reduce((a, m) => a + m.weight, 0);
  let out: Float32Array | null = null;
  for (const m of members) {
    const p = m.run();
    const w = m.weight / total;
    if (!out) {
      out = p;
      if (w !== 1) for (let k = 0; k < out.length; k++) out[k]! *= w;
    } else for (let k = 0; k < out.length; k++) out[k]! += w * p[k]!;
  }
  return temperature === 1 ? out! : temperInPlace(out!, classes, temperature);
}
