/**
 * Direct access to the TF.js wasm backend's kernels on buffers this module owns on the wasm heap.
 *
 * A tfjs op costs ~3 us of engine bookkeeping (tensor objects, malloc/free, kernel lookup) before the
 * kernel runs; training a small network issues hundreds per step, so that overhead dominates. Here a
 * buffer is malloc'ed once, registered under a tensor id with the backend's C side, and the exported
 * C kernel is called with those ids: no allocation and no JS tensor per call.
 *
 * Two rules keep this correct:
 * - The heap may grow during any wasm call (XNNPACK allocates when it creates an operator), which
 *   detaches every typed-array view. JS code therefore re-reads `heap()` after each wasm call and
 *   indexes it with `buffer.offset`, never keeping a subarray across calls.
 * - The matmul kernel caches an XNNPACK operator per right-hand operand id, with that operand packed
 *   at creation. When a buffer used as a right-hand operand changes, `invalidate()` drops the cached
 *   operator; constant weights (serving) keep theirs, which is the point of the cache.
 */
import * as tf from '@tensorflow/tfjs-core';

interface EmscriptenHeap {
  HEAPF32: Float32Array;
  HEAP32: Int32Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  tfjs: {
    registerTensor(id: number, size: number, offset: number): void;
    disposeData(id: number): void;
  };
  // C symbol `_FusedMatMul`: a, a shape, a rank, b, b shape, b rank, transpose a, transpose b,
  // activation, bias id, prelu id, leaky alpha, out id.
  __FusedMatMul(...args: number[]): void;
  // x, x shape, rank, dtype, out, perm, perm length.
  _Transpose(...args: number[]): void;
  // x, out, channels, batch: row-wise softmax (XNNPACK's vectorised exp).
  _Softmax(...args: number[]): void;
}

/** Activations the matmul kernel applies in its epilogue (values of the backend's FusableActivation). */
export const FUSED_ACTIVATION = { linear: 0, relu: 1, sigmoid: 5, elu: 6 } as const;
export type FusedActivationName = keyof typeof FUSED_ACTIVATION;

// The backend numbers its tensors from 1 upwards; ours start far above so the two never meet.
let nextId = 0x40000000;

export class HeapBuffer {
  /** Index of the first element in `heap()` (a float32 index, not a byte address). */
  readonly offset: number;
  constructor(
    readonly id: number,
    readonly ptr: number,
    readonly size: number,
  ) {
    this.offset = ptr >>> 2;
  }
}

/**
 * What the engine needs from a kernel provider: float32 buffers in one heap addressed by offset,
 * untransposed matmul with fused bias/activation, and 2-D transpose. WasmKernels is the real one;
 * JsKernels (js-kernels.ts) does the same in plain JS for backends other than wasm.
 */
export interface Kernels {
  heap(): Float32Array;
  alloc(size: number): HeapBuffer;
  view(parent: HeapBuffer, start: number, size: number): HeapBuffer;
  invalidate(b: HeapBuffer): void;
  write(b: HeapBuffer, values: ArrayLike<number>, at?: number): void;
  read(b: HeapBuffer, start?: number, size?: number): Float32Array;
  matmul(
    a: HeapBuffer,
    rows: number,
    k: number,
    b: HeapBuffer,
    n: number,
    out: HeapBuffer,
    bias?: HeapBuffer | null,
    activation?: FusedActivationName,
  ): void;
  transpose(x: HeapBuffer, rows: number, cols: number, out: HeapBuffer): void;
  dispose(): void;
}

export class WasmKernels implements Kernels {
  private readonly m: EmscriptenHeap;
  /** Every registered id (allocations and views) and the pointers to free. */
  private readonly owned: HeapBuffer[] = [];
  private readonly allocations: number[] = [];
  private readonly shapes: number;
  private disposed = false;

  private constructor(m: EmscriptenHeap) {
    this.m = m;
    // Scratch for the shape and permutation arguments: a, b (3 ints each), perm (2), transpose shape (2).
    this.shapes = m._malloc(16 * 4);
  }

