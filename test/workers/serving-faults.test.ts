import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../functions/api/app';
import { registryStub } from '../../functions/durable/stubs';
import { KvStore } from '../../shared/storage/kv-store';
import { startStudy, waitForStudy } from './api-helpers';
import { faithful } from './platform/faithful';

const MODEL = 'serve-corrupt';
const row = Array.from({ length: 64 }, (_, i) => (i * 5) % 17);

/** A fresh app = a fresh isolate's serving cache (nothing loaded yet). */
async function fresh(path: string, init: RequestInit = {}) {
  const res = await createApp().request(`http://edge.test${path}`, init, env);
  return { status: res.status, body: (await res.json()) as any };
}
const predictInit = {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ instances: [row] }),
};

describe('corrupt weights found at serving time', () => {
  it('the previous good version keeps serving, /health reports the problem, the pinned corrupt version answers 503', async () => {
    const first = await waitForStudy(await startStudy(MODEL, { trials: 1, budget: { epochs: 2, maxSeconds: 30 } }));
    const second = await waitForStudy(
      await startStudy(MODEL, { trials: 2, seed: 3, budget: { epochs: 12, maxSeconds: 30 } }),
    );
    expect(first.promotion.version).toBe(1);
    expect(second.promotion).toMatchObject({ promoted: true, version: 2 });

    const before = await fresh(`/v1/models/${MODEL}/predict`, predictInit);
    expect(before.body.version).toBe(2);
    const pinnedV1 = await fresh(`/v1/models/${MODEL}/versions/1/predict`, predictInit);

    // Storage corruption after promotion: v2's weights lose their second half.
    const v2 = (await registryStub(env.MODELS, MODEL).version(2))!;
    const store = new KvStore(env.KV);
    const bytes = new Uint8Array((await store.getBytes(v2.weightsKey))!);
    // KV takes one write per key per second: the damage lands at least a second after the trial's write.
    await new Promise((r) => setTimeout(r, 1100));
    await store.put(v2.weightsKey, bytes.subarray(0, bytes.length >> 1));
    // Readers elsewhere see the damage once their cached copy (read just above) expires, within 60 s.
    faithful.expireKvCaches();

    const app = createApp();
    const served = await app.request(`http://edge.test/v1/models/${MODEL}/predict`, predictInit, env);
    const body = (await served.json()) as any;
    expect(served.status).toBe(200);
    expect(body.version).toBe(1);
    expect(body.predictions).toEqual(pinnedV1.body.predictions);

    const health = await app.request('http://edge.test/health', {}, env);
    const h = (await health.json()) as any;
    expect(health.status).toBe(200);
    expect(h.status).toBe('degraded');
    expect(h.problems.join('\n')).toMatch(new RegExp(`${MODEL}@2: .*(truncated|payload|checksum)`));

    const pinned = await app.request(`http://edge.test/v1/models/${MODEL}/versions/2/predict`, predictInit, env);
    expect(pinned.status).toBe(503);
    expect(((await pinned.json()) as any).error.code).toBe('unavailable');
  });
});
