/**
 * The engine's kernels in plain JS over a growable Float32Array, for when the wasm backend is not
 * the active one (the cpu fallback): training keeps working, slowly, with the same code path above
 * the kernels. Same contract as WasmKernels, including "re-read heap() after every call" (growing
 * replaces the array).
 */
import { HeapBuffer, type FusedActivationName, type Kernels } from './wasm';

export class JsKernels implements Kernels {
  private h = new Float32Array(1 << 16);
  private used = 0;
  private nextId = 1;

  heap(): Float32Array {
    return this.h;
  }

  alloc(size: number): HeapBuffer {
    const start = this.used;
    this.used += Math.max(1, size);
    if (this.used > this.h.length) {
      const grown = new Float32Array(Math.max(this.used, this.h.length * 2));
      grown.set(this.h);
      this.h = grown;
    }
    return new HeapBuffer(this.nextId++, start * 4, size);
  }

  view(parent: HeapBuffer, start: number, size: number): HeapBuffer {
    if (start < 0 || start + size > parent.size) throw new Error('view out of range');
    return new HeapBuffer(this.nextId++, parent.ptr + start * 4, size);
  }

  /** Nothing is cached between calls here. */
  invalidate(): void {}

  write(b: HeapBuffer, values: ArrayLike<number>, at = 0): void {
    if (at + values.length > b.size) throw new Error('write out of range');
    this.h.set(values, b.offset + at);
  }

  read(b: HeapBuffer, start = 0, size = b.size - start): Float32Array {
    return this.h.slice(b.offset + start, b.offset + start + size);
  }

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
    const h = this.h;
    const acc = new Float64Array(n);
    for (let i = 0; i < rows; i++) {
      if (bias) for (let j = 0; j < n; j++) acc[j] = h[bias.offset + j]!;
      else acc.fill(0);
      const ai = a.offset + i * k;
      for (let p = 0; p < k; p++) {
        const v = h[ai + p]!;
        if (v === 0) continue;
        const bp = b.offset + p * n;
        for (let j = 0; j < n; j++) acc[j]! += v * h[bp + j]!;
      }
      const o = out.offset + i * n;
      for (let j = 0; j < n; j++) h[o + j] = activate(acc[j]!, activation);
    }
  }

  transpose(x: HeapBuffer, rows: number, cols: number, out: HeapBuffer): void {
    const h = this.h;
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) h[out.offset + c * rows + r] = h[x.offset + r * cols + c]!;
  }

  dispose(): void {
    this.h = new Float32Array(0);
  }
}

function activate(v: number, a: FusedActivationName): number {
  switch (a) {
    case 'linear':
      return v;
    case 'relu':
      return v > 0 ? v : 0;
    case 'sigmoid':
      return 1 / (1 + Math.exp(-v));
    case 'elu':
      return v > 0 ? v : Math.expm1(v);
  }
}
