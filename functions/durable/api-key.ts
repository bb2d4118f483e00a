/**
 * One Durable Object per API key: the authority on whether the key is valid (its hash, scopes, models,
 * revocation) and its rate-limit bucket. Sharding by key spreads the load: one hot key limits only itself.
 *
 * A successful check grants the asking isolate a lease (shared/access/leases.ts): it may admit requests
 * with this token for LEASE_MS without asking again, spending an allotment of tokens taken from the
 * bucket here. A revocation is immediate all the same: no lease is granted once the key is revoked, and
 * revoke() answers only after every lease granted so far has expired. A new instance of this object
 * (after an eviction or a restart) cannot know what its predecessor granted, so it assumes a lease was
 * granted just before it started.
 *
 * The record is read once per instance and kept in memory. The bucket is written on every grant (one
 * small row, not confirmed before answering: losing the last write in a crash gives back at most one
 * allotment) so that an eviction does not hand out a full bucket again; with leases a grant happens
 * about once per lease per isolate, not once per request.
 */
import { DurableObject } from 'cloudflare:workers';
import type { ApiKeyContract } from './contracts';
import type { KeyCheck, KeyRecord, KeySummary } from '../../shared/access/records';
import { summaryOf } from '../../shared/access/records';
import { LEASE_MS } from '../../shared/access/leases';
import { apiKeyKeys } from '../../shared/storage/keys';
import { allotment, giveBack, takeUpTo, type Bucket } from '../../shared/access/token-bucket';

const encoder = new TextEncoder();
const { record: RECORD, bucket: BUCKET } = apiKeyKeys;

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
  /** When the last lease granted by this object (or, for all it knows, by its predecessor) ends. */
  private leasesEnd: number;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.leasesEnd = Date.now() + LEASE_MS;
  }

  private async load(): Promise<KeyRecord | null> {
    if (this.record === undefined) {
      const stored = await this.ctx.storage.get<KeyRecord | Bucket>([RECORD, BUCKET]);
      this.bucket = (stored.get(BUCKET) as Bucket | undefined) ?? null;
      this.record = (stored.get(RECORD) as KeyRecord | undefined) ?? null;
    }
    return this.record;
  }

  /** Stores a new key; refuses to overwrite an existing one (ids are random, a clash is a bug). */
  async create(record: KeyRecord): Promise<boolean> {
    if (await this.load()) return false;
    await this.ctx.storage.put(RECORD, record);
    this.record = record;
    return true;
  }

  /**
   * Is the token with this hash this key, still valid, and within its rate limit? A yes comes with a
   * lease and (for a limited key) an allotment of tokens. `returned`: the unspent rest of the asking
   * isolate's expired allotment, back into the bucket.
   */
  async check(hash: string, returned = 0): Promise<KeyCheck> {
    const record = await this.load();
    if (!record || !sameHash(hash, record.hash)) return { ok: false, reason: 'unknown' };
    if (record.revokedAt) return { ok: false, reason: 'revoked' };
    const principal = { keyId: record.id, scopes: record.scopes, models: record.models };
    let tokens: number | null = null;
    if (record.rateLimit) {
      const now = Date.now();
      const back = returned > 0 ? giveBack(this.bucket, record.rateLimit, now, returned) : this.bucket;
      const grant = takeUpTo(back, record.rateLimit, now, allotment(record.rateLimit, LEASE_MS));
      this.bucket = grant.bucket;
      this.ctx.storage.put(BUCKET, grant.bucket, { allowUnconfirmed: true }).catch(() => {});
      if (grant.granted === 0) return { ok: false, reason: 'limited', retryAfter: grant.retryAfter };
      tokens = grant.granted;
    }
    this.leasesEnd = Math.max(this.leasesEnd, Date.now() + LEASE_MS);
    return { ok: true, principal, lease: { ms: LEASE_MS, tokens } };
  }

  /**
   * Marks the key revoked (idempotent: the first revocation time stays), then waits until every lease
   * granted before it has run out, so that when this answers no isolate admits the key any more.
   * Null for an unknown key.
   */
  async revoke(at: string): Promise<KeySummary | null> {
    const record = await this.load();
    if (!record) return null;
    if (!record.revokedAt) {
      const revoked = { ...record, revokedAt: at };
      this.record = revoked;
      await this.ctx.storage.put(RECORD, revoked);
    }
    const wait = this.leasesEnd - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    return summaryOf(this.record!);
  }

  async summary(): Promise<KeySummary | null> {
    const record = await this.load();
    return record ? summaryOf(record) : null;
  }
}
