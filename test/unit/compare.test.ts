import { describe, expect, it } from 'vitest';
import {
  binomialTwoSidedP,
  compareOnRows,
  decidePromotion,
  mcnemarExactP,
  pairCounts,
  type Comparison,
} from '../../shared/study/compare';

// Reference values: p = min(1, 2 * sum_{i <= min(b, c)} C(b + c, i) / 2^(b + c)), computed exactly with
// rational arithmetic (Python fractions + math.comb) and rounded once to a double.
const REFERENCE: [b: number, c: number, p: number][] = [
  [1, 0, 1], // 2 * 1/2, capped
  [0, 6, 0.03125], // 2 / 64
  [0, 5, 0.0625], // 2 / 32: five rows all one way is not enough at 0.05
  [1, 5, 0.21875], // 2 * (1 + 6) / 64
  [2, 10, 0.03857421875], // 2 * (1 + 12 + 66) / 4096
  [0, 20, 1.9073486328125e-6], // 2 / 2^20
  [5, 5, 1],
  [3, 4, 1],
  [40, 60, 0.05688793364098079],
  [100, 140, 0.011664092317677663],
  [1400, 1500, 0.06598734966518381],
  [0, 1000, 1.8665272370064378e-301], // 2 / 2^1000: the tail survives in log space
];

describe("McNemar's exact test", () => {
  for (const [b, c, p] of REFERENCE) {
    it(`b=${b}, c=${c}: p = ${p}`, () => {
      expect(mcnemarExactP(b, c) / p).toBeCloseTo(1, 10);
      // Symmetric in which model is which.
      expect(mcnemarExactP(c, b)).toBe(mcnemarExactP(b, c));
    });
  }

  it('no discordant rows: no evidence either way (p = 1)', () => {
    expect(mcnemarExactP(0, 0)).toBe(1);
    expect(binomialTwoSidedP(0, 0)).toBe(1);
  });

  it('the two-sided binomial is a probability and falls monotonically into the tail', () => {
    let last = 1;
    for (let k = 15; k >= 0; k--) {
      const p = binomialTwoSidedP(k, 30);
      expect(p).toBeLessThanOrEqual(last);
      expect(p).toBeGreaterThan(0);
      last = p;
    }
    expect(binomialTwoSidedP(15, 30)).toBe(1);
  });

  it('rejects impossible counts', () => {
    expect(() => binomialTwoSidedP(3, 2)).toThrow(RangeError);
    expect(() => binomialTwoSidedP(-1, 2)).toThrow(RangeError);
    expect(() => binomialTwoSidedP(0.5, 2)).toThrow(RangeError);
  });
});

describe('paired counts', () => {
  it('counts hits and both kinds of discordant rows', () => {
    const champion = Uint8Array.from([1, 1, 0, 0, 1, 0]);
    const challenger = Uint8Array.from([1, 0, 1, 0, 1, 1]);
    expect(pairCounts(champion, challenger)).toEqual({
      rows: 6,
      championHits: 3,
      challengerHits: 4,
      discordant: { championOnly: 1, challengerOnly: 2 },
    });
  });

  it('refuses vectors over different rows', () => {
    expect(() => pairCounts(new Uint8Array(3), new Uint8Array(4))).toThrow(/paired rows differ/);
  });
});

/** Correctness vectors over `rows` rows: both right except where listed. */
function vectors(rows: number, championWrong: number[], challengerWrong: number[]) {
  const champion = new Uint8Array(rows).fill(1);
  const challenger = new Uint8Array(rows).fill(1);
  for (const r of championWrong) champion[r] = 0;
  for (const r of challengerWrong) challenger[r] = 0;
  return { champion, challenger };
}
const where = { championVersion: 3, dataset: 'digits', datasetVersion: 'embedded' };
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe('the promotion decision', () => {
  const settings = { margin: 0, significance: 0.05 };

  it('records the evidence fields', () => {
    const { champion, challenger } = vectors(250, range(0, 10), range(5, 2));
    const c = compareOnRows(where, champion, challenger);
    expect(c).toEqual({
      comparable: true,
      championVersion: 3,
      split: 'test',
      dataset: 'digits',
      datasetVersion: 'embedded',
      rows: 250,
      championAccuracy: 240 / 250,
      challengerAccuracy: 248 / 250,
      // Rows 5 and 6 both miss; 0-4 and 7-9 only the champion misses.
      discordant: { championOnly: 0, challengerOnly: 8 },
      pValue: expect.closeTo(2 / 256, 15),
    });
  });

  it('better by one row of 250 (0.4 pt) is not promoted at 0.05: p = 1', () => {
    const { champion, challenger } = vectors(250, [17], []);
    const c = compareOnRows(where, champion, challenger);
    expect(c.challengerAccuracy - c.championAccuracy).toBeCloseTo(0.004, 12);
    expect(c.pValue).toBe(1);
    const d = decidePromotion(c, settings);
    expect(d.promote).toBe(false);
    expect(d.reason).toMatch(/not significantly at 0\.05/);
  });

  it('clearly better (20 rows only the challenger gets right, 2 only the champion) is promoted', () => {
    const { champion, challenger } = vectors(250, range(0, 20), range(100, 2));
    const c = compareOnRows(where, champion, challenger);
    expect(c.discordant).toEqual({ championOnly: 2, challengerOnly: 20 });
    expect(c.pValue).toBeLessThan(0.001);
    const d = decidePromotion(c, settings);
    expect(d).toMatchObject({ promote: true });
    expect(d.reason).toMatch(/significant at 0\.05/);
  });

  it('the significance level is the one configured', () => {
    // b=0, c=6: p = 0.03125 passes at 0.05 but not at 0.01.
    const { champion, challenger } = vectors(250, range(0, 6), []);
    const c = compareOnRows(where, champion, challenger);
    expect(decidePromotion(c, { margin: 0, significance: 0.05 }).promote).toBe(true);
    expect(decidePromotion(c, { margin: 0, significance: 0.01 }).promote).toBe(false);
  });

  it('the margin is on the accuracy difference, in addition to the test', () => {
    // 30 of 250 rows better (12 pt), overwhelmingly significant, but not better by more than 0.15.
    const { champion, challenger } = vectors(250, range(0, 30), []);
    const c = compareOnRows(where, champion, challenger);
    expect(decidePromotion(c, { margin: 0.1, significance: 0.05 }).promote).toBe(true);
    const d = decidePromotion(c, { margin: 0.15, significance: 0.05 });
    expect(d.promote).toBe(false);
    expect(d.reason).toMatch(/not better by more than the margin 0\.15/);
  });

  it('a worse or equal challenger is never promoted, however significant', () => {
    const { champion, challenger } = vectors(250, [], range(0, 40));
    const c: Comparison = compareOnRows(where, champion, challenger);
    expect(c.pValue).toBeLessThan(1e-10);
    expect(decidePromotion(c, settings).promote).toBe(false);
    const same = compareOnRows(where, new Uint8Array(10).fill(1), new Uint8Array(10).fill(1));
    expect(decidePromotion(same, settings).promote).toBe(false);
  });

  it('no champion: promoted; a champion that is not comparable: kept, with the reason', () => {
    expect(decidePromotion(null, settings)).toEqual({ promote: true, reason: 'no current champion' });
    const d = decidePromotion(
      { comparable: false, championVersion: 2, dataset: 'tbl', datasetVersion: 'v9', reason: 'feature "x" is gone' },
      settings,
    );
    expect(d.promote).toBe(false);
    expect(d.reason).toBe('champion v2 is not comparable on tbl@v9: feature "x" is gone');
  });
});
