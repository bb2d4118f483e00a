/**
 * A token bucket: `requests` may arrive at once (the burst), then the bucket refills continuously at
 * requests / perSeconds per second. Pure: the caller keeps the state and passes the time.
 */

export interface RateLimit {
  requests: number;
  perSeconds: number;
}

export interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms). */
  at: number;
}

export interface Decision {
  allowed: boolean;
  bucket: Bucket;
  /** Whole seconds until one token is back (0 when allowed): the Retry-After header. */
  retryAfter: number;
}

export function take(bucket: Bucket | null, limit: RateLimit, nowMs: number): Decision {
  const { granted, bucket: next, retryAfter } = takeUpTo(bucket, limit, nowMs, 1);
  return { allowed: granted === 1, bucket: next, retryAfter };
}

/** The bucket brought up to `nowMs`: refilled at the limit's rate, never above the burst. */
function refill(bucket: Bucket | null, limit: RateLimit, nowMs: number): number {
  if (!bucket) return limit.requests;
  const rate = limit.requests / (limit.perSeconds * 1000);
  return Math.min(limit.requests, bucket.tokens + Math.max(0, nowMs - bucket.at) * rate);
}

export interface Grant {
  /** Whole tokens taken (0..want): 0 means refused, with retryAfter set. */
  granted: number;
  bucket: Bucket;
  retryAfter: number;
}

/**
 * Takes up to `want` whole tokens at once (a lease's allotment, spent elsewhere one request at a time).
 * What is taken is gone from the bucket, so the allotments handed out never exceed the limit.
 */
export function takeUpTo(bucket: Bucket | null, limit: RateLimit, nowMs: number, want: number): Grant {
  const tokens = refill(bucket, limit, nowMs);
  const granted = Math.min(Math.max(0, Math.floor(want)), Math.floor(tokens));
  if (granted >= 1) return { granted, bucket: { tokens: tokens - granted, at: nowMs }, retryAfter: 0 };
  const rate = limit.requests / (limit.perSeconds * 1000);
  return { granted: 0, bucket: { tokens, at: nowMs }, retryAfter: Math.max(1, Math.ceil((1 - tokens) / rate / 1000)) };
}

/** Puts back tokens that were taken but can no longer be spent (an expired allotment's rest). */
export function giveBack(bucket: Bucket | null, limit: RateLimit, nowMs: number, tokens: number): Bucket {
  return { tokens: Math.min(limit.requests, refill(bucket, limit, nowMs) + Math.max(0, tokens)), at: nowMs };
}

/** How many tokens one lease of `leaseMs` gets at most: what the limit refills in that time, at least 1. */
export function allotment(limit: RateLimit, leaseMs: number): number {
  return Math.max(1, Math.ceil((limit.requests / (limit.perSeconds * 1000)) * leaseMs));
}
