import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { resolveConfig } from '../../models/config';
import { Engine, engineSpec } from '../../models/engine/engine';
import { createFlatOptimizer } from '../../models/engine/optimizers';
import { WasmKernels } from '../../models/engine/wasm';
import { initialWeights } from '../../models/network';
import { Rng } from '../../models/random';
import { maxAbsDiff, requireWasmSimd } from './fixtures';
import { trackWasmHeap } from './wasm-heap';

beforeAll(requireWasmSimd);

function reference(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) out[i * n + j]! += a[i * k + p]! * b[p * n + j]!;
  return out;
}

const random = (n: number, rng: Rng) => Float32Array.from({ length: n }, () => rng.normal());

describe('direct wasm kernels', () => {
  it('matmul matches a reference, and sees new right-hand values after invalidate()', () => {
    const k = WasmKernels.fromActiveBackend();
    const rng = new Rng(1);
    const [m, kk, n] = [5, 7, 3];
    const a = k.alloc(m * kk);
    const b = k.alloc(kk * n);
    const out = k.alloc(m * n);
    const av = random(m * kk, rng);
    k.write(a, av);
    for (let round = 0; round < 3; round++) {
      const bv = random(kk * n, rng);
      k.write(b, bv);
      // The kernel caches b packed; new contents need the cache dropped.
      k.invalidate(b);
      k.matmul(a, m, kk, b, n, out);
      expect(maxAbsDiff(k.read(out), reference(av, bv, m, kk, n))).toBeLessThan(1e-5);
    }
    k.dispose();
  });

  it('fuses bias and relu, and writes through a view into its parent buffer', () => {
    const k = WasmKernels.fromActiveBackend();
    const rng = new Rng(2);
    const a = k.alloc(4 * 3);
    const w = k.alloc(3 * 2 + 2);
    const kernel = k.view(w, 0, 6);
    const bias = k.view(w, 6, 2);
    const flat = k.alloc(10);
    const out = k.view(flat, 2, 8);
    const av = random(12, rng);
    const wv = random(8, rng);
    k.write(a, av);
    k.write(w, wv);
    k.matmul(a, 4, 3, kernel, 2, out, bias, 'relu');
    const ref = reference(av, wv.subarray(0, 6), 4, 3, 2).map((v, i) => Math.max(0, v + wv[6 + (i % 2)]!));
    const got = k.read(flat);
    expect(Array.from(got.subarray(0, 2))).toEqual([0, 0]);
    expect(maxAbsDiff(got.subarray(2), ref)).toBeLessThan(1e-5);
    k.dispose();
  });

  it('transposes', () => {
    const k = WasmKernels.fromActiveBackend();
    const x = k.alloc(6);
    const t = k.alloc(6);
    k.write(x, [1, 2, 3, 4, 5, 6]);
    k.transpose(x, 2, 3, t);
    expect(Array.from(k.read(t))).toEqual([1, 4, 2, 5, 3, 6]);
    k.dispose();
  });

  it('buffers stay valid when the heap grows', () => {
    const k = WasmKernels.fromActiveBackend();
    const small = k.alloc(4);
    k.write(small, [1, 2, 3, 4]);
    const oldView = k.heap();
    // Allocate 4 MiB at a time until memory.grow happens, which detaches every earlier view.
    for (let i = 0; i < 32 && k.heap() === oldView; i++) k.alloc(1 << 20);
    expect(k.heap() === oldView).toBe(false);
    expect(oldView.byteLength).toBe(0);
    expect(Array.from(k.read(small))).toEqual([1, 2, 3, 4]);
    k.dispose();
  });
});

describe('engine housekeeping', () => {
  it('a training step creates no tfjs tensors, and staging more rows than the capacity throws', () => {
    const config = resolveConfig({ depth: 2, width: 8, dropout: 0.2 });
    const engine = new Engine(engineSpec(config, 6, 3), 16, true);
    engine.setWeights(initialWeights(config, 6, 3, 1));
    const rng = new Rng(3);
    const x = random(16 * 6, rng);
    const y = Int32Array.from({ length: 16 }, () => rng.int(3));
    const before = tf.memory().numTensors;
    engine.stage(x, y, null, 0, 16);
    engine.forward(16, true, (_l, mask, n) => mask.fill(1.25, 0, n));
    engine.loss(16, null, true);
    engine.backward(16);
    engine.update(createFlatOptimizer(config), 0.01);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => engine.stage(new Float32Array(17 * 6), new Int32Array(17), null, 0, 17)).toThrow(/capacity/);
    engine.dispose();
  });

  it('an engine frees every wasm-heap byte it took (invisible to tf.memory())', () => {
    const config = resolveConfig({ depth: 2, width: 8, dropout: 0.2 });
    const heap = trackWasmHeap();
    try {
      const engine = new Engine(engineSpec(config, 6, 3), 16, true);
      engine.setWeights(initialWeights(config, 6, 3, 1));
      const rng = new Rng(3);
      engine.stage(
        random(16 * 6, rng),
        Int32Array.from({ length: 16 }, () => rng.int(3)),
        null,
        0,
        16,
      );
      engine.forward(16, true, (_l, mask, n) => mask.fill(1.25, 0, n));
      engine.loss(16, null, true);
      engine.backward(16);
      engine.update(createFlatOptimizer(config), 0.01);
      expect(heap.outstanding()).toBeGreaterThan(0);
      engine.dispose();
      expect(heap.outstanding()).toBe(0);
    } finally {
      heap.stop();
    }
  });

  it('weights round-trip through the flat layout', () => {
    const config = resolveConfig({ depth: 3, width: 5, batchNorm: true });
    const w = initialWeights(config, 4, 3, 7);
    w.hidden[1]!.bn!.movingMean.fill(0.25);
    const engine = new Engine(engineSpec(config, 4, 3), 8, false);
    engine.setWeights(w);
    expect(engine.getWeights()).toEqual(w);
    engine.dispose();
  });
});
