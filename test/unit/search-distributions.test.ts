import { describe, expect, it } from 'vitest';
import { Rng } from '../../models/random';
import {
  contains,
  createSampler,
  DEFAULT_SPACE,
  mergeSpace,
  type Distribution,
  fromUnit,
  gridValues,
  parseSpace,
  toUnit,
  valueBounds,
} from '../../models/search';

/** Empirical q-quantile of sorted values. */
const quantile = (sorted: number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const QS = Array.from({ length: 19 }, (_, i) => (i + 1) / 20);

/**
 * Largest gap between the empirical quantiles of xs and those of U[lo, hi]. With n draws the DKW inequality
 * bounds P(gap > eps * (hi - lo)) by 2 exp(-2 n eps^2), which the tolerances below keep under 1e-3 whatever
 * the seed: a failure means a wrong scale, not bad luck.
 */
function worstQuantileGap(xs: number[], lo: number, hi: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return Math.max(...QS.map((q) => Math.abs(quantile(sorted, q) - (lo + q * (hi - lo)))));
}

const COMPANION = { type: 'float', low: 1e-4, high: 1e-1, log: true };

/**
 * Draws one parameter through the random sampler, as a study would. A continuous companion parameter keeps
 * configurations distinct, so duplicate avoidance (which would rightly refuse the sixth draw of a 5-valued
 * space) does not interfere with the distribution under test.
 */
function drawParam(name: string, dist: Record<string, unknown>, n: number, seed = 11): number[] {
  const space = name === 'learningRate' ? { learningRate: dist } : { learningRate: COMPANION, [name]: dist };
  const sampler = createSampler(parseSpace(space), { kind: 'random', seed });
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = sampler.sample(i);
    expect(s.duplicate).toBe(false);
    out.push(s.params[name] as number);
  }
  return out;
}

describe('log-uniform and oneMinus scales', () => {
  it("Adam's learningRate from DEFAULT_SPACE is uniform in log10 (quantiles within 0.02 of -4..-2)", () => {
    const sampler = createSampler(mergeSpace(DEFAULT_SPACE, { optimizer: 'adam' }), { kind: 'random', seed: 2024 });
    // 100k draws: DKW gives P(any quantile off by 0.02 decades = 0.0067 of the range) < 3e-4.
    const logs: number[] = [];
    for (let i = 0; i < 100_000; i++) logs.push(Math.log10(sampler.sample(i).params.learningRate as number));
    expect(Math.min(...logs)).toBeGreaterThanOrEqual(-4);
    expect(Math.max(...logs)).toBeLessThanOrEqual(-2);
    expect(worstQuantileGap(logs, -4, -2)).toBeLessThan(0.02);
  }, 60_000);

  it('20k draws: log10 quantiles within 0.04 decades, and a linear scale would fail the same check', () => {
    const lr = drawParam('learningRate', { type: 'float', low: 1e-4, high: 1e-1, log: true }, 20_000);
    expect(worstQuantileGap(lr.map(Math.log10), -4, -1)).toBeLessThan(0.04);
    const linear = drawParam('learningRate', { type: 'float', low: 1e-4, high: 1e-1 }, 20_000);
    expect(worstQuantileGap(linear.map(Math.log10), -4, -1)).toBeGreaterThan(0.5);
  }, 60_000);

  it('oneMinus: log10(1 - v) is uniform, so 0.9, 0.99 and 0.999 are equally likely', () => {
    const beta2 = drawParam('beta2', { type: 'float', low: 1e-4, high: 1e-1, log: true, oneMinus: true }, 20_000);
    expect(Math.min(...beta2)).toBeGreaterThanOrEqual(0.9 - 1e-12);
    expect(Math.max(...beta2)).toBeLessThanOrEqual(0.9999 + 1e-12);
    expect(
      worstQuantileGap(
        beta2.map((v) => Math.log10(1 - v)),
        -4,
        -1,
      ),
    ).toBeLessThan(0.04);
    const third = (lo: number, hi: number) => beta2.filter((v) => v >= lo && v < hi).length / beta2.length;
    for (const f of [third(0.9, 0.99), third(0.99, 0.999), third(0.999, 1)]) expect(f).toBeCloseTo(1 / 3, 1);
  });

  it('zeroProbability: exactly 0 with that probability, log-uniform otherwise', () => {
    const l2 = drawParam('l2', { type: 'float', low: 1e-6, high: 1e-2, log: true, zeroProbability: 0.5 }, 20_000);
    const zeros = l2.filter((v) => v === 0).length / l2.length;
    expect(Math.abs(zeros - 0.5)).toBeLessThan(0.02);
    const nonZero = l2.filter((v) => v !== 0);
    expect(Math.min(...nonZero)).toBeGreaterThanOrEqual(1e-6);
    expect(worstQuantileGap(nonZero.map(Math.log10), -6, -2)).toBeLessThan(0.08);
  });
});

