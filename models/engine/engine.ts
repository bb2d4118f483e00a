/**
 * The training engine: the network's forward and backward passes over buffers it owns on the wasm
 * heap. Matmuls go to the backend's XNNPACK kernel (always untransposed operands, with explicit
 * transposes where the backward pass needs X^T or W^T); BN, activations, dropout, the loss and the
 * optimizer are plain loops (elementwise.ts, optimizers.ts). A step costs a handful of kernel calls
 * per layer instead of the hundreds of tfjs ops of layers' fit, and no tensor is allocated.
 *
 * XNNPACK packs the right-hand operand of every matmul before multiplying, and in training that
 * operand has always just changed, so packing is paid on every call (~2-4 ns per element, as much as
 * the multiply itself for small batches). Each product is therefore computed in whichever orientation
 * packs the smaller operand: Z = X·W packs W (inputs x units), Z^T = W^T·X^T packs X^T (inputs x rows);
 * dX = dZ·W^T packs W^T, dX^T = W·dZ^T packs dZ^T (units x rows). Below the layer width, the transposed
 * form wins; the extra transposes of rows x width blocks are cheap.
 *
 * Parameters are one flat array (layout.ts) and so are their gradients: the weight-gradient matmuls
 * write into their final place and the optimizer is one loop.
 */
import type { ModelConfig } from '../config';
import type { NetworkWeights } from '../network';
import {
  activateInPlace,
  activationBackward,
  addPenaltyGradient,
  addRowVector,
  bnBackward,
  bnCache,
  bnInference,
  bnTrainForward,
  columnSums,
  multiplyInto,
  penaltyValue,
  softmaxCrossEntropy,
  updateMovingStats,
  type BnCache,
  type LossSums,
} from './elementwise';
import { kernelRanges, packTrainables, paramLayout, type LayerSlots, type ParamLayout } from './layout';
import type { FlatOptimizer } from './optimizers';
import * as tf from '@tensorflow/tfjs-core';
import { JsKernels } from './js-kernels';
import { WasmKernels, type FusedActivationName, type HeapBuffer, type Kernels } from './wasm';

export interface EngineSpec {
  /** Input width, hidden widths, classes. */
  sizes: number[];
  activation: ModelConfig['activation'];
  batchNorm: boolean;
  bnPlacement: ModelConfig['bnPlacement'];
  bnEpsilon: number;
  bnMomentum: number;
  l1: number;
  l2: number;
}

export function engineSpec(config: ModelConfig, features: number, classes: number): EngineSpec {
  return {
    sizes: [features, ...Array.from({ length: config.depth }, () => config.width), classes],
    activation: config.activation,
    batchNorm: config.batchNorm,
    bnPlacement: config.bnPlacement,
    bnEpsilon: config.bnEpsilon,
    bnMomentum: config.bnMomentum,
    l1: config.l1,
    l2: config.l2,
  };
}

/** Fills `mask` (rows x units, row-major) with an inverted-dropout mask; null means no dropout. */
export type MaskSource = ((layer: number, mask: Float32Array, n: number) => void) | null;

const FUSABLE: Partial<Record<EngineSpec['activation'], FusedActivationName>> = {
  relu: 'relu',
  sigmoid: 'sigmoid',
  elu: 'elu',
};

interface Layer {
  slots: LayerSlots;
  kernel: HeapBuffer;
  bias: HeapBuffer;
  gradKernel: HeapBuffer;
  /** Matmul output: z, or act(z) when no BN precedes the activation. */
  pre: HeapBuffer;
  /** BN-before: act(BN(z)); BN-after: BN(act(z)); null without BN. */
  second: HeapBuffer | null;
  /** The block output after dropout; null when there is no dropout. */
  dropped: HeapBuffer | null;
  /** dL/d(block output), written by the layer above. */
  dOut: HeapBuffer;
  /** The layer input transposed, for the weight gradient X^T · dZ (and the transposed forward). */
  inputT: HeapBuffer;
  /** True when the forward pass already left this batch's X^T in inputT. */
  inputTReady: boolean;
  /** The kernel transposed, for dZ · W^T and W^T · X^T. */
  kernelT: HeapBuffer;
  /** Weights version kernelT was transposed from. */
  transposed: number;
  bn: BnCache | null;
  mask: Float32Array | null;
  /** Which buffer holds the block output in the current forward pass. */
  output: HeapBuffer;
  /** Weights version the matmul kernel last packed. */
  packed: number;
}

/** Whether the transposed orientation of a product is worth its two extra transposes. */
function transposedPays(rows: number, width: number): boolean {
  return 2 * rows <= width;
}

