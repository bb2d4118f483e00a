import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  computeStandardisation,
  type Dataset,
  DEFAULT_FRACTIONS,
  prepareSplit,
  standardise,
  stratifiedSplit,
  majorityBaseline,
} from '../../models/dataset';
import { decodeDigits, DIGITS_CLASSES, DIGITS_FEATURES, parseDigitsCsv } from '../../models/digits';

// Relative to the project root (vitest's root and cwd).
const DIGITS_GZ = 'models/data/digits.csv.gz';
const CLASS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180];

let digits: Dataset;

beforeAll(async () => {
  digits = await decodeDigits(readFileSync(DIGITS_GZ));
});

function classCounts(y: ArrayLike<number>, rows: Iterable<number> | null, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  if (rows === null) for (let i = 0; i < y.length; i++) counts[y[i]!]!++;
  else for (const r of rows) counts[y[r]!]!++;
  return counts;
}

/** Independent float64 population mean / std per feature over the given raw rows. */
function statsOf(data: Dataset, rows: number[]): { mean: number[]; std: number[] } {
  const f = data.features;
  const mean = new Array<number>(f).fill(0);
  const std = new Array<number>(f).fill(0);
  for (const r of rows) for (let j = 0; j < f; j++) mean[j]! += data.x[r * f + j]!;
  for (let j = 0; j < f; j++) mean[j]! /= rows.length;
  for (const r of rows) for (let j = 0; j < f; j++) std[j]! += (data.x[r * f + j]! - mean[j]!) ** 2;
  for (let j = 0; j < f; j++) std[j] = Math.sqrt(std[j]! / rows.length);
  return { mean, std };
}

function rowOf(x: Float32Array, features: number, r: number): number[] {
  return Array.from(x.subarray(r * features, (r + 1) * features));
}

