/**
 * One Durable Object per API key: the authority on whether the key is valid (its hash, scopes, models,
 * revocation) and its rate-limit bucket.
 *
 * Every request made with a key asks this object, so a revocation is seen by the very next request in
 * every location: no cache stands between them. The cost is one round trip, shared with the rate limit
 * (which needs one anyway to be exact), and the record is kept in memory after the first read, so the
 * check itself is a comparison and a bucket update. Sharding by key spreads the load: one hot key
 * limits only itself.
 *
 * The bucket lives in memory only: persisting it would turn every request into a storage write. When the
 * object is evicted (idle for a while) the bucket restarts full, which an idle key's bucket would be anyway.
 */
import { DurableObject } from 'cloudflare:workers';
import type { ApiKeyContract } from './contracts';
import type { KeyCheck, KeyRecord, KeySummary } from '../../shared/access/records';
import { summaryOf } from '../../shared/access/records';
import { take, type Bucket } from '../../shared/access/token-bucket';

const encoder = new TextEncoder();

/** Constant time for equal lengths (stored hashes are always 64 hex chars; the length is no secret). */
function sameHash(given: string, stored: string): boolean {
  const a = encoder.encode(given);
  const b = encoder.encode(stored);
  return a.byteLength === b.byteLength && crypto.subtle.timingSafeEqual(a, b);
}

export class ApiKey extends DurableObject<Env> implements ApiKeyContract {
  /** undefined: not read yet; null: no such key. */
  private record: KeyRecord | null | undefined;
  private bucket: Bucket | null = null;

  private async load(): Promise<KeyRecord | null> {
    if (this.record === undefined) this.record = (await this.ctx.storage.get<KeyRecord>('record')) ?? null;
    return this.record;
  }

  /** Stores a new key; refuses to overwrite an existing one (ids are random, a clash is a bug). */
  async create(record: KeyRecord): Promise<boolean> {
    if (await this.load()) return false;
    await this.ctx.storage.put('record', record);
    this.record = record;
    return true;
  }

  /** Is the token with this hash this key, still valid, and within its rate limit? */
  async check(hash: string): Promise<KeyCheck> {
    const record = await this.load();
    if (!record || !sameHash(hash, record.hash)) return { ok: false, reason: 'unknown' };
    if (record.revokedAt) return { ok: false, reason: 'revoked' };
    if (record.rateLimit) {
      const decision = take(this.bucket, record.rateLimit, Date.now());
      this.bucket = decision.bucket;
      if (!decision.allowed) return { ok: false, reason: 'limited', retryAfter: decision.retryAfter };
    }
    return { ok: true, principal: { keyId: record.id, scopes: record.scopes, models: record.models } };
  }

  /** Marks the key revoked (idempotent: the first revocation time stays). Null for an unknown key. */
  async revoke(at: string): Promise<KeySummary | null> {
    const record = await this.load();
    if (!record) return null;
    if (!record.revokedAt) {
      const revoked = { ...record, revokedAt: at };
      await this.ctx.storage.put('record', revoked);
      this.record = revoked;
    }
    return summaryOf(this.record!);
  }

  async summary(): Promise<KeySummary | null> {
    const record = await this.load();
    return record ? summaryOf(record) : null;
  }
}
