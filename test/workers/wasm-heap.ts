/**
 * What tf.memory() cannot see: bytes taken with _malloc on the wasm backend's heap (the engine's and the
 * Predictor's buffers, and the backend's own tensor storage). Counts every allocation made through the
 * module's _malloc/_free while tracking is on, so a leak test can require the outstanding bytes to
 * return to where they were.
 */
import * as tf from '@tensorflow/tfjs-core';

interface Heap {
  _malloc(bytes: number): number;
  _free(ptr: number): void;
}

export interface HeapTracker {
  /** Bytes allocated since tracking began and not freed yet. */
  outstanding(): number;
  /** Allocations made since tracking began (to show the tracker saw the code under test at all). */
  allocations(): number;
  stop(): void;
}

export function trackWasmHeap(): HeapTracker {
  const m = (tf.backend() as unknown as { wasm: Heap }).wasm;
  const malloc = m._malloc;
  const free = m._free;
  const live = new Map<number, number>();
  let count = 0;
  m._malloc = (bytes: number) => {
    const ptr = malloc.call(m, bytes);
    live.set(ptr >>> 0, bytes);
    count += 1;
    return ptr;
  };
  m._free = (ptr: number) => {
    live.delete(ptr >>> 0);
    free.call(m, ptr);
  };
  return {
    outstanding: () => [...live.values()].reduce((a, b) => a + b, 0),
    allocations: () => count,
    stop: () => {
      m._malloc = malloc;
      m._free = free;
    },
  };
}
