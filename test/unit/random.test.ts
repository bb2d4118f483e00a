import { describe, expect, it } from 'vitest';
import { mixSeed, Rng } from '../../models/random';

function draws(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.next());
}

describe('mixSeed', () => {
  it('is deterministic and returns an unsigned 32-bit integer', () => {
    for (const parts of [[], [0], [1, 2], [123456789, 42], [2 ** 40 + 7, 3]]) {
      const a = mixSeed(...parts);
      expect(a).toBe(mixSeed(...parts));
      expect(Number.isInteger(a)).toBe(true);
      expect(a).toBeGreaterThanOrEqual(0);
      expect(a).toBeLessThan(2 ** 32);
    }
  });

  it('depends on the order of its parts', () => {
    const pairs: [number, number][] = [
      [1, 2],
      [0, 1],
      [7, 1_000_003],
      [42, 2 ** 33],
    ];
    for (const [a, b] of pairs) expect(mixSeed(a, b)).not.toBe(mixSeed(b, a));
  });

  it('uses the high half of large integer seeds (no collisions modulo 2^32)', () => {
    expect(mixSeed(2 ** 32 + 1)).not.toBe(mixSeed(1));
    expect(mixSeed(2 ** 32)).not.toBe(mixSeed(0));
    expect(mixSeed(2 ** 40 + 5, 1)).not.toBe(mixSeed(5, 1));
    expect(mixSeed(Number.MAX_SAFE_INTEGER)).not.toBe(mixSeed(Number.MAX_SAFE_INTEGER - 2 ** 32));
  });

  it('gives distinct seeds for many nearby and large inputs', () => {
    const seen = new Set<number>();
    let count = 0;
    for (const base of [0, 2 ** 32, 2 ** 45, Number.MAX_SAFE_INTEGER - 5000]) {
      for (let i = 0; i < 1000; i++) {
        seen.add(mixSeed(base + i));
        count++;
      }
    }
    for (let s = 0; s < 50; s++)
      for (let t = 0; t < 50; t++) {
        seen.add(mixSeed(s, t));
        count++;
      }
    expect(seen.size).toBe(count);
  });
});

