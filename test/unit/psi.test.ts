import { describe, expect, it } from 'vitest';
import { binOf, histogram, psi, quantileEdges } from '../../shared/monitor/psi';
import { Rng } from '../../models/random';

describe('quantile edges', () => {
  it('cut a continuous feature into deciles of equal mass', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i);
    const edges = quantileEdges(values);
    expect(edges).toHaveLength(9);
    const counts = histogram(edges, values);
    expect(counts).toHaveLength(10);
    for (const c of counts) expect(c).toBeGreaterThanOrEqual(99);
  });

  it('collapse ties: a mostly-zero pixel gets few bins, a constant feature one', () => {
    const pixel = [...new Array<number>(900).fill(0), ...Array.from({ length: 100 }, (_, i) => 1 + (i % 16))];
    const edges = quantileEdges(pixel);
    expect(edges.length).toBeLessThan(3);
    expect(edges[0]).toBe(0.5);
    // A value reconstructed in float32 lands in the bin of the training value it stands for.
    expect(binOf(edges, Math.fround(0.1 * 3) / 0.3 - 1)).toBe(binOf(edges, 0));
    expect(quantileEdges(new Array<number>(50).fill(3))).toEqual([]);
    expect(histogram([], [1, 2, 3])).toEqual([3]);
  });

  it('bin i holds edges[i-1] < v <= edges[i]', () => {
    const edges = [0, 5, 10];
    expect([-1, 0, 0.1, 5, 7, 10, 11].map((v) => binOf(edges, v))).toEqual([0, 0, 1, 1, 2, 2, 3]);
  });
});

describe('population stability index', () => {
  it('is 0 for the same shares, small for a resample, above 0.2 for a shifted feature', () => {
    const rng = new Rng(5);
    const train = Array.from({ length: 5000 }, () => rng.normal());
    const same = Array.from({ length: 2000 }, () => rng.normal());
    const shifted = Array.from({ length: 2000 }, () => rng.normal() + 1);
    const edges = quantileEdges(train);
    const expected = histogram(edges, train);
    expect(psi(expected, expected)).toBe(0);
    expect(psi(expected, histogram(edges, same))).toBeLessThan(0.05);
    expect(psi(expected, histogram(edges, shifted))).toBeGreaterThan(0.2);
  });

  it('matches the formula on a hand-computed case and refuses mismatched bins', () => {
    // shares e = (0.5, 0.5), a = (0.8, 0.2): 0.3 ln 1.6 + (-0.3) ln 0.4
    expect(psi([50, 50], [80, 20])).toBeCloseTo(0.3 * Math.log(1.6) - 0.3 * Math.log(0.4), 12);
    expect(() => psi([1, 2], [1, 2, 3])).toThrow(RangeError);
    expect(psi([0, 0], [1, 1])).toBe(0);
  });
});
