/**
 * Coarse-to-fine search: new trials are drawn close to the best configurations of an earlier study.
 * Numeric parameters get a window of width `shrink` in unit space centred on the incumbent's value (clipped
 * to [0, 1], so a window at an edge is narrower rather than shifted); categorical and const parameters keep the
 * incumbent's value with probability `keepProbability`, else are drawn from the whole prior. Parameters the
 * incumbent did not have (inactive there, or no longer possible) use the whole prior.
 *
 * Zero-able floats follow the same rule on their unit mapping, where 0 owns [0, zeroProbability): an
 * incumbent at 0 stays at 0 unless shrink > zeroProbability, and one near the bottom of the range may turn 0.
 */
import type { Assignment } from './assignment';
import { contains, fromUnit, ONE_BELOW, toUnit, valueBounds } from './distributions';
import type { JsonValue } from './json';
import { specialise, type Distribution, type SearchSpace } from './space';

export const DEFAULT_SHRINK = 0.25;
export const DEFAULT_KEEP_PROBABILITY = 0.8;

export interface Incumbent {
  params: Assignment;
  score: number;
}

export type LocalRange =
  /** Numeric: draws are uniform in [unitLow, unitHigh) of unit space, so values lie in [low, high]. */
  | { kind: 'window'; centre: number; unitLow: number; unitHigh: number; low: number; high: number }
  /** Categorical/const: the incumbent's value, kept with the given probability. */
  | { kind: 'keep'; value: JsonValue; keepProbability: number };

/** Clamps a numeric incumbent that lies outside the (possibly narrowed) range onto its nearest end. */
function incumbentUnit(dist: Distribution, value: JsonValue): number | undefined {
  if (dist.type !== 'float' && dist.type !== 'int') return undefined;
  if (contains(dist, value)) return toUnit(dist, value);
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  const [low, high] = valueBounds(dist);
  return value < low ? 0 : value > high ? ONE_BELOW : undefined;
}

/** The shrunken range of every parameter the incumbent can anchor; the others are sampled from their prior. */
export function localRanges(
  space: SearchSpace,
  incumbent: Assignment,
  shrink = DEFAULT_SHRINK,
  keepProbability = DEFAULT_KEEP_PROBABILITY,
): Record<string, LocalRange> {
  if (!(shrink > 0 && shrink <= 1)) throw new RangeError(`shrink must be in (0, 1] (got ${shrink})`);
  const out: Record<string, LocalRange> = {};
  for (const [name, general] of Object.entries(space)) {
    if (!(name in incumbent)) continue;
    // The incumbent's own case of a range that depends on earlier values.
    const dist = specialise(general, incumbent);
    const value = incumbent[name]!;
    if (dist.type === 'categorical' || dist.type === 'const') {
      if (contains(dist, value)) out[name] = { kind: 'keep', value, keepProbability };
      continue;
    }
    const centre = incumbentUnit(dist, value);
    if (centre === undefined) continue;
    const unitLow = Math.max(0, centre - shrink / 2);
    const unitHigh = Math.min(1, centre + shrink / 2);
    const low = fromUnit(dist, unitLow) as number;
    const high = fromUnit(dist, windowTop(unitHigh)) as number;
    out[name] = { kind: 'window', centre, unitLow, unitHigh, low, high };
  }
  return out;
}

/**
 * One parameter's local draw from two uniforms: `uKeep` decides keep-or-resample for categoricals, `u` places
 * the value. Both are always consumed by the caller so the streams of later parameters stay aligned.
 */
export function localValue(dist: Distribution, range: LocalRange | undefined, uKeep: number, u: number): JsonValue {
  // A window from another case of the range (the switch it depends on was redrawn) does not apply.
  if (range?.kind === 'window' && !(contains(dist, range.low) && contains(dist, range.high))) return fromUnit(dist, u);
  if (!range) return fromUnit(dist, u);
  if (range.kind === 'keep') return uKeep < range.keepProbability ? range.value : fromUnit(dist, u);
  return fromUnit(dist, range.unitLow + u * (windowTop(range.unitHigh) - range.unitLow));
}

/**
 * Draws stop a hair below the window's top, and `high` is the value there: a window ending exactly on an int
 * bucket boundary then reports the last bucket it can reach, not the next one, and the bound is exact.
 */
function windowTop(unitHigh: number): number {
  return Math.min(unitHigh, ONE_BELOW) - 1e-12;
}

/** Incumbents best first (stable for ties, so the order is reproducible). */
export function rankIncumbents(
  incumbents: readonly Incumbent[],
  direction: 'maximize' | 'minimize',
  topK?: number,
): Incumbent[] {
  const sign = direction === 'maximize' ? -1 : 1;
  const ranked = incumbents
    .map((inc, i) => ({ inc, i }))
    .sort((a, b) => sign * (a.inc.score - b.inc.score) || a.i - b.i)
    .map((x) => x.inc);
  return topK === undefined ? ranked : ranked.slice(0, topK);
}
