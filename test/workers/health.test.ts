import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../shared/tf/backend';

describe('TF.js backend inside workerd', () => {
  it('runs on wasm with the SIMD binary, never the cpu fallback', async () => {
    const info = await initBackend();
    expect(info.fallbackReason).toBeNull();
    expect(info).toMatchObject({ backend: 'wasm', simd: true, binary: 'simd', fallback: false });
    expect(tf.getBackend()).toBe('wasm');
    // A kernel actually executes on it.
    const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
    expect(Array.from(y.dataSync())).toEqual([11]);
  });

  it('GET /health reports the backend the worker serves with', async () => {
    const res = await exports.default.fetch('http://example.com/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', backend: 'wasm', simd: true });
  });

  it('unknown routes answer the JSON error shape', async () => {
    const res = await exports.default.fetch('http://example.com/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
  });
});