describe('digits data', () => {
  it('decodes 1797 rows x 64 features with the documented class counts', () => {
    expect(digits.rows).toBe(1797);
    expect(digits.features).toBe(64);
    expect(digits.x.length).toBe(1797 * 64);
    expect(digits.y.length).toBe(1797);
    expect(digits.featureNames).toHaveLength(64);
    expect(digits.featureNames[0]).toBe('px_0_0');
    expect(digits.featureNames[63]).toBe('px_7_7');
    expect(digits.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(classCounts(digits.y, null, 10)).toEqual(CLASS_COUNTS);
  });

  it('keeps pixels as integers 0..16 and the first row intact', () => {
    expect(digits.x.every((v) => Number.isInteger(v) && v >= 0 && v <= 16)).toBe(true);
    expect(rowOf(digits.x, 64, 0).slice(0, 16)).toEqual([0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0]);
    expect(digits.y[0]).toBe(0);
    expect(digits.y[1]).toBe(1);
    expect(digits.y[1796]).toBe(8);
  });

  it('has all-zero pixel columns (e.g. feature 0)', () => {
    for (let r = 0; r < digits.rows; r++) expect(digits.x[r * 64]).toBe(0);
  });
});

describe('parseDigitsCsv', () => {
  const pixels = (n = DIGITS_FEATURES) => Array.from({ length: n }, (_, i) => String(i % 17)).join(',');

  it('parses valid rows and ignores blank lines', () => {
    const d = parseDigitsCsv(`${pixels()},3\n\n${pixels()},9\n`);
    expect(d.rows).toBe(2);
    expect(Array.from(d.y)).toEqual([3, 9]);
    expect(d.x[DIGITS_FEATURES + 5]).toBe(5);
    expect(d.classNames).toHaveLength(DIGITS_CLASSES);
  });

  it('rejects a row with the wrong number of cells, naming the row', () => {
    expect(() => parseDigitsCsv(`${pixels()},1\n${pixels(63)},2\n`)).toThrow('digits row 2: expected 65 cells, got 64');
    expect(() => parseDigitsCsv(`${pixels(65)},2`)).toThrow('digits row 1: expected 65 cells, got 66');
    expect(() => parseDigitsCsv('1,2,3')).toThrow(/expected 65 cells, got 3/);
  });

  it('rejects bad labels, naming the row and the label', () => {
    for (const label of ['10', '-1', '3.5', 'x', 'NaN', 'Infinity']) {
      expect(() => parseDigitsCsv(`${pixels()},0\n${pixels()},${label}\n`)).toThrow(
        `digits row 2: bad label ${JSON.stringify(label)}`,
      );
    }
  });

  // Number('') === 0: an empty label cell must not become class 0.
  it('rejects an empty label cell', () => {
    expect(() => parseDigitsCsv(`${pixels()},\n`)).toThrow(/bad label/);
  });

  it('rejects a non-numeric pixel cell', () => {
    const cells = pixels().split(',');
    cells[3] = 'abc';
    expect(() => parseDigitsCsv(`${cells.join(',')},1\n`)).toThrow();
  });
});

describe('stratifiedSplit', () => {
  it('parts are disjoint and cover every row exactly once', () => {
    for (const seed of [0, 1, 42]) {
      const s = stratifiedSplit(digits, seed);
      const all = [...s.train, ...s.validation, ...s.test];
      expect(all).toHaveLength(digits.rows);
      expect(new Set(all).size).toBe(digits.rows);
      expect(all.every((r) => Number.isInteger(r) && r >= 0 && r < digits.rows)).toBe(true);
    }
  });

  it('keeps each class within one row of the 70/15/15 proportions in every part', () => {
    for (const seed of [0, 7, 123456]) {
      const s = stratifiedSplit(digits, seed);
      for (const [name, frac] of [
        ['train', 0.7],
        ['validation', 0.15],
        ['test', 0.15],
      ] as const) {
        const counts = classCounts(digits.y, s[name], 10);
        counts.forEach((c, k) => expect(Math.abs(c - CLASS_COUNTS[k]! * frac)).toBeLessThanOrEqual(1));
      }
    }
  });

  it('part sizes match the fractions overall', () => {
    const s = stratifiedSplit(digits, 3);
    expect(Math.abs(s.train.length - 1797 * 0.7)).toBeLessThanOrEqual(10);
    expect(Math.abs(s.validation.length - 1797 * 0.15)).toBeLessThanOrEqual(10);
    expect(Math.abs(s.test.length - 1797 * 0.15)).toBeLessThanOrEqual(10);
  });

  it('is deterministic for a seed and changes with the seed', () => {
    expect(stratifiedSplit(digits, 11)).toEqual(stratifiedSplit(digits, 11));
    const a = stratifiedSplit(digits, 11);
    const b = stratifiedSplit(digits, 12);
    expect(a.test).not.toEqual(b.test);
    // Different membership, not just a different order.
    const inA = new Set(a.test);
    const overlap = b.test.filter((r) => inA.has(r)).length;
    expect(overlap).toBeLessThan(b.test.length * 0.5);
  });

  it('interleaves classes within a part (rows are shuffled after dealing)', () => {
    const s = stratifiedSplit(digits, 5);
    const labels = s.train.map((r) => digits.y[r]!);
    let changes = 0;
    for (let i = 1; i < labels.length; i++) if (labels[i] !== labels[i - 1]) changes++;
    // Sorted by class there would be 9 changes; shuffled, ~90% of neighbours differ.
    expect(changes).toBeGreaterThan(labels.length * 0.8);
  });

  it('puts every class of at least 3 rows in training, validation and test', () => {
    const sizes = [3, 4, 5, 6, 100];
    const y = Int32Array.from(sizes.flatMap((n, k) => Array.from({ length: n }, () => k)));
    const small = {
      name: 'small',
      featureNames: ['a'],
      classNames: sizes.map((_, k) => `c${k}`),
      x: new Float32Array(y.length),
      y,
      rows: y.length,
      features: 1,
    };
    for (const seed of [0, 1, 2, 42]) {
      const s = stratifiedSplit(small, seed);
      for (const part of [s.train, s.validation, s.test])
        classCounts(y, part, sizes.length).forEach((c) => expect(c).toBeGreaterThanOrEqual(1));
      expect(s.train.length + s.validation.length + s.test.length).toBe(y.length);
      // The large class keeps its proportions.
      expect(classCounts(y, s.validation, sizes.length)[4]).toBe(15);
    }
  });

  it('normalises the fractions and honours custom ones', () => {
    expect(stratifiedSplit(digits, 9, { train: 7, validation: 1.5, test: 1.5 })).toEqual(
      stratifiedSplit(digits, 9, DEFAULT_FRACTIONS),
    );
    const s = stratifiedSplit(digits, 9, { train: 0.5, validation: 0.2, test: 0.3 });
    for (const [name, frac] of [
      ['train', 0.5],
      ['validation', 0.2],
      ['test', 0.3],
    ] as const) {
      const counts = classCounts(digits.y, s[name], 10);
      counts.forEach((c, k) => expect(Math.abs(c - CLASS_COUNTS[k]! * frac)).toBeLessThanOrEqual(1));
    }
  });
});

describe('computeStandardisation / standardise', () => {
  it('computes population mean and std per feature on a small block', () => {
    // 4 rows x 3 features; feature 2 is constant.
    const x = Float32Array.from([1, 10, 5, 2, 20, 5, 3, 30, 5, 4, 40, 5]);
    const s = computeStandardisation(x, 4, 3);
    expect(s.mean).toEqual([2.5, 25, 5]);
    expect(s.std[0]).toBeCloseTo(Math.sqrt(1.25), 12);
    expect(s.std[1]).toBeCloseTo(Math.sqrt(125), 12);
    expect(s.std[2]).toBe(1);
    const z = standardise(x, s);
    expect(z).toBeInstanceOf(Float32Array);
    expect(z).not.toBe(x);
    expect(z[0]).toBeCloseTo((1 - 2.5) / Math.sqrt(1.25), 6);
    expect(z[4]).toBeCloseTo((20 - 25) / Math.sqrt(125), 6);
    expect([z[2], z[5], z[8], z[11]]).toEqual([0, 0, 0, 0]);
    // The input is not modified.
    expect(Array.from(x)).toEqual([1, 10, 5, 2, 20, 5, 3, 30, 5, 4, 40, 5]);
  });
});

describe('prepareSplit', () => {
  it('uses statistics of the training rows only', () => {
    const seed = 2024;
    const split = prepareSplit(digits, seed);
    const idx = stratifiedSplit(digits, seed);
    const expected = statsOf(digits, idx.train);
    const whole = statsOf(
      digits,
      Array.from({ length: digits.rows }, (_, i) => i),
    );
    expect(split.standardisation.mean).toHaveLength(64);
    expect(split.standardisation.std).toHaveLength(64);
    let differsFromWhole = 0;
    for (let f = 0; f < 64; f++) {
      expect(split.standardisation.mean[f]).toBeCloseTo(expected.mean[f]!, 9);
      const sd = expected.std[f]! > 1e-12 ? expected.std[f]! : 1;
      expect(split.standardisation.std[f]).toBeCloseTo(sd, 9);
      if (Math.abs(whole.mean[f]! - expected.mean[f]!) > 1e-6) differsFromWhole++;
    }
    // Sanity: the test above would notice statistics computed over all rows.
    expect(differsFromWhole).toBeGreaterThan(30);
  });

  it('returns the split rows standardised with the training statistics, in split order', () => {
    const seed = 77;
    const split = prepareSplit(digits, seed);
    const idx = stratifiedSplit(digits, seed);
    const { mean, std } = split.standardisation;
    for (const name of ['train', 'validation', 'test'] as const) {
      const part = split[name];
      expect(part.rows).toBe(idx[name].length);
      expect(part.x.length).toBe(part.rows * 64);
      expect(Array.from(part.y)).toEqual(idx[name].map((r) => digits.y[r]!));
      for (const i of [0, 1, part.rows - 1]) {
        const raw = rowOf(digits.x, 64, idx[name][i]!);
        const got = rowOf(part.x, 64, i);
        raw.forEach((v, f) => expect(got[f]).toBeCloseTo((v - mean[f]!) / std[f]!, 5));
      }
    }
    expect(split.features).toBe(64);
    expect(split.classes).toBe(10);
    expect(split.seed).toBe(seed);
    expect(split.featureNames).toEqual(digits.featureNames);
  });

  it('gives the train part mean ~0 and std ~1 per non-constant feature; constant features get std 1', () => {
    const split = prepareSplit(digits, 1);
    const { train } = split;
    let constant = 0;
    for (let f = 0; f < 64; f++) {
      let sum = 0;
      let sq = 0;
      for (let r = 0; r < train.rows; r++) {
        const v = train.x[r * 64 + f]!;
        sum += v;
        sq += v * v;
      }
      const m = sum / train.rows;
      const sd = Math.sqrt(sq / train.rows - m * m);
      expect(Math.abs(m)).toBeLessThan(1e-5);
      if (split.standardisation.std[f] === 1 && sd < 1e-9) {
        constant++;
        // Constant columns map to exactly 0.
        for (let r = 0; r < train.rows; r++) expect(train.x[r * 64 + f]).toBe(0);
      } else {
        expect(Math.abs(sd - 1)).toBeLessThan(1e-4);
      }
    }
    // Pixel 0 is zero everywhere in digits.
    expect(split.standardisation.mean[0]).toBe(0);
    expect(split.standardisation.std[0]).toBe(1);
    expect(constant).toBeGreaterThanOrEqual(1);
    expect(split.standardisation.std.every((s) => Number.isFinite(s) && s > 0)).toBe(true);
  });

  it('validation/test parts are not themselves centred (no statistics leak from them)', () => {
    const split = prepareSplit(digits, 1);
    // A feature that varies: recompute the validation mean; it should be near, but not exactly, 0.
    let maxAbsMean = 0;
    for (let f = 0; f < 64; f++) {
      let sum = 0;
      for (let r = 0; r < split.validation.rows; r++) sum += split.validation.x[r * 64 + f]!;
      maxAbsMean = Math.max(maxAbsMean, Math.abs(sum / split.validation.rows));
    }
    expect(maxAbsMean).toBeGreaterThan(1e-3);
  });

  it('is deterministic for a seed and differs for another', () => {
    const a = prepareSplit(digits, 5);
    const b = prepareSplit(digits, 5);
    const c = prepareSplit(digits, 6);
    expect(a.train.x).toEqual(b.train.x);
    expect(a.test.y).toEqual(b.test.y);
    expect(a.standardisation).toEqual(b.standardisation);
    expect(a.standardisation.mean).not.toEqual(c.standardisation.mean);
  });
});

describe('majorityBaseline', () => {
  it('is the share of the most frequent class (lowest index on ties)', () => {
    expect(majorityBaseline(Int32Array.from([0, 1, 1, 2, 1]), 3)).toEqual({ accuracy: 0.6, classIndex: 1 });
    expect(majorityBaseline(Int32Array.from([2, 0, 2, 0]), 3)).toEqual({ accuracy: 0.5, classIndex: 0 });
  });
});
