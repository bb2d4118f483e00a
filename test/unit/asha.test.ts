import { describe, expect, it } from 'vitest';
import { ashaDecision, ashaRungs } from '../../shared/study/asha';
import { bestPromotable, progressOf, rank } from '../../shared/study/leaderboard';
import type { TrialRecord } from '../../shared/study/types';

describe('ASHA rungs', () => {
  it('are minEpochs * eta^k strictly below the budget', () => {
    expect(ashaRungs({ minEpochs: 1, reductionFactor: 3 }, 27)).toEqual([1, 3, 9]);
    expect(ashaRungs({ minEpochs: 1, reductionFactor: 3 }, 28)).toEqual([1, 3, 9, 27]);
    expect(ashaRungs({ minEpochs: 2, reductionFactor: 2 }, 20)).toEqual([2, 4, 8, 16]);
    expect(ashaRungs({ minEpochs: 5, reductionFactor: 3 }, 5)).toEqual([]);
  });
});

describe('the asynchronous successive-halving rule', () => {
  it('keeps the top max(1, floor(n/eta)) of the values at the rung so far, the new one included', () => {
    // n = 1: alone at the rung, it continues.
    expect(ashaDecision(0.1, [], 3)).toBe('continue');
    // n = 2: keep 1, so only a new best continues.
    expect(ashaDecision(0.5, [0.6], 3)).toBe('stop');
    expect(ashaDecision(0.7, [0.6], 3)).toBe('continue');
    // n = 6: keep 2.
    expect(ashaDecision(0.85, [0.9, 0.8, 0.7, 0.6, 0.5], 3)).toBe('continue');
    expect(ashaDecision(0.75, [0.9, 0.8, 0.7, 0.6, 0.5], 3)).toBe('stop');
  });

  it('lets ties with the k-th best continue and stops non-finite values', () => {
    expect(ashaDecision(0.6, [0.6], 3)).toBe('continue');
    expect(ashaDecision(Number.NaN, [], 3)).toBe('stop');
  });

  it('replayed over a stream, continues about 1/eta of the trials', () => {
    const values = Array.from({ length: 90 }, (_, i) => ((i * 37) % 90) / 90);
    let kept = 0;
    values.forEach((v, i) => (kept += ashaDecision(v, values.slice(0, i), 3) === 'continue' ? 1 : 0));
    expect(kept).toBeGreaterThan(15);
    expect(kept).toBeLessThan(45);
  });
});

describe('pruned trials in the aggregation', () => {
  const record = (
    trial: number,
    status: TrialRecord['status'],
    valAccuracy: number | null,
    extra: Partial<TrialRecord> = {},
  ): TrialRecord =>
    ({
      trial,
      status,
      final: valAccuracy === null ? null : { valAccuracy, valLoss: 1 - valAccuracy },
      history: [],
      params: {},
      config: {},
      weightsKey: status === 'complete' ? `w/${trial}` : null,
      ...extra,
    }) as unknown as TrialRecord;

  it('are finished, rank after every complete trial and before diverged/failed ones, and are never promotable', () => {
    const records = [
      record(0, 'pruned', 0.99, { prunedAtEpoch: 1 }),
      record(1, 'complete', 0.5),
      record(2, 'failed', null),
      record(3, 'pruned', 0.6, { prunedAtEpoch: 3 }),
    ];
    expect(rank(records).map((e) => e.trial)).toEqual([1, 0, 3, 2]);
    expect(rank(records).find((e) => e.trial === 3)!.prunedAtEpoch).toBe(3);
    expect(bestPromotable(records)!.trial).toBe(1);
    // Even a pruned record that somehow carries a weights key is not a candidate.
    expect(bestPromotable([record(0, 'pruned', 0.99, { weightsKey: 'w/0' })])).toBeNull();
    expect(progressOf(['pruned', 'complete', 'running'])).toEqual({
      total: 3,
      pending: 0,
      running: 1,
      complete: 1,
      pruned: 1,
      diverged: 0,
      failed: 0,
    });
  });
});
