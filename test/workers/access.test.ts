import { env } from 'cloudflare:workers';
import { abortAllDurableObjects, listDurableObjectIds, runInDurableObject } from 'cloudflare:test';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../functions/api/app';
import { hashToken } from '../../shared/access/tokens';
import { KvStore } from '../../shared/storage/kv-store';
import { listAll } from '../../shared/storage/store';
import { callIn, createKey, ROOT_TOKEN } from './access-helpers';
import { startStudy, waitForStudy } from './api-helpers';

const ROW = Array.from({ length: 64 }, (_, i) => (i * 5) % 16);
const MODEL = 'acc-served';

beforeAll(async () => {
  await waitForStudy(await startStudy(MODEL, { trials: 1, budget: { epochs: 1, maxSeconds: 30 } }));
}, 120_000);

describe('revocation', () => {
  it('a revoked key fails at once in every isolate: the revocation answers only once every lease has run out (two apps = two isolates)', async () => {
    const isolates = [createApp(), createApp()];
    const { id, token } = await createKey({ scopes: ['predict', 'read'] });
    for (const app of isolates) {
      // Warm both: each has just seen the key succeed.
      expect((await callIn('keys', `/v1/models/${MODEL}`, { token, app })).status).toBe(200);
      expect(
        (
          await callIn('keys', `/v1/models/${MODEL}/predict`, {
            method: 'POST',
            token,
            app,
            json: { instances: [ROW] },
          })
        ).status,
      ).toBe(200);
    }
    const revoked = await callIn('keys', `/v1/keys/${id}`, { method: 'DELETE', token: ROOT_TOKEN, app: isolates[0] });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    for (const app of isolates) {
      for (const mode of ['keys', 'open'] as const) {
        const res = await callIn(mode, `/v1/models/${MODEL}/predict`, {
          method: 'POST',
          token,
          app,
          json: { instances: [ROW] },
        });
        expect(res.status, `${mode}`).toBe(401);
        expect(res.body.error).toEqual({ code: 'unauthorized', message: `key ${id} was revoked` });
      }
    }
    // The listing shows it revoked; revoking again is harmless and keeps the first time.
    const listed = (await callIn('keys', '/v1/keys', { token: ROOT_TOKEN })).body.keys.find((k: any) => k.id === id);
    expect(listed.revokedAt).toBe(revoked.body.revokedAt);
    const again = await callIn('keys', `/v1/keys/${id}`, { method: 'DELETE', token: ROOT_TOKEN });
    expect(again.body.revokedAt).toBe(revoked.body.revokedAt);
    expect((await callIn('keys', '/v1/keys/0000000000000000', { method: 'DELETE', token: ROOT_TOKEN })).status).toBe(
      404,
    );
  });
});

describe('key leases', () => {
  it('a revocation made through a new instance of the key object (after an eviction) still waits out the leases granted before it', async () => {
    const holder = createApp();
    const { id, token } = await createKey({ scopes: ['read'] });
    expect((await callIn('keys', `/v1/models/${MODEL}`, { token, app: holder })).status).toBe(200);
    // The object that granted the holder its lease is gone; its successor knows nothing of that lease.
    await abortAllDurableObjects();
    expect(
      (await callIn('keys', `/v1/keys/${id}`, { method: 'DELETE', token: ROOT_TOKEN, app: createApp() })).status,
    ).toBe(200);
    const res = await callIn('keys', `/v1/models/${MODEL}`, { token, app: holder });
    expect(res.status).toBe(401);
    expect(res.body.error.message).toBe(`key ${id} was revoked`);
  });

  it('within a lease a limited key spends its allotment in the isolate, and still stops at its limit', async () => {
    // 5 per 10 s: one lease (1 s) is worth one token, so every request asks the object, and the sixth is refused.
    const { token } = await createKey({ scopes: ['read'], rateLimit: { requests: 5, perSeconds: 10 } });
    const app = createApp();
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await callIn('keys', '/v1/models', { token, app })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    // 60 per second: a lease carries 60 tokens, the burst, so one isolate gets all of it and then waits.
    const fast = await createKey({ scopes: ['read'], rateLimit: { requests: 60, perSeconds: 1 } });
    let ok = 0;
    for (let i = 0; i < 61; i++)
      if ((await callIn('keys', '/v1/models', { token: fast.token, app })).status === 200) ok++;
    expect(ok).toBeGreaterThanOrEqual(60);
    expect(ok).toBeLessThanOrEqual(61);
  });
});

