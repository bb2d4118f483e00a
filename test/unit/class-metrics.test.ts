import { describe, expect, it } from 'vitest';
import { classMetrics } from '../../models/scoring';

describe('classMetrics', () => {
  it('a model that never answers the rare class: high accuracy, low balanced accuracy and macro-F1', () => {
    // 95 common rows all right; 5 rare rows all called common.
    const m = classMetrics([
      [95, 0],
      [5, 0],
    ]);
    expect(m.recall).toEqual([1, 0]);
    expect(m.precision).toEqual([0.95, null]);
    expect(m.balancedAccuracy).toBe(0.5);
    expect(m.macroF1).toBeCloseTo((2 * 0.95) / 1.95 / 2, 12);
  });

  it('per-class figures by hand on a 3-class matrix; a class without rows is left out of the means', () => {
    const m = classMetrics([
      [8, 2, 0],
      [1, 3, 0],
      [0, 0, 0],
    ]);
    expect(m.recall).toEqual([0.8, 0.75, null]);
    expect(m.precision).toEqual([8 / 9, 3 / 5, null]);
    expect(m.balancedAccuracy).toBeCloseTo((0.8 + 0.75) / 2, 12);
    const f1 = (p: number, r: number) => (2 * p * r) / (p + r);
    expect(m.macroF1).toBeCloseTo((f1(8 / 9, 0.8) + f1(0.6, 0.75)) / 2, 12);
  });
});
