/**
 * Key leases: how an isolate checks a key with one hash and a cached lookup on most requests while a
 * revoked key still fails at once.
 *
 * The key's Durable Object (functions/durable/api-key.ts) answers a successful check with a lease: the
 * key is valid for the next `ms` milliseconds, measured from when the isolate sent the check, plus (for
 * a rate-limited key) an allotment of tokens taken from the key's bucket. Within the lease the isolate
 * admits requests made with that exact token from memory, spending the allotment one request at a time;
 * when the lease has run out, or the allotment is spent, the next request asks the object again.
 *
 * Revocation stays immediate: the object refuses to grant a lease once the key is revoked, and the
 * revocation call returns only after every lease it granted has expired. A lease ends at
 * send time + ms on the isolate's clock, no later than grant time + ms on the object's clock (the grant
 * comes after the send; only the clocks' rates are assumed equal, not their settings). So once a DELETE
 * has answered, no isolate anywhere still holds a lease, and every request that starts afterwards is
 * refused, exactly as if it had asked the object. Revoking costs up to one lease of waiting.
 *
 * Tokens left in an expired lease are given back on the next ask (they can no longer be spent), so an
 * isolate does not eat a key's limit; an isolate that goes away loses its rest, which only makes the
 * limit stricter, never looser.
 */
import type { KeyCheck, Lease } from './records';
import type { Principal } from './scopes';

/** How long a check's answer may be used without asking again: also how long a revocation can wait. */
export const LEASE_MS = 1000;
/** Keys cached per isolate: an isolate serving more keys than this asks for the least recently used again. */
const MAX_LEASES = 1024;

/** The key's object: checks the token's hash and hands back the rest of an expired allotment. */
export type AskKey = (hash: string, returned: number) => Promise<KeyCheck>;

interface Held {
  hash: string;
  principal: Principal;
  /** On the isolate's clock: the check's send time + the lease's ms. */
  until: number;
  /** Tokens left to spend; null: unlimited. */
  tokens: number | null;
}

export class KeyLeases {
  private readonly held = new Map<string, Held>();
  /** One check in flight per key: requests arriving meanwhile wait for it instead of asking too. */
  private readonly asking = new Map<string, Promise<unknown>>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Admits one request made with key `id` and a token hashing to `hash`: from the lease when one is
   * held for this very token and still has time (and a token) left, otherwise by asking the key's object.
   */
  async admit(id: string, hash: string, ask: AskKey): Promise<KeyCheck> {
    for (;;) {
      const fromLease = this.fromLease(id, hash);
      if (fromLease) return fromLease;
      const inFlight = this.asking.get(id);
      if (!inFlight) break;
      // Whatever it brings back is re-checked against this request's own time above.
      await inFlight.catch(() => {});
    }
    const held = this.held.get(id);
    // The rest of this token's allotment comes back to the bucket only once its lease is over: then
    // nobody can spend it any more. (Another token's lease is left alone: this one may be a guess.)
    const expired = held && held.hash === hash && this.now() >= held.until ? held : null;
    const returned = expired?.tokens ?? 0;
    if (expired) this.held.delete(id);
    const sentAt = this.now();
    const asked = ask(hash, returned);
    this.asking.set(id, asked);
    try {
      const result = await asked;
      if (result.ok) this.hold(id, hash, result.principal, sentAt, result.lease);
      else if (result.reason !== 'limited' && this.held.get(id)?.hash === hash) this.held.delete(id);
      return result;
    } finally {
      if (this.asking.get(id) === asked) this.asking.delete(id);
    }
  }

  /** Drops what this isolate holds for a key (after a revocation made through it). */
  forget(id: string): void {
    this.held.delete(id);
  }

  /** Admits a request from a lease held for this very token, or null (then only the key's object can tell). */
  fromLease(id: string, hash: string): KeyCheck | null {
    const held = this.held.get(id);
    // Hashes are compared in the clear: knowing how much of a SHA-256 matches does not help find a token.
    if (!held || held.hash !== hash || this.now() >= held.until) return null;
    if (held.tokens !== null) {
      if (held.tokens < 1) return null;
      held.tokens -= 1;
    }
    // Most recently used last, so the map's first key is the one to drop when it is full.
    this.held.delete(id);
    this.held.set(id, held);
    return { ok: true, principal: held.principal, lease: { ms: held.until - this.now(), tokens: held.tokens } };
  }

  private hold(id: string, hash: string, principal: Principal, sentAt: number, lease: Lease): void {
    // The request that asked spends one of the granted tokens.
    const tokens = lease.tokens === null ? null : Math.max(0, lease.tokens - 1);
    // A later lease replaces an earlier one; an earlier unspent rest is lost (stricter, never looser).
    this.held.delete(id);
    this.held.set(id, { hash, principal, until: sentAt + lease.ms, tokens });
    while (this.held.size > MAX_LEASES) this.held.delete(this.held.keys().next().value!);
  }
}