export class Engine {
  readonly spec: EngineSpec;
  readonly layout: ParamLayout;
  /** Rows one forward/backward pass can take. */
  readonly capacity: number;
  readonly kernels: Kernels;
  readonly params: HeapBuffer;
  readonly grads: HeapBuffer;
  readonly movingMean: Float32Array[];
  readonly movingVariance: Float32Array[];
  private readonly input: HeapBuffer;
  private readonly labels: Int32Array;
  private readonly layers: Layer[];
  private readonly scratch: Float64Array;
  /** Transposed intermediates (Z^T, dZ^T, dX^T), consumed right after they are made. */
  private readonly scratchA: HeapBuffer;
  private readonly scratchB: HeapBuffer;
  private version = 1;
  private rowsInForward = 0;

  /** `kernels` defaults to the wasm backend's own when it is active, plain JS otherwise. */
  constructor(spec: EngineSpec, capacity: number, dropout: boolean, kernels?: Kernels) {
    this.spec = spec;
    this.capacity = capacity;
    this.layout = paramLayout(spec.sizes, spec.batchNorm);
    const k = (this.kernels =
      kernels ?? (tf.getBackend() === 'wasm' ? WasmKernels.fromActiveBackend() : new JsKernels()));
    try {
      this.params = k.alloc(this.layout.total);
      this.grads = k.alloc(this.layout.total);
      this.input = k.alloc(capacity * spec.sizes[0]!);
      this.labels = new Int32Array(capacity);
      const hiddenCount = spec.sizes.length - 2;
      this.layers = this.layout.layers.map((s, l) => {
        const hidden = l < hiddenCount;
        const bn = hidden && spec.batchNorm;
        const pre = k.alloc(capacity * s.units);
        return {
          slots: s,
          kernel: k.view(this.params, s.kernel, s.inputs * s.units),
          bias: k.view(this.params, s.bias, s.units),
          gradKernel: k.view(this.grads, s.kernel, s.inputs * s.units),
          pre,
          second: bn ? k.alloc(capacity * s.units) : null,
          dropped: hidden && dropout ? k.alloc(capacity * s.units) : null,
          dOut: k.alloc(capacity * s.units),
          inputT: k.alloc(capacity * s.inputs),
          inputTReady: false,
          kernelT: k.alloc(s.inputs * s.units),
          transposed: 0,
          bn: bn ? bnCache(capacity, s.units) : null,
          mask: hidden && dropout ? new Float32Array(capacity * s.units) : null,
          output: pre,
          packed: 0,
        };
      });
      const widest = Math.max(...spec.sizes);
      this.scratch = new Float64Array(3 * widest);
      this.scratchA = k.alloc(capacity * widest);
      this.scratchB = k.alloc(capacity * widest);
      this.movingMean = spec.batchNorm
        ? Array.from({ length: hiddenCount }, (_, l) => new Float32Array(spec.sizes[l + 1]!))
        : [];
      this.movingVariance = spec.batchNorm
        ? Array.from({ length: hiddenCount }, (_, l) => new Float32Array(spec.sizes[l + 1]!).fill(1))
        : [];
    } catch (err) {
      k.dispose();
      throw err;
    }
  }

  setWeights(w: NetworkWeights): void {
    const flat = new Float32Array(this.layout.total);
    packTrainables(this.layout, w, flat);
    this.kernels.write(this.params, flat);
    w.hidden.forEach((b, l) => {
      if (!this.spec.batchNorm) return;
      if (!b.bn) throw new Error(`hidden layer ${l} has no BN weights`);
      this.movingMean[l]!.set(b.bn.movingMean);
      this.movingVariance[l]!.set(b.bn.movingVariance);
    });
    this.version++;
  }

  getWeights(): NetworkWeights {
    const p = this.kernels.read(this.params);
    const dense = (s: LayerSlots) => ({
      inputs: s.inputs,
      units: s.units,
      kernel: p.slice(s.kernel, s.kernel + s.inputs * s.units),
      bias: p.slice(s.bias, s.bias + s.units),
    });
    const slots = this.layout.layers;
    return {
      hidden: slots.slice(0, -1).map((s, l) => ({
        dense: dense(s),
        bn: this.spec.batchNorm
          ? {
              gamma: p.slice(s.gamma, s.gamma + s.units),
              beta: p.slice(s.beta, s.beta + s.units),
              movingMean: Float32Array.from(this.movingMean[l]!),
              movingVariance: Float32Array.from(this.movingVariance[l]!),
            }
          : null,
      })),
      output: dense(slots[slots.length - 1]!),
    };
  }

