/**
 * Grid search over a conditional space without materialising the grid: points are numbered in a fixed
 * lexicographic order (first declared parameter varies slowest, values in level order), and the i-th point is
 * found by descending through subtree sizes. An inactive parameter contributes no factor, so the grid is
 * exactly the set of distinct effective configurations at the chosen levels.
 */
import type { Assignment } from './assignment';
import { gridValues } from './distributions';
import { assignmentKey } from './assignment';
import { caseRefs, isActive, specialise, type Distribution, type SearchSpace } from './space';
import type { JsonValue } from './json';

export const DEFAULT_GRID_LEVELS = 3;

export class Grid {
  private readonly params: { name: string; dist: Distribution; levels: JsonValue[] }[];
  /** For each position k, the earlier parameters that some parameter at or after k is conditioned on. */
  private readonly relevant: string[][];
  private readonly memo = new Map<string, number>();
  readonly size: number;

  constructor(
    space: SearchSpace,
    readonly levels = DEFAULT_GRID_LEVELS,
  ) {
    this.params = Object.entries(space).map(([name, dist]) => ({ name, dist, levels: gridValues(dist, levels) }));
    this.relevant = this.params.map((_, k) =>
      [
        ...new Set(this.params.slice(k).flatMap((p) => [...Object.keys(p.dist.when ?? {}), ...caseRefs(p.dist)])),
      ].sort(),
    );
    this.size = this.count(0, {});
    if (!Number.isSafeInteger(this.size))
      throw new RangeError(`the grid is too large to number (${this.size} points); fix or narrow parameters`);
  }

  /** Completions of parameters k.. given the earlier values; memoised on the only earlier values that matter. */
  private count(k: number, partial: Assignment): number {
    if (k === this.params.length) return 1;
    const key = `${k}|${assignmentKey(Object.fromEntries(this.relevant[k]!.filter((n) => n in partial).map((n) => [n, partial[n]!])))}`;
    const cached = this.memo.get(key);
    if (cached !== undefined) return cached;
    const p = this.params[k]!;
    let total = 0;
    if (!isActive(p.dist, partial)) total = this.count(k + 1, partial);
    else for (const v of this.levelsAt(p, partial)) total += this.count(k + 1, { ...partial, [p.name]: v });
    this.memo.set(key, total);
    return total;
  }

  /** A parameter's levels given the earlier values (a range with `cases` has levels per case). */
  private levelsAt(p: { dist: Distribution; levels: JsonValue[] }, partial: Assignment): JsonValue[] {
    return caseRefs(p.dist).length ? gridValues(specialise(p.dist, partial), this.levels) : p.levels;
  }

  /** The index-th grid point (0-based). */
  point(index: number): Assignment {
    if (!Number.isInteger(index) || index < 0 || index >= this.size)
      throw new RangeError(`grid point ${index} is outside 0..${this.size - 1}`);
    let rest = index;
    const out: Assignment = {};
    for (let k = 0; k < this.params.length; k++) {
      const p = this.params[k]!;
      if (!isActive(p.dist, out)) continue;
      for (const v of this.levelsAt(p, out)) {
        const n = this.count(k + 1, { ...out, [p.name]: v });
        if (rest < n) {
          out[p.name] = v;
          break;
        }
        rest -= n;
      }
    }
    return out;
  }

  /** Whether an assignment is one of the grid's points (same active keys, every value a level). */
  has(params: Assignment): boolean {
    const out: Assignment = {};
    for (const p of this.params) {
      if (!isActive(p.dist, out)) continue;
      if (!(p.name in params)) return false;
      const key = assignmentKey({ v: params[p.name]! });
      const level = this.levelsAt(p, out).find((l) => assignmentKey({ v: l }) === key);
      if (level === undefined) return false;
      out[p.name] = level;
    }
    return Object.keys(params).length === Object.keys(out).length;
  }
}

export function gridSize(space: SearchSpace, levels = DEFAULT_GRID_LEVELS): number {
  return new Grid(space, levels).size;
}
