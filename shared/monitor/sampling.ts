/**
 * The per-request decisions of the live loop, all pure and reproducible: which confident predictions go
 * to the audit sample, which callers a canary sends to the challenger, and how many queue writes an
 * isolate allows itself under load. Hashes rather than Math.random, so the same input or caller always
 * gets the same answer for the same seed (a sticky canary, a deduplicable audit sample).
 */

/** FNV-1a over the UTF-16 code units of `s`, 32 bits; not cryptographic, only well spread. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // A final avalanche (murmur3's fmix32): FNV alone leaves nearby keys ("10.0.0.1", "10.0.0.2") close in the high bits.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform value in [0, 1) fixed by (seed, key). */
export function unitHash(seed: number, key: string): number {
  return hash32(`${seed}\u0000${key}`) / 2 ** 32;
}

/** Is this confident prediction in the audit sample? `key` identifies the input (see inputKey). */
export function inAuditSample(seed: number, rate: number, key: string): boolean {
  return rate > 0 && unitHash(seed, `audit\u0000${key}`) < rate;
}

/**
 * Which version answers a caller under a canary: the challenger for `percent` % of callers, always the
 * same ones for one (model, challenger) pair, so a caller never flips between versions mid-canary.
 */
export function canaryArm(
  callerKey: string,
  model: string,
  challenger: number,
  percent: number,
): 'champion' | 'challenger' {
  if (percent <= 0) return 'champion';
  return unitHash(challenger, `canary\u0000${model}\u0000${callerKey}`) * 100 < percent ? 'challenger' : 'champion';
}

/**
 * A canonical text of a prediction input: arrays as they are, objects with their keys sorted, so the same
 * row sent as an object in another key order is the same input.
 */
export function inputKey(input: unknown): string {
  if (Array.isArray(input)) return `[${input.map(inputKey).join(',')}]`;
  if (input !== null && typeof input === 'object') {
    const o = input as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${inputKey(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(input) ?? 'null';
}

/**
 * A token bucket on an injectable clock: `rate` per second, at most `burst` saved. Used per isolate to
 * bound how often the request path hands work to storage; what it refuses is counted, not queued.
 */
export class RateGate {
  private tokens: number;
  private at: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.at = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.at) / 1000) * this.rate);
    this.at = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
