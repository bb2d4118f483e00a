import { describe, expect, it } from 'vitest';
import { marginals, niceTicks } from '../../dashboard/src/charts/marginal-data';

const trial = (n: number, params: Record<string, unknown>, score: number) => ({ trial: n, params, score });

describe('dashboard marginal plots (data)', () => {
  it('orders parameters by the spread of their group means and skips constants', () => {
    const trials = [
      trial(0, { optimizer: 'adam', epsilon: 1e-7, batchSize: 32 }, 0.95),
      trial(1, { optimizer: 'adam', epsilon: 1e-7, batchSize: 64 }, 0.93),
      trial(2, { optimizer: 'sgd', epsilon: 1e-7, batchSize: 32 }, 0.55),
      trial(3, { optimizer: 'sgd', epsilon: 1e-7, batchSize: 64 }, 0.57),
    ];
    const list = marginals(trials);
    expect(list.map((m) => m.name)).toEqual(['optimizer', 'batchSize']);
    expect(list[0]!.spread).toBeCloseTo(0.94 - 0.56, 10);
    // Batch size is balanced across the optimizers here: both sizes average 0.75.
    expect(list[1]!.spread).toBeCloseTo(0, 10);
    // Few integer values are categories, labelled in numeric order.
    expect(list[1]!.axis).toMatchObject({
      kind: 'category',
      ticks: [
        { at: 0, label: '32' },
        { at: 1, label: '64' },
      ],
    });
  });

  it('puts values spanning decades on a log axis, with a lane for zero', () => {
    const l2 = [0, 1e-6, 1e-4, 1e-2, 0, 3e-3, 2e-5];
    const [m] = marginals(l2.map((v, i) => trial(i, { l2: v }, 0.5 + i / 100)));
    expect(m!.axis.kind).toBe('log');
    const zero = m!.axis.ticks.find((t) => t.label === '0')!;
    // The zero lane sits one decade below the smallest positive value (1e-6 -> -6, lane -7).
    expect(zero.at).toBe(-7);
    expect(m!.points.filter((p) => p.x === -7)).toHaveLength(2);
    expect(m!.points.find((p) => p.trial === 3)!.x).toBeCloseTo(-2, 12);
    for (const p of m!.points) expect(p.x).toBeGreaterThanOrEqual(m!.axis.min);
    for (const p of m!.points) expect(p.x).toBeLessThanOrEqual(m!.axis.max);
  });

  it('puts parameters close to 1 on a log axis of 1 - v, labelled 0.9, 0.99, 0.999', () => {
    const beta2 = [0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9];
    const [m] = marginals(beta2.map((v, i) => trial(i, { beta2: v }, 0.9)));
    expect(m!.axis.kind).toBe('log1m');
    expect(m!.axis.ticks.map((t) => t.label)).toEqual(['0.9', '0.99', '0.999']);
    expect(m!.points.find((p) => p.trial === 2)!.x).toBeCloseTo(2, 9);
  });

  it('keeps a narrow continuous range linear, with ticks at round numbers inside it', () => {
    const dropout = [0.05, 0.1, 0.2, 0.3, 0.45, 0.33, 0.12];
    const [m] = marginals(dropout.map((v, i) => trial(i, { dropout: v }, 0.8)));
    expect(m!.axis.kind).toBe('linear');
    for (const t of m!.axis.ticks) expect(t.at).toBeGreaterThanOrEqual(m!.axis.min);
    expect(niceTicks(0, 1, 4)).toEqual([0, 0.5, 1]);
    // Steps of 1, 2 or 5 x 10^k no smaller than range / count: at most `count` ticks.
    expect(niceTicks(0.02, 0.48, 4)).toEqual([0.2, 0.4]);
    expect(niceTicks(-1.3, 2.2, 4)).toEqual([-1, 0, 1, 2]);
  });

  it('shows choice-like integers (consecutive, powers of two) as categories, other integers on a numeric axis', () => {
    const kinds = (values: number[]) =>
      marginals(values.map((v, i) => trial(i, { p: v }, 0.5 + i / 100)))[0]!.axis.kind;
    expect(kinds([0, 1, 2, 3, 4, 2])).toBe('category');
    expect(kinds([16, 32, 64, 128, 32])).toBe('category');
    expect(kinds([22, 67, 78, 211, 219])).toBe('linear');
    expect(kinds([2, 5, 14, 5])).toBe('linear');
  });

  it('jitters category points deterministically within their lane', () => {
    const trials = Array.from({ length: 12 }, (_, i) => trial(i, { activation: i % 2 ? 'relu' : 'tanh' }, 0.9));
    const a = marginals(trials)[0]!;
    const b = marginals(trials)[0]!;
    expect(a.points).toEqual(b.points);
    for (const p of a.points) expect(Math.abs(p.x - Math.round(p.x))).toBeLessThanOrEqual(0.25);
  });
});