describe('the access check comes before body checks', () => {
  it('keys mode without a key: 401 for a wrong content type or an oversized body (no 415/413 leaks what the route accepts)', async () => {
    for (const [path, method] of [
      [`/v1/models/${MODEL}/predict`, 'POST'],
      ['/v1/studies', 'POST'],
      ['/v1/datasets/acc-upload', 'PUT'],
    ] as const) {
      const wrongType = await callIn('keys', path, {
        method,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'instances=1',
      });
      expect(wrongType.status, `${method} ${path} wrong type`).toBe(401);
      const huge = await callIn('keys', path, {
        method,
        headers: { 'content-type': 'application/json' },
        body: `{"instances":[[${'1,'.repeat(13 * 1024 * 1024)}1]]}`,
      });
      expect(huge.status, `${method} ${path} huge`).toBe(401);
    }
    // With the right key the same requests get their body errors.
    const { token } = await createKey({ scopes: ['predict'] });
    const path = `/v1/models/${MODEL}/predict`;
    expect(
      (await callIn('keys', path, { method: 'POST', token, headers: { 'content-type': 'text/plain' }, body: '{}' }))
        .status,
    ).toBe(415);
    expect(
      (
        await callIn('keys', path, {
          method: 'POST',
          token,
          headers: { 'content-type': 'application/json' },
          body: `{"instances":[[${'1,'.repeat(1024 * 1024)}1]]}`,
        })
      ).status,
    ).toBe(413);
  });
});

describe('keys are never stored or logged in plaintext', () => {
  afterEach(() => vi.restoreAllMocks());

  it('the token appears once (the creation answer); storage holds only its SHA-256; no log line carries it', async () => {
    const lines: string[] = [];
    for (const fn of ['log', 'error', 'warn', 'info', 'debug'] as const)
      vi.spyOn(console, fn).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
    const created = await callIn('keys', '/v1/keys', {
      method: 'POST',
      token: ROOT_TOKEN,
      json: { name: 'plaintext-probe', scopes: ['admin'] },
    });
    expect(created.status).toBe(201);
    const { token } = created.body;
    const id = created.body.key.id;
    const secret = token.slice(`etk_${id}_`.length);
    expect(secret).toHaveLength(43);
    // Use it for everything an admin does, fail with variants of it, list, audit, revoke.
    await callIn('keys', `/v1/models/${MODEL}/predict`, { method: 'POST', token, json: { instances: [ROW] } });
    await callIn('keys', '/v1/studies', { method: 'POST', token, json: { dataset: 'nope' } });
    await callIn('keys', '/v1/keys', { token: `${token.slice(0, -1)}x` });
    await callIn('keys', '/v1/keys', { headers: { authorization: token } });
    const listing = await callIn('keys', '/v1/keys', { token });
    const audit = await callIn('keys', '/v1/audit', { token });
    await callIn('keys', `/v1/keys/${id}`, { method: 'DELETE', token });
    await callIn('keys', '/v1/keys', { token });
    // The key's life is logged (by id) ...
    expect(lines.some((l) => l.includes('key_created') && l.includes(id))).toBe(true);
    expect(lines.some((l) => l.includes('key_revoked') && l.includes(id))).toBe(true);
    for (const text of [...lines, JSON.stringify(listing.body), JSON.stringify(audit.body)]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(ROOT_TOKEN);
    }
    // The listing never carries the hash either.
    const hash = await hashToken(token);
    expect(JSON.stringify(listing.body)).not.toContain(hash);

    // Every Durable Object of the access classes, every value and row: the hash at most, never the secret.
    let sawHash = false;
    for (const ns of [env.KEYS, env.KEY_DIRECTORY, env.AUDIT] as unknown as DurableObjectNamespace[]) {
      for (const objectId of await listDurableObjectIds(ns)) {
        const dump = await runInDurableObject(ns.get(objectId), async (_o, state) => {
          const values = [...(await state.storage.list()).values()].map((v) => JSON.stringify(v));
          const tables = state.storage.sql
            .exec<{ name: string }>(
              "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name != 'sqlite_sequence'",
            )
            .toArray()
            .map((t) => t.name);
          const rows = tables.flatMap((t) =>
            state.storage.sql
              .exec(`SELECT * FROM ${t}`)
              .toArray()
              .map((r) => JSON.stringify(r)),
          );
          return [...values, ...rows].join('\n');
        });
        expect(dump).not.toContain(secret);
        if (dump.includes(hash)) sawHash = true;
      }
    }
    expect(sawHash).toBe(true);
    // KV holds nothing about keys at all.
    const kv = new KvStore(env.KV);
    for (const k of await listAll(kv, '')) {
      expect(k.name).not.toContain(secret);
      const text = await kv.getText(k.name);
      if (text) expect(text).not.toContain(secret);
    }
  });
});