  /** Copies rows index[start..start+rows) of (x, y) into the input buffer (index null: rows in order). */
  stage(x: Float32Array, y: Int32Array, index: ArrayLike<number> | null, start: number, rows: number): void {
    if (rows > this.capacity) throw new Error(`${rows} rows exceed the engine's capacity of ${this.capacity}`);
    const f = this.spec.sizes[0]!;
    const h = this.kernels.heap();
    const base = this.input.offset;
    for (let r = 0; r < rows; r++) {
      const src = index ? index[start + r]! : start + r;
      const from = src * f;
      const to = base + r * f;
      for (let j = 0; j < f; j++) h[to + j] = x[from + j]!;
      this.labels[r] = y[src]!;
    }
  }

  /**
   * Forward pass over the staged rows. Training mode normalises with batch statistics and applies
   * the dropout masks from `masks`; inference mode uses the moving statistics and no dropout.
   */
  forward(rows: number, training: boolean, masks: MaskSource = null): void {
    const { spec, kernels: k } = this;
    const hiddenCount = this.layers.length - 1;
    let input = this.input;
    for (let l = 0; l < this.layers.length; l++) {
      const L = this.layers[l]!;
      const { inputs, units } = L.slots;
      const n = rows * units;
      const hidden = l < hiddenCount;
      const bnBefore = hidden && spec.batchNorm && spec.bnPlacement === 'before';
      // Whether pre still needs the activation after the matmul.
      let activate = hidden && !bnBefore;
      L.inputTReady = transposedPays(rows, units);
      if (L.inputTReady) {
        // Z^T = W^T · X^T packs X^T (inputs x rows), smaller than W here; X^T is reused by the backward pass.
        this.transposeKernel(L);
        k.transpose(input, rows, inputs, L.inputT);
        k.invalidate(L.inputT);
        k.matmul(L.kernelT, units, inputs, L.inputT, rows, this.scratchA);
        k.transpose(this.scratchA, units, rows, L.pre);
        const h = k.heap();
        addRowVector(h, L.pre.offset, rows, units, h, this.params.offset + L.slots.bias);
      } else {
        if (L.packed !== this.version) {
          k.invalidate(L.kernel);
          L.packed = this.version;
        }
        const fused = activate ? FUSABLE[spec.activation] : undefined;
        k.matmul(input, rows, inputs, L.kernel, units, L.pre, L.bias, fused ?? 'linear');
        if (fused) activate = false;
      }
      if (!hidden) break;
      const h = k.heap();
      const p = h;
      const s = L.slots;
      if (activate) activateInPlace(h, L.pre.offset, n, spec.activation);
      let out = L.pre;
      if (spec.batchNorm) {
        if (training) {
          const target = L.second!;
          bnTrainForward(
            h,
            L.pre.offset,
            rows,
            units,
            p,
            this.params.offset + s.gamma,
            this.params.offset + s.beta,
            spec.bnEpsilon,
            L.bn!,
            h,
            target.offset,
          );
          out = target;
        } else {
          bnInference(
            h,
            L.pre.offset,
            rows,
            units,
            p,
            this.params.offset + s.gamma,
            this.params.offset + s.beta,
            this.movingMean[l]!,
            this.movingVariance[l]!,
            spec.bnEpsilon,
            this.scratch,
          );
        }
        if (bnBefore) activateInPlace(h, out.offset, n, spec.activation);
      }
      if (training && masks && L.mask && L.dropped) {
        masks(l, L.mask, n);
        multiplyInto(h, out.offset, L.mask, n, h, L.dropped.offset);
        out = L.dropped;
      }
      L.output = out;
      input = out;
    }
    this.rowsInForward = rows;
  }

  /** Loss sums of the last forward pass; with `gradient`, also dL/dlogits of the batch-mean loss. */
  loss(rows: number, classWeights: ArrayLike<number> | null, gradient: boolean): LossSums {
    const top = this.layers[this.layers.length - 1]!;
    const h = this.kernels.heap();
    return softmaxCrossEntropy(
      h,
      top.pre.offset,
      rows,
      top.slots.units,
      this.labels,
      classWeights,
      h,
      gradient ? top.dOut.offset : -1,
    );
  }

