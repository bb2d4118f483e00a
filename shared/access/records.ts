/** The stored shapes of API keys and audit entries (the Durable Objects keep them; the API shows them). */
import type { Principal, Scope } from './scopes';
import type { RateLimit } from './token-bucket';

/** What an admin chooses when creating a key. */
export interface KeySpec {
  name: string;
  scopes: Scope[];
  /** Limited to these models; null: every model. */
  models: string[] | null;
  /** Per-key limit; null: unlimited (trusted server-to-server keys). */
  rateLimit: RateLimit | null;
}

/** A key as listed: never the token, never its hash. */
export interface KeySummary extends KeySpec {
  id: string;
  createdAt: string;
  /** The key id of the admin who created it. */
  createdBy: string;
  revokedAt: string | null;
}

/** What the key's own Durable Object stores: the summary plus SHA-256(token). */
export interface KeyRecord extends KeySummary {
  hash: string;
}

/** How long a successful check may be reused by the isolate that asked (shared/access/leases.ts). */
export interface Lease {
  /** Milliseconds from the check's send time. */
  ms: number;
  /** Whole tokens granted with the lease (one is spent by the request that asked); null: unlimited key. */
  tokens: number | null;
}

export type KeyCheck =
  | { ok: true; principal: Principal; lease: Lease }
  | { ok: false; reason: 'unknown' | 'revoked' }
  | { ok: false; reason: 'limited'; retryAfter: number };

/** One admin action: who (key id), when, what (method and route), on what (the concrete target), outcome. */
export interface AuditEntry {
  seq: number;
  at: string;
  keyId: string;
  action: string;
  target: string;
  status: number;
}

export type NewAuditEntry = Omit<AuditEntry, 'seq'>;

export interface AuditPage {
  entries: AuditEntry[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  next: number | null;
}

export function summaryOf(record: KeyRecord): KeySummary {
  const { hash: _hash, ...summary } = record;
  return summary;
}
