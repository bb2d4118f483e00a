import { describe, expect, it } from 'vitest';
import { estimatedPace, measuredPace, SLICE_TARGET_MS, sliceBatches } from '../../models/session-pace';

describe('session slice pacing', () => {
  it('sizes a slice to the time target from the measured time per batch, within [1, max]', () => {
    const pace = measuredPace(estimatedPace(1000, 32), 10, 500); // 50 ms per batch
    expect(pace).toEqual({ msPerBatch: 50, source: 'io-boundary', last: { batches: 10, ms: 500 } });
    expect(sliceBatches(pace, 1000)).toBe(SLICE_TARGET_MS / 50);
    expect(sliceBatches(pace, 7)).toBe(7);
    expect(sliceBatches(pace, 1000, 120)).toBe(2);
    // A batch longer than the target still trains: one batch per slice.
    expect(sliceBatches(measuredPace(pace, 1, 60_000), 1000)).toBe(1);
  });

  it('a clock that did not move measures nothing: the previous pace stays', () => {
    const pace = measuredPace(estimatedPace(1000, 32), 4, 200);
    expect(measuredPace(pace, 8, 0)).toEqual({ ...pace, last: { batches: 8, ms: 0 } });
    expect(measuredPace(pace, 0, 100).msPerBatch).toBe(50);
  });

  it('before any measurement, the cost model errs long: 2.9 M parameters at batch 64 is over a second per batch', () => {
    const big = estimatedPace(2_918_403, 64);
    expect(big.source).toBe('estimate');
    expect(big.msPerBatch).toBeGreaterThan(1000);
    expect(sliceBatches(big, 100)).toBeLessThanOrEqual(4);
    // A small network on digits: many batches fit, so the epoch cap decides.
    expect(sliceBatches(estimatedPace(2_500, 64), 40)).toBe(40);
  });
});
