import { describe, expect, it } from 'vitest';
import { estimatedPace, measuredPace, shareSliceTime, SLICE_TARGET_MS, sliceBatches } from '../../models/session-pace';

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

  it("shares a slice's time among its epochs by mini-batch, on top of what earlier slices gave them", () => {
    // 10 batches in 200 ms: 3 finish an epoch begun by an earlier slice (which gave it 50 ms), 4 make a whole
    // epoch, 3 start the next one (in progress, nothing yet).
    const slice = { batches: 10, epochBatches: [3, 4] };
    const shared = shareSliceTime(
      slice,
      200,
      [
        { epoch: 1, ms: 50 },
        { epoch: 2, ms: 0 },
      ],
      0,
    );
    expect(shared.records).toEqual([
      { epoch: 1, ms: 110 },
      { epoch: 2, ms: 80 },
    ]);
    expect(shared.cursorMs).toBe(60);
    // All of it inside one epoch still in progress.
    expect(shareSliceTime({ batches: 5, epochBatches: [] }, 100, [], 40)).toEqual({ records: [], cursorMs: 140 });
    // Ending on an epoch boundary: no cursor to give to.
    expect(shareSliceTime({ batches: 4, epochBatches: [4] }, 40, [{ ms: 0 }], null)).toEqual({
      records: [{ ms: 40 }],
      cursorMs: null,
    });
  });

  it('a clock that did not move shares nothing, and records must match the slice', () => {
    const records = [{ ms: 7 }];
    expect(shareSliceTime({ batches: 3, epochBatches: [3] }, 0, records, null)).toEqual({ records, cursorMs: null });
    expect(() => shareSliceTime({ batches: 3, epochBatches: [2] }, 10, [], 0)).toThrow(/0 records for 1 epochs/);
  });
});
