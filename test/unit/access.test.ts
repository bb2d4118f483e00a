import { describe, expect, it } from 'vitest';
import { allowsModel, hasScope, parseAccessMode, ROOT, type Principal } from '../../shared/access/scopes';
import { KeyLeases, LEASE_MS, type AskKey } from '../../shared/access/leases';
import type { KeyCheck } from '../../shared/access/records';
import { allotment, giveBack, take, takeUpTo, type Bucket } from '../../shared/access/token-bucket';
import { hashToken, keyIdOf, newApiKey } from '../../shared/access/tokens';

describe('API key tokens', () => {
  it('a new key names its id, carries 256 random bits, and its hash is SHA-256 of the token', async () => {
    const a = await newApiKey();
    const b = await newApiKey();
    expect(a.token).toMatch(/^etk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(keyIdOf(a.token)).toBe(a.id);
    expect(a.id).not.toBe(b.id);
    expect(a.token).not.toBe(b.token);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(a.hash).toBe(await hashToken(a.token));
    expect(a.hash).not.toContain(a.token.slice(21));
    // A known vector: SHA-256("abc").
    expect(await hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('anything but a well-formed token names no key (and so reaches no storage)', async () => {
    const { token } = await newApiKey();
    for (const bad of [
      '',
      'etk_',
      token.slice(0, -1),
      `${token}x`,
      token.replace('etk_', 'etx_'),
      token.toUpperCase(),
      `etk_../../x_${'a'.repeat(43)}`,
      ' ' + token,
    ])
      expect(keyIdOf(bad), bad).toBeNull();
  });
});

describe('scopes', () => {
  const reader: Principal = { keyId: 'k', scopes: ['read'], models: ['digits'] };
  it('admin implies every scope; others grant only themselves', () => {
    for (const s of ['predict', 'read', 'review', 'admin'] as const) expect(hasScope(ROOT, s)).toBe(true);
    expect(hasScope(reader, 'read')).toBe(true);
    expect(hasScope(reader, 'predict')).toBe(false);
    expect(hasScope(reader, 'admin')).toBe(false);
  });
  it('a model list limits the key to those models; null means all', () => {
    expect(allowsModel(reader, 'digits')).toBe(true);
    expect(allowsModel(reader, 'iris')).toBe(false);
    expect(allowsModel(ROOT, 'iris')).toBe(true);
  });
  it('ACCESS_MODE: unset is open, a known value is itself, anything else fails closed to keys', () => {
    expect(parseAccessMode(undefined)).toBe('open');
    expect(parseAccessMode('')).toBe('open');
    expect(parseAccessMode('open')).toBe('open');
    expect(parseAccessMode(' Open ')).toBe('open');
    expect(parseAccessMode('keys')).toBe('keys');
    expect(parseAccessMode('opne')).toBe('keys');
    expect(parseAccessMode('public')).toBe('keys');
  });
});

describe('token bucket', () => {
  const limit = { requests: 3, perSeconds: 6 }; // burst 3, one back every 2 s
  it('allows the burst, refuses the next with the seconds until a token is back, then recovers', () => {
    let bucket: Bucket | null = null;
    for (let i = 0; i < 3; i++) {
      const d = take(bucket, limit, 1000);
      expect(d.allowed).toBe(true);
      bucket = d.bucket;
    }
    const refused = take(bucket, limit, 1000);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfter).toBe(2);
    const half = take(refused.bucket, limit, 2000);
    expect(half.allowed).toBe(false);
    expect(half.retryAfter).toBe(1);
    expect(take(half.bucket, limit, 3000).allowed).toBe(true);
  });
  it('never holds more than the burst, however long it was idle; a clock going back adds nothing', () => {
    let bucket: Bucket | null = take(null, limit, 0).bucket;
    bucket = take(bucket, limit, 1e9).bucket;
    expect(bucket.tokens).toBe(2);
    const back = take({ tokens: 0, at: 5000 }, limit, 1000);
    expect(back.allowed).toBe(false);
  });
  it('a fractional limit (1 per 60 s) answers a retry-after within the period', () => {
    const l = { requests: 1, perSeconds: 60 };
    const first = take(null, l, 0);
    const second = take(first.bucket, l, 10_000);
    expect(second.allowed).toBe(false);
    expect(second.retryAfter).toBe(50);
  });
});

describe('token allotments (leases)', () => {
  const limit = { requests: 10, perSeconds: 10 }; // burst 10, one back per second
  it('takes up to what is there, whole tokens only; refuses with a retry-after when less than one is left', () => {
    const first = takeUpTo(null, limit, 0, 4);
    expect(first.granted).toBe(4);
    const rest = takeUpTo(first.bucket, limit, 0, 100);
    expect(rest.granted).toBe(6);
    const none = takeUpTo(rest.bucket, limit, 50, 3);
    expect(none.granted).toBe(0);
    expect(none.retryAfter).toBe(1);
    expect(takeUpTo(none.bucket, limit, 250, 3).granted).toBe(0);
    expect(takeUpTo(none.bucket, limit, 2050, 3).granted).toBe(2);
  });
  it('gives back an unspent rest, never above the burst', () => {
    const taken = takeUpTo(null, limit, 0, 10).bucket;
    expect(giveBack(taken, limit, 0, 3).tokens).toBe(3);
    expect(giveBack(taken, limit, 0, 30).tokens).toBe(10);
    expect(giveBack(taken, limit, 5000, 3).tokens).toBeCloseTo(8);
  });
  it('one lease is worth what the limit refills in its time, at least one token', () => {
    expect(allotment({ requests: 600, perSeconds: 60 }, 1000)).toBe(10);
    expect(allotment({ requests: 1, perSeconds: 60 }, 1000)).toBe(1);
    expect(allotment({ requests: 3, perSeconds: 1 }, 1000)).toBe(3);
  });
});

describe('key leases (the isolate side)', () => {
  const principal = { keyId: 'k', scopes: ['read' as const], models: null };
  function setup(answer: (hash: string, returned: number) => KeyCheck) {
    let now = 1000;
    const asks: { hash: string; returned: number }[] = [];
    const leases = new KeyLeases(() => now);
    const ask: AskKey = async (hash, returned) => {
      asks.push({ hash, returned });
      return answer(hash, returned);
    };
    return { leases, ask, asks, advance: (ms: number) => (now += ms) };
  }
  const granted = (tokens: number | null): KeyCheck => ({ ok: true, principal, lease: { ms: LEASE_MS, tokens } });

  it('asks once per lease for an unlimited key; asks again when the lease is over', async () => {
    const { leases, ask, asks, advance } = setup(() => granted(null));
    for (let i = 0; i < 5; i++) expect((await leases.admit('k', 'h', ask)).ok).toBe(true);
    expect(asks).toHaveLength(1);
    advance(LEASE_MS - 1);
    await leases.admit('k', 'h', ask);
    expect(asks).toHaveLength(1);
    advance(1);
    await leases.admit('k', 'h', ask);
    expect(asks).toHaveLength(2);
  });

  it('another token for the same key id is never admitted from the lease, and does not disturb it', async () => {
    const { leases, ask, asks } = setup((hash) => (hash === 'h' ? granted(null) : { ok: false, reason: 'unknown' }));
    await leases.admit('k', 'h', ask);
    expect(await leases.admit('k', 'guess', ask)).toEqual({ ok: false, reason: 'unknown' });
    expect((await leases.admit('k', 'h', ask)).ok).toBe(true);
    expect(asks.map((a) => a.hash)).toEqual(['h', 'guess']);
  });

  it('spends an allotment one request at a time, asks when it is spent, and gives back an expired rest', async () => {
    const { leases, ask, asks, advance } = setup(() => granted(3));
    for (let i = 0; i < 3; i++) await leases.admit('k', 'h', ask);
    expect(asks).toHaveLength(1);
    await leases.admit('k', 'h', ask); // the fourth: the allotment is spent
    expect(asks).toHaveLength(2);
    expect(asks[1]!.returned).toBe(0);
    advance(LEASE_MS); // the second allotment (3, one spent) expires with 2 unspent
    await leases.admit('k', 'h', ask);
    expect(asks[2]!.returned).toBe(2);
  });

  it('a refusal drops the lease; a limit does not', async () => {
    let answer: KeyCheck = granted(1);
    const { leases, ask, asks } = setup(() => answer);
    await leases.admit('k', 'h', ask);
    answer = { ok: false, reason: 'limited', retryAfter: 1 };
    expect((await leases.admit('k', 'h', ask)).ok).toBe(false);
    answer = { ok: false, reason: 'revoked' };
    expect(await leases.admit('k', 'h', ask)).toEqual({ ok: false, reason: 'revoked' });
    expect(asks).toHaveLength(3);
  });

  it('requests arriving while a check is in flight wait for it instead of asking too', async () => {
    const { leases, ask, asks } = setup(() => granted(null));
    const all = await Promise.all(Array.from({ length: 8 }, () => leases.admit('k', 'h', ask)));
    expect(all.every((r) => r.ok)).toBe(true);
    expect(asks).toHaveLength(1);
  });

  it('a lease is measured from the send time, so a slow answer shortens it', async () => {
    let now = 0;
    const leases = new KeyLeases(() => now);
    let calls = 0;
    const slow: AskKey = async () => {
      calls++;
      now += 600; // the answer takes 600 ms
      return granted(null);
    };
    await leases.admit('k', 'h', slow);
    now += LEASE_MS - 600;
    await leases.admit('k', 'h', slow);
    expect(calls).toBe(2);
  });
});
