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
  const rate = limit.requests / (limit.perSeconds * 1000);
  const elapsed = bucket ? Math.max(0, nowMs - bucket.at) : 0;
  const tokens = bucket ? Math.min(limit.requests, bucket.tokens + elapsed * rate) : limit.requests;
  if (tokens >= 1) return { allowed: true, bucket: { tokens: tokens - 1, at: nowMs }, retryAfter: 0 };
  return {
    allowed: false,
    bucket: { tokens, at: nowMs },
    retryAfter: Math.max(1, Math.ceil((1 - tokens) / rate / 1000)),
  };
}