  /** Binds to the active backend; throws unless it is the wasm backend. */
  static fromActiveBackend(): WasmKernels {
    if (tf.getBackend() !== 'wasm') throw new Error(`the engine needs the wasm backend, active: ${tf.getBackend()}`);
    const backend = tf.backend() as unknown as { wasm?: EmscriptenHeap };
    const m = backend.wasm;
    if (
      !m ||
      typeof m.__FusedMatMul !== 'function' ||
      typeof m._Transpose !== 'function' ||
      typeof m._Softmax !== 'function'
    )
      throw new Error('wasm backend does not export the expected kernels');
    return new WasmKernels(m);
  }

  /** The current float32 view of the whole heap; re-read after every wasm call. */
  heap(): Float32Array {
    return this.m.HEAPF32;
  }

  /** A zeroed float32 buffer of `size` elements, registered with the backend. */
  alloc(size: number): HeapBuffer {
    const bytes = Math.max(1, size) * 4;
    const ptr = this.m._malloc(bytes) >>> 0;
    if (ptr === 0) throw new Error(`wasm heap allocation of ${bytes} bytes failed`);
    const b = new HeapBuffer(nextId++, ptr, size);
    this.m.tfjs.registerTensor(b.id, size, ptr);
    this.m.HEAPF32.fill(0, b.offset, b.offset + size);
    this.owned.push(b);
    this.allocations.push(ptr);
    return b;
  }

  /** A sub-range of `parent` as its own tensor id (e.g. one layer's slice of the flat parameters). */
  view(parent: HeapBuffer, start: number, size: number): HeapBuffer {
    if (start < 0 || start + size > parent.size) throw new Error('view out of range');
    const b = new HeapBuffer(nextId++, parent.ptr + start * 4, size);
    this.m.tfjs.registerTensor(b.id, size, b.ptr);
    this.owned.push(b);
    return b;
  }

  /** Drops the kernel-side caches keyed on this buffer (packed XNNPACK weights) after its contents changed. */
  invalidate(b: HeapBuffer): void {
    this.m.tfjs.disposeData(b.id);
    this.m.tfjs.registerTensor(b.id, b.size, b.ptr);
  }

  write(b: HeapBuffer, values: ArrayLike<number>, at = 0): void {
    if (at + values.length > b.size) throw new Error('write out of range');
    this.m.HEAPF32.set(values, b.offset + at);
  }

  read(b: HeapBuffer, start = 0, size = b.size - start): Float32Array {
    return this.m.HEAPF32.slice(b.offset + start, b.offset + start + size);
  }

  /**
   * out[rows x n] = act(a[rows x k] · b[k x n] + bias). Neither operand transposed: that is the layout
   * XNNPACK serves; the kernel's transposed-operand paths are a naive loop.
   * `b` (and `bias`) are the operands XNNPACK packs and caches: invalidate them when they change.
   */
  matmul(
    a: HeapBuffer,
    rows: number,
    k: number,
    b: HeapBuffer,
    n: number,
    out: HeapBuffer,
    bias: HeapBuffer | null = null,
    activation: FusedActivationName = 'linear',
  ): void {
    const s = this.shapes >>> 2;
    const h32 = this.m.HEAP32;
    h32[s] = 1;
    h32[s + 1] = rows;
    h32[s + 2] = k;
    h32[s + 3] = 1;
    h32[s + 4] = k;
    h32[s + 5] = n;
    this.m.__FusedMatMul(
      a.id,
      this.shapes,
      3,
      b.id,
      this.shapes + 12,
      3,
      0,
      0,
      FUSED_ACTIVATION[activation],
      bias ? bias.id : 0,
      0,
      0,
      out.id,
    );
  }

  /** out[cols x rows] = x[rows x cols]^T. */
  transpose(x: HeapBuffer, rows: number, cols: number, out: HeapBuffer): void {
    const s = (this.shapes >>> 2) + 8;
    const h32 = this.m.HEAP32;
    h32[s] = rows;
    h32[s + 1] = cols;
    h32[s + 2] = 1;
    h32[s + 3] = 0;
    this.m._Transpose(x.id, this.shapes + 32, 2, 0, out.id, this.shapes + 40, 2);
  }

  /** Row-wise softmax of `rows` rows of `cols` values into out (the serving path's last step). */
  softmax(x: HeapBuffer, rows: number, cols: number, out: HeapBuffer): void {
    this.m._Softmax(x.id, out.id, cols, rows);
  }

  /** Frees every buffer allocated through this instance. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of this.owned) this.m.tfjs.disposeData(b.id);
    for (const ptr of this.allocations) this.m._free(ptr);
    this.m._free(this.shapes);
  }
}
