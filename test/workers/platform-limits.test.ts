/**
 * One test per limit the platform-faithful layer enforces (test/workers/platform/faithful.ts), each
 * against the real local binding, plus the limits local KV already enforces itself.
 */
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import {
  DO_MAX_ENTRY_BYTES,
  DO_TOO_BIG_MESSAGE,
  faithful,
  KV_RATE_LIMIT_MESSAGE,
  KV_WRITE_INTERVAL_MS,
} from './platform/faithful';

const key = (name: string) => `limits/${crypto.randomUUID()}/${name}`;
const sleepReal = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('KV', () => {
  it('a second write to one key within a second is refused with the platform error; after a second it lands', async () => {
    const k = key('throttled');
    await env.KV.put(k, 'one');
    await expect(env.KV.put(k, 'two')).rejects.toThrow(KV_RATE_LIMIT_MESSAGE);
    await expect(env.KV.delete(k)).rejects.toThrow(KV_RATE_LIMIT_MESSAGE);
    // Other keys are not limited.
    await env.KV.put(key('other'), 'x');
    await sleepReal(KV_WRITE_INTERVAL_MS + 50);
    await env.KV.put(k, 'three');
    expect(await faithful.origin(env.KV).getText(k)).toBe('three');
  });

  it('a location that read a key keeps serving what it read (a miss too) after the key changes', async () => {
    const k = key('stale');
    expect(await env.KV.get(k)).toBeNull();
    await env.KV.put(k, 'v1');
    // The write landed, but a reader elsewhere still has the miss cached.
    expect(await faithful.origin(env.KV).getText(k)).toBe('v1');
    expect(await env.KV.get(k)).toBeNull();
    const other = key('fresh');
    await env.KV.put(other, 'first');
    expect(await env.KV.get(other, 'text')).toBe('first');
    await sleepReal(KV_WRITE_INTERVAL_MS + 50);
    await env.KV.put(other, 'second', { metadata: { n: 2 } });
    expect(await env.KV.get(other, 'text')).toBe('first');
    expect((await env.KV.getWithMetadata(other, 'text')).value).toBe('first');
    // Once the cache entry expires (60 s on the platform), the read sees the latest write.
    faithful.expireKvCaches();
    expect(await env.KV.getWithMetadata(other, 'text')).toMatchObject({ value: 'second', metadata: { n: 2 } });
  });

  it('key, value and metadata sizes are refused by local KV itself, with the platform errors', async () => {
    await expect(env.KV.put('k'.repeat(513), 'v')).rejects.toThrow(/414 .*exceeds key length limit of 512/);
    await expect(env.KV.put(key('meta'), 'v', { metadata: { a: 'x'.repeat(1100) } })).rejects.toThrow(
      /413 Metadata length of \d+ exceeds limit of 1024/,
    );
    await expect(env.KV.put(key('value'), new Uint8Array(25 * 1024 * 1024 + 1))).rejects.toThrow(
      /413 Value length of 26214401 exceeds limit of 26214400/,
    );
  });

  it('injected write failures (chaos) refuse writes with the same 429 even on fresh keys', async () => {
    faithful.injectKvWriteFailures(1, 7);
    try {
      await expect(env.KV.put(key('chaos'), 'v')).rejects.toThrow(KV_RATE_LIMIT_MESSAGE);
    } finally {
      expect(faithful.stopKvWriteFailures()).toBe(1);
    }
  });
});

describe('Durable Object storage', () => {
  it('a key + value over 2 MB is refused with the SQLite error, single or batched; 2 MB minus a little fits', async () => {
    const stub = env.MODELS.get(env.MODELS.idFromName(`limits-${crypto.randomUUID()}`));
    await runInDurableObject(stub, async (_obj, state) => {
      await expect(state.storage.put('w', new Float32Array(DO_MAX_ENTRY_BYTES / 4))).rejects.toThrow(
        DO_TOO_BIG_MESSAGE,
      );
      await expect(state.storage.put({ small: 1, big: 'x'.repeat(DO_MAX_ENTRY_BYTES) })).rejects.toThrow(
        DO_TOO_BIG_MESSAGE,
      );
      // A refused batch writes nothing.
      expect(await state.storage.get('small')).toBeUndefined();
      await state.storage.put('ok', new Uint8Array(DO_MAX_ENTRY_BYTES - 1000));
      expect(((await state.storage.get('ok')) as Uint8Array).byteLength).toBe(DO_MAX_ENTRY_BYTES - 1000);
      // The synchronous key-value API (ctx.storage.kv) of the same objects, too.
      expect(() => state.storage.kv.put('sync', new Uint8Array(DO_MAX_ENTRY_BYTES))).toThrow(DO_TOO_BIG_MESSAGE);
      state.storage.kv.put('sync-ok', new Uint8Array(1 << 20));
    });
  });
});

describe('clocks', () => {
  it('Date.now() and performance.now() stand still during synchronous compute and move across I/O', async () => {
    const d0 = Date.now();
    const p0 = performance.now();
    const real0 = faithful.realNow();
    let x = 0;
    while (faithful.realNow() - real0 < 30) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    expect(Date.now()).toBe(d0);
    expect(performance.now()).toBe(p0);
    await env.KV.get(key('io'));
    await sleepReal(5);
    expect(Date.now()).toBeGreaterThanOrEqual(d0 + 30);
    expect(performance.now() - p0).toBeGreaterThanOrEqual(30);
  });
});
