import { expect } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../shared/tf/backend';
import { loadEmbeddedDigits } from '../../models/digits-embedded';
import { prepareSplit, type Split } from '../../models/dataset';

/** Initialises TF.js and fails the test unless it runs on the SIMD wasm backend. */
export async function requireWasmSimd(): Promise<void> {
  const info = await initBackend();
  expect(info.fallbackReason).toBeNull();
  expect(info.backend).toBe('wasm');
  expect(info.simd).toBe(true);
  expect(tf.getBackend()).toBe('wasm');
}

export const SPLIT_SEED = 42;

export async function digitsSplit(): Promise<Split> {
  return prepareSplit(await loadEmbeddedDigits(), SPLIT_SEED);
}

/** A small slice of a split, for tests that train many times. */
export function shrink(split: Split, trainRows: number, validationRows = 120): Split {
  const cut = (p: Split['train'], rows: number) => ({
    x: p.x.slice(0, rows * split.features),
    y: p.y.slice(0, rows),
    rows,
  });
  return { ...split, train: cut(split.train, trainRows), validation: cut(split.validation, validationRows) };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