describe('rate limits', () => {
  it('a key over its configured burst gets 429 with Retry-After, and recovers after it', async () => {
    const { token } = await createKey({ scopes: ['predict'], rateLimit: { requests: 4, perSeconds: 2 } });
    const predict = () =>
      callIn('keys', `/v1/models/${MODEL}/predict`, { method: 'POST', token, json: { instances: [ROW] } });
    for (let i = 0; i < 4; i++) expect((await predict()).status).toBe(200);
    const limited = await predict();
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(1);
    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 50));
    expect((await predict()).status).toBe(200);
    // Another key is not affected by this one's bucket.
    const other = await createKey({ scopes: ['predict'], rateLimit: { requests: 4, perSeconds: 2 } });
    expect(
      (
        await callIn('keys', `/v1/models/${MODEL}/predict`, {
          method: 'POST',
          token: other.token,
          json: { instances: [ROW] },
        })
      ).status,
    ).toBe(200);
  });

  it('limits are per key as configured: an unlimited key is never refused', async () => {
    const { token } = await createKey({ scopes: ['read'], rateLimit: null });
    for (let i = 0; i < 30; i++) expect((await callIn('keys', '/v1/models', { token })).status).toBe(200);
  });

  it('keyless predictions in open mode: the rate-limiting binding per client address (100 per 10 s window), 429 with Retry-After, then recovers', async () => {
    // The binding counts in fixed 10 s windows on its own clock (not this isolate's, which the faithful layer
    // freezes during compute), so a burst may straddle two windows: the first 429 must come after at least the
    // limit and at most twice the limit of answered requests, never earlier, and never not at all.
    const from = (ip: string) =>
      callIn('open', `/v1/models/${MODEL}/predict`, {
        method: 'POST',
        headers: { 'cf-connecting-ip': ip },
        json: { instances: [ROW] },
      });
    let answered = 0;
    let limited: Awaited<ReturnType<typeof from>> | null = null;
    while (answered <= 200) {
      const res = await from('203.0.113.7');
      if (res.status === 429) {
        limited = res;
        break;
      }
      expect(res.status).toBe(200);
      answered++;
    }
    expect(limited, `no 429 after ${answered} requests`).not.toBeNull();
    expect(answered).toBeGreaterThanOrEqual(100);
    expect(limited!.body.error.code).toBe('rate_limited');
    expect(limited!.headers.get('retry-after')).toBe('10');
    // Another address is counted on its own; reads are not limited by it.
    expect((await from('203.0.113.8')).status).toBe(200);
    expect((await callIn('open', '/v1/models', { headers: { 'cf-connecting-ip': '203.0.113.7' } })).status).toBe(200);
    // It recovers when the window turns (within 10 s, polled for up to 25 s on a loaded machine).
    let recovered = false;
    for (let i = 0; i < 50 && !recovered; i++) {
      await new Promise((r) => setTimeout(r, 500));
      recovered = (await from('203.0.113.7')).status === 200;
    }
    expect(recovered).toBe(true);
  }, 90_000);
});

