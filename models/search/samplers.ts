/**
 * Samplers propose the assignment of trial i. Every sampler is a pure function of (space, spec, i):
 *
 * - Random and local draws for trial i come from Rng(mixSeed(seed, stream, i, attempt)), nothing else.
 * - Duplicates: trial i must differ from trials 0..i-1 (and from `exclude`). Because those earlier trials are
 *   themselves pure functions of their numbers, a sampler recomputes them (memoised) instead of being told
 *   about them. So a worker can ask for trial 57 alone, in any order and in parallel with others, and gets
 *   the same answer a sequential run would. Attempt a of trial i is a fresh draw seeded (seed, i, a); the
 *   first attempt whose canonical key is new wins. If `maxAttempts` draws all collide (a nearly exhausted
 *   discrete space), attempt 0 is returned with `duplicate: true` and the caller decides.
 * - Warm start: `enqueued` assignments are trials 0..k-1, as given; sampling continues at trial k.
 * - Grid: trial k + j is the j-th grid point that is not already enqueued or excluded; `size` is exact.
 */
import { z } from 'zod';
import { mixSeed, Rng } from '../random';
import { type Assignment, AssignmentSchema, assignmentKey, buildAssignment, toConfig } from './assignment';
import { fromUnit } from './distributions';
import { DEFAULT_GRID_LEVELS, Grid } from './grid';
import {
  DEFAULT_KEEP_PROBABILITY,
  DEFAULT_SHRINK,
  type Incumbent,
  type LocalRange,
  localRanges,
  localValue,
  rankIncumbents,
} from './local';
import type { SearchSpace } from './space';

export const DEFAULT_MAX_ATTEMPTS = 100;

/** Distinct salts so a random and a local study with the same seed do not share streams. */
const STREAM = { random: 0x52414e44, local: 0x4c4f4341 } as const;

const Seed = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const common = {
  /** Evaluated first, as trials 0..k-1 (warm start). */
  enqueued: z.array(AssignmentSchema).optional(),
  /** Configurations never to propose (e.g. trials of an earlier study). */
  exclude: z.array(AssignmentSchema).optional(),
  maxAttempts: z.number().int().min(1).max(10_000).optional(),
};
const IncumbentSchema = z.strictObject({ params: AssignmentSchema, score: z.number() });

export const SamplerSpecSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('random'), seed: Seed, ...common }),
  z.strictObject({ kind: z.literal('grid'), gridLevels: z.number().int().min(1).max(64).optional(), ...common }),
  z.strictObject({
    kind: z.literal('local'),
    seed: Seed,
    incumbents: z.array(IncumbentSchema).min(1, 'local search needs at least one incumbent'),
    /** Best first by score in this direction; trial i is centred on incumbent i mod topK. */
    direction: z.enum(['maximize', 'minimize']).optional(),
    topK: z.number().int().min(1).optional(),
    shrink: z.number().gt(0).max(1).optional(),
    keepProbability: z.number().min(0).max(1).optional(),
    ...common,
  }),
]);
export type SamplerSpec = z.infer<typeof SamplerSpecSchema>;
export type SamplerKind = SamplerSpec['kind'];

export interface Suggestion {
  trial: number;
  params: Assignment;
  /** Canonical key of params (what duplicate detection compares). */
  key: string;
  source: 'enqueued' | SamplerKind;
  /** Draws it took to find a new configuration (0 for enqueued and grid trials). */
  attempts: number;
  /** True only when no new configuration was found within maxAttempts (or an enqueued one repeats). */
  duplicate: boolean;
}

export interface Sampler {
  readonly kind: SamplerKind;
  /** How many trials the sampler can propose, or null when unbounded (random, local). */
  readonly size: number | null;
  sample(trial: number): Suggestion;
}

/**
 * Shared memoised sequence: trial i is computed after 0..i-1 so that it can avoid them; the result depends only
 * on i because each earlier trial does too.
 */
abstract class SequenceSampler implements Sampler {
  abstract readonly kind: SamplerKind;
  abstract readonly size: number | null;
  private readonly done: Suggestion[] = [];
  protected readonly seen = new Set<string>();
  protected readonly enqueued: Assignment[];

  constructor(
    protected readonly space: SearchSpace,
    spec: { enqueued?: Assignment[]; exclude?: Assignment[] },
  ) {
    this.enqueued = spec.enqueued ?? [];
    for (const a of this.enqueued) checkAssignment(a, 'enqueued');
    for (const a of spec.exclude ?? []) this.seen.add(assignmentKey(a));
  }

  sample(trial: number): Suggestion {
    if (!Number.isSafeInteger(trial) || trial < 0)
      throw new RangeError(`trial must be a non-negative integer (got ${trial})`);
    if (this.size !== null && trial >= this.size)
      throw new RangeError(`the ${this.kind} sampler has only ${this.size} trials (asked for trial ${trial})`);
    while (this.done.length <= trial) {
      const i = this.done.length;
      const s = i < this.enqueued.length ? this.fromQueue(i) : this.next(i);
      this.seen.add(s.key);
      this.done.push(s);
    }
    return this.done[trial]!;
  }

  private fromQueue(i: number): Suggestion {
    const params = this.enqueued[i]!;
    const key = assignmentKey(params);
    return { trial: i, params, key, source: 'enqueued', attempts: 0, duplicate: this.seen.has(key) };
  }

