import { describe, expect, it } from 'vitest';
import { allowsModel, hasScope, parseAccessMode, ROOT, type Principal } from '../../shared/access/scopes';
import { take, type Bucket } from '../../shared/access/token-bucket';
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
