/**
 * Population stability index of served inputs against the training distribution, per feature.
 *
 * Numeric features are cut at the training values' quantiles (deciles by default). Ties collapse
 * edges, so a feature that is mostly one value (a blank digits pixel) gets fewer, honest bins rather
 * than ten bins that split one value arbitrarily. Bin i holds edges[i-1] < v <= edges[i]; the first and
 * last bins are open. PSI = sum over bins of (a - e) ln(a / e) with the shares smoothed so an empty bin
 * contributes a large but finite term.
 */

export const DEFAULT_BINS = 10;
/** The conventional reading: < 0.1 stable, 0.1-0.2 moderate, > 0.2 a shift worth acting on. */
export const DEFAULT_PSI_THRESHOLD = 0.2;
/** Fewer served rows than this say nothing: PSI of a small sample is dominated by noise. */
export const MIN_DRIFT_ROWS = 100;
const EPSILON = 1e-4;

/**
 * Inner cut points at the training values' quantiles (sorted, distinct; empty for a constant feature).
 * Each cut lies halfway between the quantile value and the next larger training value, so a served value
 * equal to a training value falls in that value's bin even when one side was reconstructed in float32
 * (2.9999998 against 3).
 */
export function quantileEdges(values: ArrayLike<number>, bins = DEFAULT_BINS): number[] {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const q = Math.min(n - 1, Math.floor((k * n) / bins));
    const v = sorted[q]!;
    let next = q + 1;
    while (next < n && sorted[next]! <= v) next++;
    // No larger value: an edge here would leave an always-empty last bin.
    if (next >= n) break;
    const edge = (v + sorted[next]!) / 2;
    if (edges.length === 0 || edge > edges[edges.length - 1]!) edges.push(edge);
  }
  return edges;
}

/** The bin of `v`: the number of edges strictly below it (so bins = edges.length + 1). */
export function binOf(edges: readonly number[], v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function histogram(edges: readonly number[], values: ArrayLike<number>): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) counts[binOf(edges, values[i]!)]! += 1;
  return counts;
}

/** PSI between two count vectors over the same bins. */
export function psi(expected: readonly number[], actual: readonly number[]): number {
  if (expected.length !== actual.length) throw new RangeError(`bins differ: ${expected.length} vs ${actual.length}`);
  const te = expected.reduce((a, b) => a + b, 0);
  const ta = actual.reduce((a, b) => a + b, 0);
  if (te === 0 || ta === 0) return 0;
  let sum = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i]! / te, EPSILON);
    const a = Math.max(actual[i]! / ta, EPSILON);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}