describe('Rng', () => {
  it('is deterministic for the same seed', () => {
    const a = new Rng(12345);
    const b = new Rng(12345);
    expect(draws(a, 1000)).toEqual(draws(b, 1000));
    const c = new Rng(777);
    const d = new Rng(777);
    const na = Array.from({ length: 101 }, () => c.normal());
    const nb = Array.from({ length: 101 }, () => d.normal());
    expect(na).toEqual(nb);
  });

  it('gives different streams for different seeds', () => {
    const seeds = [0, 1, 2, 3, 12345, mixSeed(1, 1), mixSeed(1, 2)];
    const streams = seeds.map((s) => draws(new Rng(s), 20).join(','));
    expect(new Set(streams).size).toBe(seeds.length);
    // Not merely shifted copies: adjacent seeds share (almost) no values.
    const a = new Set(draws(new Rng(1), 1000));
    const shared = draws(new Rng(2), 1000).filter((v) => a.has(v)).length;
    expect(shared).toBeLessThan(5);
  });

  it('next() stays in [0, 1)', () => {
    const rng = new Rng(99);
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < 100_000; i++) {
      const v = rng.next();
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(min).toBeLessThan(1e-3);
    expect(max).toBeGreaterThan(1 - 1e-3);
  });

  it('next() is roughly uniform (10 bins over 100k draws within 5% of expected)', () => {
    for (const seed of [1, 2024, mixSeed(7, 3)]) {
      const rng = new Rng(seed);
      const n = 100_000;
      const bins = new Array<number>(10).fill(0);
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const v = rng.next();
        bins[Math.floor(v * 10)]!++;
        sum += v;
      }
      for (const count of bins) expect(Math.abs(count - n / 10)).toBeLessThan(0.05 * (n / 10));
      expect(sum / n).toBeCloseTo(0.5, 2);
    }
  });

  it('int(n) covers exactly 0..n-1 roughly uniformly', () => {
    const rng = new Rng(5);
    const counts = new Array<number>(7).fill(0);
    let bad = 0;
    for (let i = 0; i < 70_000; i++) {
      const k = rng.int(7);
      if (!Number.isInteger(k) || k < 0 || k >= 7) bad++;
      else counts[k]!++;
    }
    expect(bad).toBe(0);
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    expect(new Rng(5).int(1)).toBe(0);
  });

  it('normal() has mean ~0 and sd ~1', () => {
    const rng = new Rng(31337);
    const n = 200_000;
    let sum = 0;
    let sq = 0;
    let within1 = 0;
    for (let i = 0; i < n; i++) {
      const v = rng.normal();
      if (!Number.isFinite(v)) throw new Error(`normal() returned ${v}`);
      sum += v;
      sq += v * v;
      if (Math.abs(v) <= 1) within1++;
    }
    const mean = sum / n;
    const sd = Math.sqrt(sq / n - mean * mean);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(sd - 1)).toBeLessThan(0.01);
    // ~68.27% within one standard deviation.
    expect(Math.abs(within1 / n - 0.6827)).toBeLessThan(0.005);
  });

  it('truncatedNormal() stays within [-2, 2] with the truncated variance', () => {
    const rng = new Rng(8);
    const n = 100_000;
    let sum = 0;
    let sq = 0;
    let beyond1_9 = 0;
    let maxAbs = 0;
    for (let i = 0; i < n; i++) {
      const v = rng.truncatedNormal();
      maxAbs = Math.max(maxAbs, Math.abs(v));
      sum += v;
      sq += v * v;
      if (Math.abs(v) > 1.9) beyond1_9++;
    }
    expect(maxAbs).toBeLessThanOrEqual(2);
    const mean = sum / n;
    const sd = Math.sqrt(sq / n - mean * mean);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    // Standard deviation of N(0,1) truncated to [-2, 2].
    expect(Math.abs(sd - 0.8796256610342398)).toBeLessThan(0.01);
    // It is truncated, not clipped: no pile-up at the bounds, but the tails near 2 are still reached.
    expect(beyond1_9).toBeGreaterThan(0);
    expect(beyond1_9 / n).toBeLessThan(0.02);
  });

  it('shuffle() produces a permutation (arrays and Int32Array)', () => {
    const rng = new Rng(3);
    const items = Array.from({ length: 500 }, (_, i) => i);
    rng.shuffle(items);
    expect([...items].sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(items).not.toEqual(Array.from({ length: 500 }, (_, i) => i));

    const typed = Int32Array.from({ length: 300 }, (_, i) => i * 3);
    rng.shuffle(typed);
    expect(Array.from(typed).sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i * 3));
    expect(Array.from(typed)).not.toEqual(Array.from({ length: 300 }, (_, i) => i * 3));

    const empty: number[] = [];
    rng.shuffle(empty);
    expect(empty).toEqual([]);
    const one = ['x'];
    rng.shuffle(one);
    expect(one).toEqual(['x']);
  });

  it('shuffle() is deterministic per seed and reaches every permutation of 3 items evenly', () => {
    const a = Array.from({ length: 50 }, (_, i) => i);
    const b = [...a];
    new Rng(10).shuffle(a);
    new Rng(10).shuffle(b);
    expect(a).toEqual(b);

    const rng = new Rng(11);
    const counts = new Map<string, number>();
    const n = 60_000;
    for (let i = 0; i < n; i++) {
      const p = [0, 1, 2];
      rng.shuffle(p);
      counts.set(p.join(''), (counts.get(p.join('')) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const c of counts.values()) expect(Math.abs(c - n / 6)).toBeLessThan(0.05 * (n / 6));
  });
});