describe('int distributions', () => {
  it('inclusive bounds: both ends are drawn, about uniformly', () => {
    const depth = drawParam('depth', { type: 'int', low: 0, high: 4 }, 10_000);
    for (let v = 0; v <= 4; v++)
      expect(Math.abs(depth.filter((d) => d === v).length / depth.length - 0.2)).toBeLessThan(0.02);
    expect(new Set(depth)).toEqual(new Set([0, 1, 2, 3, 4]));
  });

  it('step: only low + k * step, both ends included', () => {
    const w = drawParam('width', { type: 'int', low: 16, high: 256, step: 16 }, 5000);
    expect(w.every((v) => (v - 16) % 16 === 0 && v >= 16 && v <= 256)).toBe(true);
    expect(new Set(w).size).toBe(16);
  });

  it('log: both ends are drawn and the median is the geometric middle', () => {
    const w = drawParam('width', { type: 'int', low: 16, high: 256, log: true }, 20_000);
    expect(Math.min(...w)).toBe(16);
    expect(Math.max(...w)).toBe(256);
    expect(w.every(Number.isInteger)).toBe(true);
    const below64 = w.filter((v) => v <= 64).length / w.length;
    const expected = (Math.log(64.5) - Math.log(15.5)) / (Math.log(256.5) - Math.log(15.5));
    expect(Math.abs(below64 - expected)).toBeLessThan(0.02);
  });
});

describe('unit-cube mapping', () => {
  const continuous: Distribution[] = [
    { type: 'float', low: -2, high: 3 },
    { type: 'float', low: 1e-4, high: 1e-1, log: true },
    { type: 'float', low: 1e-3, high: 1e-1, log: true, oneMinus: true },
  ];

  it('toUnit inverts fromUnit for continuous floats', () => {
    for (const d of continuous) for (let u = 0; u < 1; u += 0.037) expect(toUnit(d, fromUnit(d, u))).toBeCloseTo(u, 9);
  });

  it('fromUnit inverts toUnit for every discrete value', () => {
    const discrete: Distribution[] = [
      { type: 'int', low: 0, high: 4 },
      { type: 'int', low: 3, high: 30, step: 3 },
      { type: 'int', low: 16, high: 256, log: true },
      { type: 'float', low: 0, high: 0.5, step: 0.1 },
      { type: 'categorical', choices: ['a', 1, true, false] },
      { type: 'const', value: [1, 2] },
    ];
    for (const d of discrete) {
      const values = new Set<string>();
      for (let u = 0; u < 1; u += 0.0005) values.add(JSON.stringify(fromUnit(d, u)));
      for (const text of values) {
        const v = JSON.parse(text);
        expect(fromUnit(d, toUnit(d, v))).toEqual(v);
      }
    }
  });

  it('every distribution of DEFAULT_SPACE maps [0, 1) monotonically into its own domain', () => {
    for (const [name, d] of Object.entries(DEFAULT_SPACE)) {
      let prev = -Infinity;
      for (let u = 0; u < 1; u += 0.001) {
        const v = fromUnit(d, u);
        expect(contains(d, v), `${name} at u=${u}`).toBe(true);
        if (typeof v === 'number') {
          expect(v, name).toBeGreaterThanOrEqual(prev);
          prev = v;
        }
      }
    }
  });

  it('a zero-able float maps 0 to the middle of its zero mass', () => {
    const d: Distribution = { type: 'float', low: 1e-6, high: 1e-2, log: true, zeroProbability: 0.4 };
    expect(toUnit(d, 0)).toBeCloseTo(0.2, 12);
    expect(fromUnit(d, 0.39)).toBe(0);
    expect(fromUnit(d, 0.4)).toBeCloseTo(1e-6, 15);
    expect(valueBounds(d)).toEqual([0, 1e-2]);
  });

  it('toUnit refuses values the distribution cannot produce', () => {
    expect(() => toUnit({ type: 'int', low: 0, high: 4 }, 5)).toThrow(RangeError);
    expect(() => toUnit({ type: 'categorical', choices: ['a'] }, 'b')).toThrow(RangeError);
    expect(() => toUnit({ type: 'float', low: 1, high: 2 }, 0)).toThrow(RangeError);
  });

  it('float steps land on the step grid without float noise', () => {
    const d: Distribution = { type: 'float', low: 0, high: 0.5, step: 0.1 };
    const values = new Set<number>();
    for (let u = 0; u < 1; u += 0.01) values.add(fromUnit(d, u) as number);
    expect([...values].sort()).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5]);
  });
});