  /** Trial i (past the queue), given that `seen` holds the keys of all earlier trials and exclusions. */
  protected abstract next(i: number): Suggestion;
}

/** Draw-until-new, shared by the seeded samplers. */
abstract class SeededSampler extends SequenceSampler {
  readonly size = null;

  private readonly maxAttempts: number;

  constructor(
    space: SearchSpace,
    spec: { enqueued?: Assignment[]; exclude?: Assignment[]; maxAttempts?: number },
    protected readonly seed: number,
  ) {
    super(space, spec);
    this.maxAttempts = spec.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  }

  protected abstract draw(trial: number, rng: Rng): Assignment;
  protected abstract readonly stream: number;

  protected next(i: number): Suggestion {
    let first: Assignment | undefined;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const params = this.draw(i, new Rng(mixSeed(this.seed, this.stream, i, attempt)));
      const key = assignmentKey(params);
      if (!this.seen.has(key))
        return { trial: i, params, key, source: this.kind, attempts: attempt + 1, duplicate: false };
      first ??= params;
    }
    return {
      trial: i,
      params: first!,
      key: assignmentKey(first!),
      source: this.kind,
      attempts: this.maxAttempts,
      duplicate: true,
    };
  }
}

export class RandomSampler extends SeededSampler {
  readonly kind = 'random' as const;
  protected readonly stream = STREAM.random;

  protected draw(_trial: number, rng: Rng): Assignment {
    return priorDraw(this.space, rng);
  }
}

/** One draw from the space's prior: one uniform per parameter, active or not, so later draws stay aligned. */
export function priorDraw(space: SearchSpace, rng: Rng): Assignment {
  return buildAssignment(space, (_name, dist) => fromUnit(dist, rng.next()));
}

/**
 * Attempt `attempt` of random search's trial `trial`: the same stream RandomSampler uses, so another sampler's
 * random start-up trials are exactly random search's trials with the same seed (a paired comparison).
 */
export function randomDraw(space: SearchSpace, seed: number, trial: number, attempt: number): Assignment {
  return priorDraw(space, new Rng(mixSeed(seed, STREAM.random, trial, attempt)));
}

export class GridSampler extends SequenceSampler {
  readonly kind = 'grid' as const;
  readonly size: number;
  readonly grid: Grid;
  private cursor = 0;

  constructor(space: SearchSpace, spec: { gridLevels?: number; enqueued?: Assignment[]; exclude?: Assignment[] }) {
    super(space, spec);
    this.grid = new Grid(space, spec.gridLevels ?? DEFAULT_GRID_LEVELS);
    // Skipped grid points are exactly the distinct enqueued/excluded configurations that lie on the grid.
    const skipped = new Set<string>();
    for (const a of [...this.enqueued, ...(spec.exclude ?? [])]) if (this.grid.has(a)) skipped.add(assignmentKey(a));
    this.size = this.enqueued.length + this.grid.size - skipped.size;
  }

  protected next(i: number): Suggestion {
    for (;;) {
      const params = this.grid.point(this.cursor++);
      const key = assignmentKey(params);
      if (!this.seen.has(key)) return { trial: i, params, key, source: 'grid', attempts: 0, duplicate: false };
    }
  }
}

export class LocalSampler extends SeededSampler {
  readonly kind = 'local' as const;
  protected readonly stream = STREAM.local;
  readonly incumbents: Incumbent[];
  private readonly ranges: Record<string, LocalRange>[];

  constructor(space: SearchSpace, spec: Extract<SamplerSpec, { kind: 'local' }>) {
    // Re-running an incumbent would waste a trial, so they count as already seen.
    super(space, { ...spec, exclude: [...(spec.exclude ?? []), ...spec.incumbents.map((x) => x.params)] }, spec.seed);
    this.incumbents = rankIncumbents(spec.incumbents, spec.direction ?? 'maximize', spec.topK);
    this.ranges = this.incumbents.map((inc) =>
      localRanges(space, inc.params, spec.shrink ?? DEFAULT_SHRINK, spec.keepProbability ?? DEFAULT_KEEP_PROBABILITY),
    );
  }

  /** The incumbent trial i is centred on (round robin over the ranked incumbents) and its shrunken ranges. */
  neighbourhood(trial: number): { incumbent: Incumbent; ranges: Record<string, LocalRange> } {
    const k = trial % this.incumbents.length;
    return { incumbent: this.incumbents[k]!, ranges: this.ranges[k]! };
  }

  protected draw(trial: number, rng: Rng): Assignment {
    const { ranges } = this.neighbourhood(trial);
    return buildAssignment(this.space, (name, dist) => {
      const uKeep = rng.next();
      const u = rng.next();
      return localValue(dist, ranges[name], uKeep, u);
    });
  }
}

/** Enqueued assignments must at least make a valid model; they may lie outside the space (a human's guess). */
function checkAssignment(params: Assignment, what: string): void {
  try {
    toConfig(params, 1);
  } catch (err) {
    throw new Error(
      `${what} assignment ${JSON.stringify(params)} is not a valid model configuration: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/** Builds the sampler a study's stored spec describes (the spec is validated here). */
export function createSampler(space: SearchSpace, spec: SamplerSpec): Sampler {
  const s = SamplerSpecSchema.parse(spec);
  switch (s.kind) {
    case 'random':
      return new RandomSampler(space, s, s.seed);
    case 'grid':
      return new GridSampler(space, s);
    case 'local':
      return new LocalSampler(space, s);
  }
}