describe('failed authentications per client address', () => {
  it('past the limit an address gets 429 with Retry-After instead of 401, even for the right root token; a key admitted before keeps working; other addresses are not affected', async () => {
    const app = createApp();
    const from = (ip: string, token: string | null, path = '/v1/keys') =>
      callIn('keys', path, { token, app, headers: { 'cf-connecting-ip': ip } });
    const { token: reader } = await createKey({ scopes: ['read'] });
    expect((await from('198.51.100.9', reader, '/v1/models')).status).toBe(200);
    // The binding (20 per 60 s) counts in fixed windows on its own clock: the first 429 comes after at
    // least the limit and at most twice the limit of failures, never earlier, never not at all.
    const guesses = [`${ROOT_TOKEN}x`, 'etk_0123456789abcdef_' + 'A'.repeat(43), 'not-a-key'];
    let failed = 0;
    let limited: Awaited<ReturnType<typeof from>> | null = null;
    while (failed <= 40) {
      const res = await from('198.51.100.9', guesses[failed % guesses.length]!);
      if (res.status === 429) {
        limited = res;
        break;
      }
      expect(res.status).toBe(401);
      failed++;
    }
    expect(limited, `no 429 after ${failed} failures`).not.toBeNull();
    expect(failed).toBeGreaterThanOrEqual(20);
    expect(limited!.body.error.code).toBe('rate_limited');
    expect(limited!.headers.get('retry-after')).toBe('60');
    // Refused before anything is checked: the right root token too, and any key this isolate has not admitted.
    const root = await from('198.51.100.9', ROOT_TOKEN);
    expect(root.status).toBe(429);
    expect(Number(root.headers.get('retry-after'))).toBeGreaterThan(0);
    const { token: fresh } = await createKey({ scopes: ['read'] });
    expect((await from('198.51.100.9', fresh, '/v1/models')).status).toBe(429);
    // A key this isolate holds a lease for keeps working from behind that address (the lease is renewed
    // from another address first: it lasts 1 s, and the loop above may have taken longer).
    expect((await from('198.51.100.11', reader, '/v1/models')).status).toBe(200);
    expect((await from('198.51.100.9', reader, '/v1/models')).status).toBe(200);
    // Other addresses, and keyless open-mode reads from this one, are not affected.
    expect((await from('198.51.100.10', `${ROOT_TOKEN}x`)).status).toBe(401);
    expect((await from('198.51.100.10', ROOT_TOKEN)).status).toBe(200);
    expect((await callIn('open', '/v1/models', { app, headers: { 'cf-connecting-ip': '198.51.100.9' } })).status).toBe(
      200,
    );
  });
});

describe('GET /v1/keys/self', () => {
  it("tells a caller what it may do: the key's scopes (admin spelled out), its models, and the public scopes in open mode", async () => {
    const { id, token } = await createKey({ scopes: ['review'], models: [MODEL] });
    const self = (mode: 'open' | 'keys', t: string | null) => callIn(mode, '/v1/keys/self', { token: t });
    expect((await self('open', null)).body).toEqual({
      mode: 'open',
      keyId: null,
      scopes: ['predict', 'read'],
      models: null,
    });
    expect((await self('keys', null)).status).toBe(401);
    expect((await self('keys', token)).body).toEqual({ mode: 'keys', keyId: id, scopes: ['review'], models: [MODEL] });
    expect((await self('open', token)).body.scopes).toEqual(['predict', 'read', 'review']);
    expect((await self('keys', ROOT_TOKEN)).body).toEqual({
      mode: 'keys',
      keyId: 'root',
      scopes: ['predict', 'read', 'review', 'admin'],
      models: null,
    });
    expect((await self('keys', `${token}x`)).status).toBe(401);
  });
});

describe('key creation input', () => {
  it('refuses bad scopes, models and limits with 422', async () => {
    for (const json of [
      { name: 'x', scopes: [] },
      { name: 'x', scopes: ['write'] },
      { name: '', scopes: ['read'] },
      { name: 'x', scopes: ['read'], models: [] },
      { name: 'x', scopes: ['read'], models: ['Bad Name'] },
      { name: 'x', scopes: ['read'], rateLimit: { requests: 0, perSeconds: 1 } },
      { name: 'x', scopes: ['read'], rateLimit: { requests: 1 } },
      { name: 'x', scopes: ['read'], extra: 1 },
    ]) {
      const res = await callIn('keys', '/v1/keys', { method: 'POST', token: ROOT_TOKEN, json });
      expect(res.status, JSON.stringify(json)).toBe(422);
    }
    const made = await callIn('keys', '/v1/keys', {
      method: 'POST',
      token: ROOT_TOKEN,
      json: { name: 'd', scopes: ['read', 'read'] },
    });
    expect(made.body.key).toMatchObject({
      scopes: ['read'],
      models: null,
      rateLimit: { requests: 600, perSeconds: 60 },
      createdBy: 'root',
    });
  });
});
