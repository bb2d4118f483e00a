/**
 * How many mini-batches a training-session slice trains: as many as fit a time target, from the time the
 * previous slices took per batch.
 *
 * On the platform Date.now() and performance.now() stand still during synchronous compute and advance
 * only across I/O, so a slice is timed from before it starts computing to after an awaited storage
 * round-trip that follows it (functions/durable/training-session.ts); the figure includes that commit,
 * which is what a slice costs anyway. Before anything is measured, a cost model with a deliberately low
 * throughput sizes the first slice, so it errs towards short.
 */

/**
 * The wall time a slice aims for. The object answers no request while a slice computes, so this bounds
 * how long an adjust or pause waits; it is far below the 30 s after which the platform resets an object
 * that blocks (and below the default 30 s CPU limit of an invocation).
 */
export const SLICE_TARGET_MS = 5_000;

/**
 * Throughput assumed before the first measurement: 1 GFLOP/s, 20-40x below what the wasm SIMD matmuls
 * reach on one core (BENCHMARKS.md), so an unmeasured first slice is short rather than long.
 */
const ASSUMED_FLOPS_PER_MS = 1e6;

export interface SlicePace {
  /** Milliseconds per mini-batch: measured over the last slice, or estimated before the first. */
  msPerBatch: number;
  /** 'io-boundary': measured across awaited I/O; 'estimate': the cost model (nothing measured yet). */
  source: 'io-boundary' | 'estimate';
  /** The last slice as measured: batches, milliseconds from its start to its committed write. */
  last: { batches: number; ms: number } | null;
}

/** Forward (2 flops per weight and row), backward (4) and the optimizer's pass over the parameters. */
export function estimatedPace(floats: number, batchSize: number): SlicePace {
  const flops = 6 * floats * batchSize + 20 * floats;
  return { msPerBatch: flops / ASSUMED_FLOPS_PER_MS, source: 'estimate', last: null };
}

/** Mini-batches for the next slice: at least one, at most `maxBatches`, about `targetMs` long. */
export function sliceBatches(pace: SlicePace, maxBatches: number, targetMs = SLICE_TARGET_MS): number {
  const fit = Math.floor(targetMs / Math.max(pace.msPerBatch, 1e-3));
  return Math.max(1, Math.min(maxBatches, fit));
}

/**
 * The pace after a slice of `batches` batches took `ms`. A clock that did not move (ms <= 0: no I/O
 * boundary was crossed, or a coarse clock) measures nothing, and the previous pace stays.
 */
export function measuredPace(previous: SlicePace, batches: number, ms: number): SlicePace {
  if (!(ms > 0) || batches <= 0) return { ...previous, last: { batches, ms } };
  return { msPerBatch: ms / batches, source: 'io-boundary', last: { batches, ms } };
}

/**
 * A slice's measured time shared among the epochs it trained, by mini-batch (validation included, spread
 * over them): each of `records` (this slice's completed epochs, holding what earlier slices gave them) gets
 * `epochBatches[i]` batches' worth, and the epoch left in progress the rest, added to `cursorMs`. The
 * slice's time is the only one that moves on Workers (see measuredPace); a clock that did not move shares
 * nothing.
 */
export function shareSliceTime<R extends { ms: number }>(
  slice: { batches: number; epochBatches: readonly number[] },
  ms: number,
  records: readonly R[],
  cursorMs: number | null,
): { records: R[]; cursorMs: number | null } {
  if (records.length !== slice.epochBatches.length)
    throw new Error(`${records.length} records for ${slice.epochBatches.length} epochs of the slice`);
  if (!(ms > 0) || slice.batches <= 0) return { records: [...records], cursorMs };
  const perBatch = ms / slice.batches;
  const inEpochs = slice.epochBatches.reduce((a, b) => a + b, 0);
  return {
    records: records.map((r, i) => ({ ...r, ms: r.ms + slice.epochBatches[i]! * perBatch })),
    cursorMs: cursorMs === null ? null : cursorMs + (slice.batches - inEpochs) * perBatch,
  };
}
