import { describe, expect, it } from 'vitest';
import { canaryArm, hash32, inAuditSample, inputKey, RateGate, unitHash } from '../../shared/monitor/sampling';

describe('canary assignment', () => {
  it('sends 20% +/- 3 of 2,000 caller keys to the challenger at 20%, the same key always to the same arm', () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.7`);
    const arms = keys.map((k) => canaryArm(k, 'digits', 2, 20));
    const share = arms.filter((a) => a === 'challenger').length / keys.length;
    expect(share).toBeGreaterThanOrEqual(0.17);
    expect(share).toBeLessThanOrEqual(0.23);
    keys.forEach((k, i) => expect(canaryArm(k, 'digits', 2, 20)).toBe(arms[i]));
  });

  it('is monotone in the percentage (a caller in the 10% canary stays in it at 30%) and 0% sends nobody', () => {
    const keys = Array.from({ length: 500 }, (_, i) => `key-${i}`);
    for (const k of keys) {
      if (canaryArm(k, 'm', 3, 10) === 'challenger') expect(canaryArm(k, 'm', 3, 30)).toBe('challenger');
      expect(canaryArm(k, 'm', 3, 0)).toBe('champion');
    }
  });

  it('holds the share at other percentages and for other challengers', () => {
    const keys = Array.from({ length: 4000 }, (_, i) => `etk-${i.toString(16)}`);
    for (const [percent, challenger] of [
      [5, 2],
      [50, 7],
      [33, 11],
    ] as const) {
      const share =
        keys.filter((k) => canaryArm(k, 'tiers', challenger, percent) === 'challenger').length / keys.length;
      expect(Math.abs(share - percent / 100)).toBeLessThan(0.03);
    }
  });
});

describe('audit sample', () => {
  it('takes about the rate of inputs, reproducibly for a seed, and other ones for another seed', () => {
    const inputs = Array.from({ length: 20_000 }, (_, i) => inputKey([i % 17, i, (i * 7) % 5]));
    const picked = inputs.filter((k) => inAuditSample(15, 0.01, k));
    expect(picked.length / inputs.length).toBeGreaterThan(0.008);
    expect(picked.length / inputs.length).toBeLessThan(0.012);
    expect(inputs.filter((k) => inAuditSample(15, 0.01, k))).toEqual(picked);
    const other = inputs.filter((k) => inAuditSample(16, 0.01, k));
    expect(other).not.toEqual(picked);
    expect(inputs.some((k) => inAuditSample(15, 0, k))).toBe(false);
  });
});

describe('input keys', () => {
  it('are the same for an object in any key order and differ for different values', () => {
    expect(inputKey({ b: 2, a: 1 })).toBe(inputKey({ a: 1, b: 2 }));
    expect(inputKey({ a: 1, b: 2 })).not.toBe(inputKey({ a: 2, b: 1 }));
    expect(inputKey([1, 2])).not.toBe(inputKey([2, 1]));
    expect(inputKey({ a: 'x', b: null })).toBe('{"a":"x","b":null}');
  });
});

describe('hashes', () => {
  it('spread nearby keys over the whole range', () => {
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) buckets[Math.floor(unitHash(1, `10.0.0.${i}`) * 10)]! += 1;
    for (const b of buckets) expect(Math.abs(b - 1000)).toBeLessThan(150);
    expect(hash32('a')).not.toBe(hash32('b'));
  });
});

describe('rate gate', () => {
  it('allows the burst, then the rate, and counts time only as it passes', () => {
    let t = 0;
    const gate = new RateGate(10, 5, () => t);
    const first = Array.from({ length: 8 }, () => gate.take());
    expect(first.filter(Boolean)).toHaveLength(5);
    t += 300; // 3 tokens
    expect(Array.from({ length: 5 }, () => gate.take()).filter(Boolean)).toHaveLength(3);
    t += 10_000; // refills, but never above the burst
    expect(Array.from({ length: 10 }, () => gate.take()).filter(Boolean)).toHaveLength(5);
  });
});