describe('gridValues', () => {
  it('spaces levels evenly on each scale, ends included', () => {
    expect(gridValues({ type: 'float', low: 0, high: 0.5 }, 3)).toEqual([0, 0.25, 0.5]);
    expect(gridValues({ type: 'float', low: 1e-4, high: 1e-1, log: true }, 4)).toEqual([1e-4, 1e-3, 1e-2, 1e-1]);
    expect(gridValues({ type: 'float', low: 1e-3, high: 1e-1, log: true, oneMinus: true }, 3)).toEqual([
      0.9, 0.99, 0.999,
    ]);
    expect(gridValues({ type: 'int', low: 16, high: 256, log: true }, 3)).toEqual([16, 64, 256]);
  });

  it('de-duplicates narrow int ranges and adds 0 for zero-able floats', () => {
    expect(gridValues({ type: 'int', low: 0, high: 4 }, 3)).toEqual([0, 2, 4]);
    expect(gridValues({ type: 'int', low: 0, high: 1 }, 5)).toEqual([0, 1]);
    expect(gridValues({ type: 'float', low: 1e-6, high: 1e-2, log: true, zeroProbability: 0.5 }, 3)).toEqual([
      0, 1e-6, 1e-4, 1e-2,
    ]);
  });

  it('uses the middle for one level, all choices for categoricals and the value for consts', () => {
    expect(gridValues({ type: 'float', low: 1e-4, high: 1e-2, log: true }, 1)).toEqual([1e-3]);
    expect(gridValues({ type: 'categorical', choices: ['x', 'y'] }, 3)).toEqual(['x', 'y']);
    expect(gridValues({ type: 'const', value: 7 }, 3)).toEqual([7]);
    expect(() => gridValues({ type: 'const', value: 7 }, 0)).toThrow(RangeError);
  });

  it('every grid value of DEFAULT_SPACE is a possible value', () => {
    for (const d of Object.values(DEFAULT_SPACE)) for (const v of gridValues(d, 5)) expect(contains(d, v)).toBe(true);
  });
});

describe('contains', () => {
  it('checks type, range and step', () => {
    expect(contains({ type: 'int', low: 0, high: 8, step: 2 }, 4)).toBe(true);
    expect(contains({ type: 'int', low: 0, high: 8, step: 2 }, 3)).toBe(false);
    expect(contains({ type: 'int', low: 0, high: 8 }, '4')).toBe(false);
    expect(contains({ type: 'float', low: 1e-3, high: 1e-1, log: true, oneMinus: true }, 0.95)).toBe(true);
    expect(contains({ type: 'float', low: 1e-3, high: 1e-1, log: true, oneMinus: true }, 0.5)).toBe(false);
    expect(contains({ type: 'categorical', choices: [1, true] }, 1)).toBe(true);
    expect(contains({ type: 'categorical', choices: [1, true] }, '1')).toBe(false);
    expect(contains({ type: 'const', value: [1, 2] }, [1, 2])).toBe(true);
  });
});

it('seeded draws from Rng feed fromUnit deterministically', () => {
  const a = new Rng(5);
  const b = new Rng(5);
  for (let i = 0; i < 100; i++)
    expect(fromUnit(DEFAULT_SPACE.learningRate!, a.next())).toBe(fromUnit(DEFAULT_SPACE.learningRate!, b.next()));
});
