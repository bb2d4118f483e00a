import { env } from 'cloudflare:workers';
import { abortAllDurableObjects } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { LEASE_MS } from '../../shared/access/leases';
import type { KeyRecord } from '../../shared/access/records';
import { newApiKey, hashToken } from '../../shared/access/tokens';
import { apiKeyStub, auditStub, keyDirectoryStub } from '../../functions/durable/stubs';

async function record(overrides: Partial<KeyRecord> = {}): Promise<{ record: KeyRecord; token: string }> {
  const k = await newApiKey();
  return {
    token: k.token,
    record: {
      id: k.id,
      hash: k.hash,
      name: 'test',
      scopes: ['read'],
      models: null,
      rateLimit: null,
      createdAt: new Date().toISOString(),
      createdBy: 'root',
      revokedAt: null,
      ...overrides,
    },
  };
}

describe('ApiKey object (the per-key authority)', () => {
  it('accepts only the hash of its own token, and refuses to be created twice', async () => {
    const { record: r, token } = await record({ scopes: ['predict'], models: ['digits'] });
    const stub = apiKeyStub(env.KEYS, r.id);
    expect(await stub.check(await hashToken(token))).toEqual({ ok: false, reason: 'unknown' });
    expect(await stub.create(r)).toBe(true);
    expect(await stub.create({ ...r, scopes: ['admin'] })).toBe(false);
    expect(await stub.check(await hashToken(token))).toEqual({
      ok: true,
      principal: { keyId: r.id, scopes: ['predict'], models: ['digits'] },
      lease: { ms: LEASE_MS, tokens: null },
    });
    expect(await stub.check(await hashToken(`${token}x`))).toEqual({ ok: false, reason: 'unknown' });
    expect(await stub.check('')).toEqual({ ok: false, reason: 'unknown' });
  });

  it('revocation takes effect on the very next check and is idempotent', async () => {
    const { record: r, token } = await record();
    const stub = apiKeyStub(env.KEYS, r.id);
    await stub.create(r);
    const hash = await hashToken(token);
    expect((await stub.check(hash)).ok).toBe(true);
    const first = await stub.revoke('2026-01-01T00:00:00.000Z');
    expect(first?.revokedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(await stub.check(hash)).toEqual({ ok: false, reason: 'revoked' });
    expect((await stub.revoke('2027-01-01T00:00:00.000Z'))?.revokedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(await apiKeyStub(env.KEYS, 'ffffffffffffffff').revoke('x')).toBeNull();
  });

  it('a summary never carries the hash', async () => {
    const { record: r } = await record();
    const stub = apiKeyStub(env.KEYS, r.id);
    await stub.create(r);
    const summary = await stub.summary();
    expect(summary).not.toHaveProperty('hash');
    expect(JSON.stringify(summary)).not.toContain(r.hash);
  });

  it('the rate limit: allotments add up to the burst, then a refusal with a retry-after; returned tokens count again; it recovers', async () => {
    const { record: r, token } = await record({ rateLimit: { requests: 3, perSeconds: 1 } });
    const stub = apiKeyStub(env.KEYS, r.id);
    await stub.create(r);
    const hash = await hashToken(token);
    const granted = async (returned = 0) => {
      const check = await stub.check(hash, returned);
      return check.ok ? check.lease.tokens : check;
    };
    // One lease (1 s) is worth 3 tokens at 3 per second: the whole burst at once.
    expect(await granted()).toBe(3);
    expect(await granted()).toEqual({ ok: false, reason: 'limited', retryAfter: 1 });
    // Two unspent tokens of an expired lease come back and are granted again, no more.
    expect(await granted(2)).toBe(2);
    expect(await granted()).toEqual({ ok: false, reason: 'limited', retryAfter: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await granted()).toBe(3);
  });

  it('a limit survives the eviction of the object: the bucket is stored, not restarted full', async () => {
    const { record: r, token } = await record({ rateLimit: { requests: 2, perSeconds: 60 } });
    await apiKeyStub(env.KEYS, r.id).create(r);
    const hash = await hashToken(token);
    for (let i = 0; i < 2; i++) expect((await apiKeyStub(env.KEYS, r.id).check(hash)).ok).toBe(true);
    expect((await apiKeyStub(env.KEYS, r.id).check(hash)).ok).toBe(false);
    await abortAllDurableObjects();
    // A new instance (its memory empty) reads the stored bucket: still empty, still about 30 s to wait.
    const after = await apiKeyStub(env.KEYS, r.id).check(hash);
    expect(after).toEqual({ ok: false, reason: 'limited', retryAfter: expect.any(Number) });
    expect((after as { retryAfter: number }).retryAfter).toBeGreaterThan(20);
  });
});

describe('KeyDirectory', () => {
  it('lists summaries newest first and reflects updates', async () => {
    const dir = keyDirectoryStub(env.KEY_DIRECTORY);
    const before = (await dir.list()).length;
    const { record: a } = await record({ createdAt: '2026-01-01T00:00:00.000Z' });
    const { record: b } = await record({ createdAt: '2026-01-02T00:00:00.000Z' });
    const { hash: _a, ...sa } = a;
    const { hash: _b, ...sb } = b;
    await dir.add(sa);
    await dir.add(sb);
    const listed = await dir.list();
    expect(listed.length).toBe(before + 2);
    expect(listed.findIndex((k) => k.id === b.id)).toBeLessThan(listed.findIndex((k) => k.id === a.id));
    await dir.update({ ...sa, revokedAt: '2026-02-01T00:00:00.000Z' });
    expect((await dir.list()).find((k) => k.id === a.id)?.revokedAt).toBe('2026-02-01T00:00:00.000Z');
    expect(JSON.stringify(await dir.list())).not.toContain(a.hash);
  });
});

describe('AuditLog', () => {
  it('appends with increasing sequence numbers and pages newest first without gaps or repeats', async () => {
    const audit = auditStub(env.AUDIT);
    const seqs: number[] = [];
    for (let i = 0; i < 7; i++)
      seqs.push(
        await audit.append({
          at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
          keyId: `k${i}`,
          action: 'POST /v1/test',
          target: `/v1/test/${i}`,
          status: 200,
        }),
      );
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    const seen: number[] = [];
    let before: number | null = null;
    do {
      const page: Awaited<ReturnType<typeof audit.page>> = await audit.page(3, before);
      expect(page.entries.length).toBeLessThanOrEqual(3);
      seen.push(...page.entries.map((e) => e.seq));
      before = page.next;
    } while (before !== null);
    expect(seen).toEqual([...seen].sort((x, y) => y - x));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.slice(0, 7)).toEqual([...seqs].reverse());
    const newest = (await audit.page(1, null)).entries[0]!;
    expect(newest).toEqual({
      seq: seqs[6],
      at: '2026-01-01T00:00:06.000Z',
      keyId: 'k6',
      action: 'POST /v1/test',
      target: '/v1/test/6',
      status: 200,
    });
  });
});

describe('the rate-limiting binding runs locally', () => {
  it('PUBLIC_PREDICT_LIMIT counts per key', async () => {
    const key = `probe-${crypto.randomUUID()}`;
    const outcomes: boolean[] = [];
    for (let i = 0; i < 3; i++) outcomes.push((await env.PUBLIC_PREDICT_LIMIT.limit({ key })).success);
    expect(outcomes).toEqual([true, true, true]);
  });
});
