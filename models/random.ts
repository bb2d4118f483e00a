/**
 * Seeded pseudo-random numbers. Everything that must be reproducible (splits, initial weights, batch
 * order, dropout masks, sampled configurations) draws from here, never from Math.random().
 */

/** Mixes a list of integers into one 32-bit seed (so "study seed + trial number" is a seed too). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    // Both halves of a float64 integer take part, so large seeds do not collide.
    const lo = part >>> 0;
    const hi = Math.floor(part / 2 ** 32) >>> 0;
    for (const word of [lo, hi]) {
      h = Math.imul(h ^ word, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
    }
  }
  return h >>> 0;
}

/** The complete state of an Rng (plain data: storable, and restorable with Rng.fromState). */
export interface RngState {
  a: number;
  b: number;
  c: number;
  d: number;
  spareNormal: number | null;
}

/** sfc32: small, fast, and passes PractRand far beyond what tuning needs. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.nextUint32();
  }

  /** A snapshot from which fromState continues the exact same stream (a paused training session). */
  state(): RngState {
    return { a: this.a, b: this.b, c: this.c, d: this.d, spareNormal: this.spareNormal };
  }

  static fromState(s: RngState): Rng {
    const rng = new Rng(0);
    rng.a = s.a | 0;
    rng.b = s.b | 0;
    rng.c = s.c | 0;
    rng.d = s.d | 0;
    rng.spareNormal = s.spareNormal;
    return rng;
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller, both values used). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Normal truncated to two standard deviations (as Keras' truncated initialisers). */
  truncatedNormal(): number {
    for (;;) {
      const v = this.normal();
      if (Math.abs(v) <= 2) return v;
    }
  }

  /** Fisher-Yates in place. */
  shuffle<T>(items: T[] | Int32Array): void {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i]!;
      items[i] = items[j]!;
      items[j] = tmp;
    }
  }
}
