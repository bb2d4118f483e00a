/**
 * Failed authentications per client address: after AUTH_FAILURE_LIMIT failures (a wrong, unknown, revoked
 * or malformed key, or a wrong root token) within the binding's period, the address gets 429 with
 * Retry-After instead of 401. This is what protects a guessable ADMIN_TOKEN (a secret a person chose)
 * and keeps floods of made-up keys from reaching the key objects; API key secrets themselves (256 bits)
 * cannot be guessed at any rate.
 *
 * Only failures are counted, with the rate-limiting binding (per address and location, no round trip).
 * Once the binding refuses, this isolate remembers the address for one period and answers 429 before
 * hashing or asking anything, except for a token it holds a valid lease for (a key already admitted
 * here keeps working from behind a shared address where someone else is guessing).
 */

/** The binding's period (wrangler.toml [[ratelimits]] AUTH_FAILURE_LIMIT): it does not tell when a window ends. */
export const AUTH_FAILURE_PERIOD_S = 60;
/** Addresses remembered per isolate; the binding still counts those dropped from memory. */
const MAX_BLOCKED = 4096;

export class AuthFailures {
  private readonly blocked = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Seconds this address stays refused here (0: not refused). */
  refusedFor(address: string | undefined): number {
    if (!address) return 0;
    const until = this.blocked.get(address);
    if (until === undefined) return 0;
    const left = until - this.now();
    if (left <= 0) {
      this.blocked.delete(address);
      return 0;
    }
    return Math.ceil(left / 1000);
  }

  /** Counts one failure; true when the address is now over its limit (and refused here for a period). */
  async fail(limiter: RateLimit, address: string | undefined): Promise<boolean> {
    // A call without CF-Connecting-IP (a service binding, a test calling the handler) has no address to count.
    if (!address) return false;
    const { success } = await limiter.limit({ key: address });
    if (success) return false;
    this.blocked.delete(address);
    this.blocked.set(address, this.now() + AUTH_FAILURE_PERIOD_S * 1000);
    while (this.blocked.size > MAX_BLOCKED) this.blocked.delete(this.blocked.keys().next().value!);
    return true;
  }
}