  /** Gradients of the loss (dL/dlogits already in place) w.r.t. every trainable, L1/L2 included. */
  backward(rows: number): void {
    if (rows !== this.rowsInForward) throw new Error('backward must follow a forward pass over the same rows');
    const { spec, kernels: k } = this;
    const g0 = this.grads.offset;
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const L = this.layers[l]!;
      const s = L.slots;
      const n = rows * s.units;
      const hidden = l < this.layers.length - 1;
      if (hidden) {
        const h = k.heap();
        const d = L.dOut.offset;
        // Backward through inverted dropout: the same mask scales the gradient.
        if (L.output === L.dropped) multiplyInto(h, d, L.mask!, n, h, d);
        if (spec.batchNorm) {
          const bnBefore = spec.bnPlacement === 'before';
          if (bnBefore) activationBackward(h, d, h, L.second!.offset, n, spec.activation);
          bnBackward(
            h,
            d,
            rows,
            s.units,
            L.bn!,
            h,
            this.params.offset + s.gamma,
            h,
            g0 + s.gamma,
            g0 + s.beta,
            this.scratch,
          );
          if (!bnBefore) activationBackward(h, d, h, L.pre.offset, n, spec.activation);
        } else {
          activationBackward(h, d, h, L.pre.offset, n, spec.activation);
        }
      }
      // dL/dz of this layer is now in dOut: weight, bias and input gradients.
      const input = l > 0 ? this.layers[l - 1]!.output : this.input;
      if (!L.inputTReady) k.transpose(input, rows, s.inputs, L.inputT);
      k.invalidate(L.dOut);
      k.matmul(L.inputT, s.inputs, rows, L.dOut, s.units, L.gradKernel);
      const h = k.heap();
      columnSums(h, L.dOut.offset, rows, s.units, h, g0 + s.bias, this.scratch);
      if (l === 0) continue;
      const below = this.layers[l - 1]!.dOut;
      if (transposedPays(rows, s.inputs)) {
        // dX^T = W · dZ^T packs dZ^T (units x rows) instead of W^T (units x inputs).
        k.transpose(L.dOut, rows, s.units, this.scratchA);
        k.invalidate(this.scratchA);
        k.matmul(L.kernel, s.inputs, s.units, this.scratchA, rows, this.scratchB);
        k.transpose(this.scratchB, s.inputs, rows, below);
      } else {
        this.transposeKernel(L);
        k.matmul(L.dOut, rows, s.units, L.kernelT, s.inputs, below);
      }
    }
    if (spec.l1 > 0 || spec.l2 > 0) {
      const h = k.heap();
      for (const [start, end] of kernelRanges(this.layout))
        addPenaltyGradient(h, this.params.offset + start, g0 + start, end - start, spec.l1, spec.l2);
    }
  }

  /** Brings kernelT up to date with the current weights (once per update). */
  private transposeKernel(L: Layer): void {
    if (L.transposed === this.version) return;
    this.kernels.transpose(L.kernel, L.slots.inputs, L.slots.units, L.kernelT);
    this.kernels.invalidate(L.kernelT);
    L.transposed = this.version;
  }

  /** l1 * sum|w| + l2 * sum w^2 over the kernels. */
  penalty(): number {
    const { l1, l2 } = this.spec;
    if (l1 === 0 && l2 === 0) return 0;
    const h = this.kernels.heap();
    let total = 0;
    for (const [start, end] of kernelRanges(this.layout))
      total += penaltyValue(h, this.params.offset + start, this.params.offset + end, l1, l2);
    return total;
  }

  /** Applies the gradients and moves the BN moving averages toward the last batch's statistics. */
  update(optimizer: FlatOptimizer, learningRate: number): void {
    const h = this.kernels.heap();
    optimizer.update(h, this.params.offset, h, this.grads.offset, this.layout.total, learningRate);
    this.version++;
    if (this.spec.batchNorm)
      this.layers
        .slice(0, -1)
        .forEach((L, l) =>
          updateMovingStats(L.bn!, this.movingMean[l]!, this.movingVariance[l]!, this.spec.bnMomentum),
        );
  }

  /** The gradients of the last backward pass, in layout order. */
  gradients(): Float32Array {
    return this.kernels.read(this.grads);
  }

  /** Mean (unweighted) cross-entropy and accuracy of the inference-mode network on a whole part. */
  evaluate(x: Float32Array, y: Int32Array, rows: number): { loss: number; accuracy: number } {
    let loss = 0;
    let hits = 0;
    for (let start = 0; start < rows; start += this.capacity) {
      const n = Math.min(this.capacity, rows - start);
      this.stage(x, y, null, start, n);
      this.forward(n, false);
      const s = this.loss(n, null, false);
      loss += s.loss;
      hits += s.hits;
    }
    return { loss: loss / rows, accuracy: hits / rows };
  }

  dispose(): void {
    this.kernels.dispose();
  }
}
