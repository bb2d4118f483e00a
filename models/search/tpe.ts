/**
 * Tree-structured Parzen estimator (Bergstra et al. 2011, "Algorithms for Hyper-Parameter Optimization"), in
 * the univariate form Optuna uses by default. Unlike random, grid and local search, a proposal depends on the
 * results so far, so it is made when a trial is dispatched, from:
 *
 * - the finished trials in the order their results were accepted (complete, pruned and diverged; failed
 *   trials say nothing about their configuration and are left out), and
 * - the trials still running (constant liar: each counts as a result worse than every finished one, so
 *   parallel workers are pushed away from regions already being evaluated).
 *
 * Until `startupTrials` trials have finished, proposals are random search's trials for the same seed. Then
 * the trials are ranked best first (by validation accuracy, equal accuracies by validation loss, as the
 * leaderboard ranks them: on a few hundred validation rows accuracy moves in steps of one row, so ties are
 * common, and arrival order would break them blindly) and split: the best gamma(n) = min(ceil(0.1 n), 25) are "good", the rest
 * "bad". For each active parameter, in the space's order, a density l(x) is fitted to the good trials that
 * have the parameter and g(x) to the bad ones (conditional parameters only among trials where they were
 * active), each a mixture of the prior and one kernel per trial on the parameter's own scale (the unit axis
 * where its prior is uniform: linear, log or 1 - v; ints and stepped floats as buckets of that axis;
 * categoricals as smoothed choice probabilities; a zero-able float as "zero or not" times the range).
 * `candidates` values are drawn from l and the one with the largest l(x) / g(x) (the expected-improvement
 * criterion of the paper) is kept.
 *
 * Deterministic: the draws of trial i, attempt a come from Rng(mixSeed(seed, stream, i, a)), and the rest is
 * arithmetic on the history in the given order. Same seed + same completion order => same proposals.
 */
import { z } from 'zod';
import { mixSeed, Rng } from '../random';
import { type Assignment, AssignmentSchema, assignmentKey, buildAssignment } from './assignment';
import { numericAxis, type NumericAxis } from './distributions';
import type { JsonValue } from './json';
import { truncatedIntervalMass, truncatedLogPdf, truncatedSample, type TruncatedNormal } from './normal';
import { DEFAULT_MAX_ATTEMPTS, randomDraw } from './samplers';
import {
  caseKey,
  caseRefs,
  type CategoricalDistribution,
  type Distribution,
  type FloatDistribution,
  type IntDistribution,
  type SearchSpace,
} from './space';

const TPE_STREAM = 0x54504521;

export const TPE_DEFAULTS = {
  /** Random trials before the model takes over (Optuna: 10). */
  startupTrials: 10,
  /** Draws from l(x) scored per parameter (Optuna: 24). */
  candidates: 24,
  /** Weight of the prior component against one observation (Optuna: 1). */
  priorWeight: 1,
  /** gamma(n) = min(ceil(gammaFraction * n), gammaMax). */
  gammaFraction: 0.1,
  gammaMax: 25,
  /** What ranks complete trials: validation accuracy with loss breaking ties, or validation loss alone. */
  rankBy: 'accuracy' as 'accuracy' | 'loss',
} as const;

/** The most recent observations keep weight 1; older ones ramp down once there are more than this many. */
const FLAT_WEIGHTS = 25;
/** Smallest and largest kernel width on the unit axis (Optuna's "magic clip": 1 / min(100, 1 + n)). */
const MAX_SIGMA = 1;
const MIN_SIGMA_DIVISOR = 100;

const Seed = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const TpeSpecSchema = z.strictObject({
  kind: z.literal('tpe'),
  seed: Seed,
  startupTrials: z.number().int().min(1).max(1000).optional(),
  candidates: z.number().int().min(1).max(1000).optional(),
  priorWeight: z.number().gt(0).max(100).optional(),
  gammaFraction: z.number().gt(0).max(1).optional(),
  gammaMax: z.number().int().min(1).max(1000).optional(),
  rankBy: z.enum(['accuracy', 'loss']).optional(),
  enqueued: z.array(AssignmentSchema).optional(),
  exclude: z.array(AssignmentSchema).optional(),
  maxAttempts: z.number().int().min(1).max(10_000).optional(),
});
export type TpeSpec = z.infer<typeof TpeSpecSchema>;

/** A finished trial as TPE sees it; `value` is the validation accuracy (higher is better). */
export interface TpeObservation {
  params: Assignment;
  state: 'complete' | 'pruned' | 'diverged';
  value: number | null;
  /** Its validation loss (lower is better), or null when there is none (diverged, or an older record). */
  loss?: number | null;
  /** Epochs it trained (a pruned trial stopped at a rung ranks by how far it got). */
  epochs: number;
}

export interface TpeHistory {
  /** In the order their results were accepted. */
  finished: TpeObservation[];
  /** Proposed and not yet finished (the constant liar's "worse than anything" results). */
  running: Assignment[];
}

/** What a proposal was based on, recorded with it. */
export interface TpeBasis {
  finished: number;
  running: number;
  /** True while fewer than startupTrials had finished: the proposal is random search's trial. */
  startup: boolean;
  good: number;
  bad: number;
}

export interface TpeSuggestion {
  trial: number;
  params: Assignment;
  key: string;
  source: 'enqueued' | 'tpe';
  attempts: number;
  duplicate: boolean;
  basis: TpeBasis;
}

/** Default weights by recency: 1 for the newest FLAT_WEIGHTS, a linear ramp from 1/n up to 1 before them. */
export function recencyWeights(n: number): number[] {
  if (n < FLAT_WEIGHTS) return new Array<number>(n).fill(1);
  const ramp = n - FLAT_WEIGHTS;
  return Array.from({ length: n }, (_, i) => (i < ramp ? 1 / n + ((1 - 1 / n) * i) / Math.max(1, ramp - 1) : 1));
}

/**
 * Ranks best first: complete, then pruned by epochs reached, then diverged. Within a tier by accuracy with the
 * validation loss breaking ties (or by loss alone); remaining ties keep arrival order.
 */
export function rankObservations(finished: TpeObservation[], rankBy: 'accuracy' | 'loss' = 'accuracy'): number[] {
  const tier = (o: TpeObservation) => (o.state === 'complete' && o.value !== null ? 0 : o.state === 'pruned' ? 1 : 2);
  const acc = (o: TpeObservation) => (rankBy === 'loss' ? 0 : (o.value ?? -Infinity));
  const loss = (o: TpeObservation) => o.loss ?? Infinity;
  return finished
    .map((o, i) => i)
    .sort((a, b) => {
      const oa = finished[a]!;
      const ob = finished[b]!;
      return (
        tier(oa) - tier(ob) ||
        (tier(oa) === 1 ? ob.epochs - oa.epochs : 0) ||
        acc(ob) - acc(oa) ||
        loss(oa) - loss(ob) ||
        a - b
      );
    });
}

/** A fitted one-parameter density: draws values and scores them (log density on the parameter's own measure). */
interface Density {
  sample(rng: Rng): JsonValue;
  logDensity(value: JsonValue): number;
}

/** One weighted observation of a parameter (weights by recency in arrival order). */
interface Weighted {
  value: JsonValue;
  weight: number;
}

function withRecency(values: JsonValue[]): Weighted[] {
  const w = recencyWeights(values.length);
  return values.map((value, i) => ({ value, weight: w[i]! }));
}

/** Mixture over choices: the prior (uniform or given) and per observation a smoothed one-hot (Optuna's form). */
function choiceProbabilities(
  n: number,
  prior: number[],
  observed: { index: number; weight: number }[],
  priorWeight: number,
): number[] {
  const p = prior.map((q) => q * priorWeight);
  let total = priorWeight;
  for (const o of observed) {
    // Each observation's row: priorWeight * prior + one-hot, normalised to sum 1, then weighted.
    const rowTotal = priorWeight + 1;
    for (let c = 0; c < n; c++) p[c]! += (o.weight * (priorWeight * prior[c]! + (c === o.index ? 1 : 0))) / rowTotal;
    total += o.weight;
  }
  return p.map((x) => x / total);
}

function drawIndex(probs: number[], u: number): number {
  let acc = 0;
  for (let c = 0; c < probs.length; c++) {
    acc += probs[c]!;
    if (u < acc) return c;
  }
  return probs.length - 1;
}

function categoricalDensity(d: CategoricalDistribution, obs: Weighted[], priorWeight: number): Density {
  const n = d.choices.length;
  const observed = obs
    .map((o) => ({ index: d.choices.findIndex((c) => c === o.value), weight: o.weight }))
    .filter((o) => o.index >= 0);
  const probs = choiceProbabilities(n, new Array<number>(n).fill(1 / n), observed, priorWeight);
  return {
    sample: (rng) => d.choices[drawIndex(probs, rng.next())]!,
    logDensity: (v) => {
      const i = d.choices.findIndex((c) => c === v);
      return i < 0 ? -Infinity : Math.log(probs[i]!);
    },
  };
}

/**
 * Kernels on the unit axis: one truncated normal per observation, its width the larger gap to its sorted
 * neighbours (the axis ends count as neighbours, except for the outermost observations, as Optuna does without
 * `consider_endpoints`), clipped to [1 / min(100, n + 1), 1]; plus the prior N(0.5, 1) truncated to [0, 1].
 */
function unitKernels(
  points: { u: number; weight: number }[],
  priorWeight: number,
): { k: TruncatedNormal; w: number }[] {
  const n = points.length;
  const order = points.map((_, i) => i).sort((a, b) => points[a]!.u - points[b]!.u || a - b);
  const sorted = order.map((i) => points[i]!.u);
  const withEnds = [0, ...sorted, 1];
  const sigmas = new Array<number>(n);
  for (let j = 0; j < n; j++) {
    let s = Math.max(withEnds[j + 1]! - withEnds[j]!, withEnds[j + 2]! - withEnds[j + 1]!);
    if (n >= 2 && j === 0) s = withEnds[2]! - withEnds[1]!;
    if (n >= 2 && j === n - 1) s = withEnds[n]! - withEnds[n - 1]!;
    sigmas[order[j]!] = s;
  }
  const minSigma = 1 / Math.min(MIN_SIGMA_DIVISOR, n + 1);
  const total = points.reduce((a, p) => a + p.weight, 0) + priorWeight;
  const out = points.map((p, i) => ({
    k: { mu: p.u, sigma: Math.min(MAX_SIGMA, Math.max(minSigma, sigmas[i]!)), low: 0, high: 1 },
    w: p.weight / total,
  }));
  out.push({ k: { mu: 0.5, sigma: MAX_SIGMA, low: 0, high: 1 }, w: priorWeight / total });
  return out;
}

function logSumExp(xs: number[]): number {
  const m = Math.max(...xs);
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (const x of xs) s += Math.exp(x - m);
  return m + Math.log(s);
}

/** Density of a numeric parameter's non-zero part on its axis: pdf for continuous, bucket mass for discrete. */
function axisDensity(axis: NumericAxis, values: Weighted[], priorWeight: number) {
  const points = values.map((o) => {
    const [lo, hi] = axis.bucket(o.value as number);
    return { u: (lo + hi) / 2, weight: o.weight };
  });
  const kernels = unitKernels(points, priorWeight);
  const weights = kernels.map((c) => c.w);
  return {
    sample(rng: Rng): number {
      const c = kernels[drawIndex(weights, rng.next())]!;
      return axis.valueAt(truncatedSample(c.k, rng.next()));
    },
    logDensity(x: number): number {
      const [lo, hi] = axis.bucket(x);
      if (!axis.discrete) return logSumExp(kernels.map((c) => Math.log(c.w) + truncatedLogPdf(c.k, lo)));
      const mass = kernels.reduce((a, c) => a + c.w * truncatedIntervalMass(c.k, lo, hi), 0);
      return Math.log(Math.max(mass, 1e-300));
    },
  };
}

function numericDensity(d: FloatDistribution | IntDistribution, obs: Weighted[], priorWeight: number): Density {
  const axis = numericAxis(d);
  const zeroP = d.type === 'float' ? d.zeroProbability : undefined;
  if (zeroP === undefined) {
    const dens = axisDensity(axis, obs, priorWeight);
    return { sample: (rng) => dens.sample(rng), logDensity: (v) => dens.logDensity(v as number) };
  }
  // "Zero or not" as a two-choice parameter with the distribution's own prior, times the range's density.
  const observed = obs.map((o) => ({ index: o.value === 0 ? 0 : 1, weight: o.weight }));
  const probs = choiceProbabilities(2, [zeroP, 1 - zeroP], observed, priorWeight);
  const dens = axisDensity(
    axis,
    obs.filter((o) => o.value !== 0),
    priorWeight,
  );
  return {
    sample: (rng) => (drawIndex(probs, rng.next()) === 0 ? 0 : dens.sample(rng)),
    logDensity: (v) => (v === 0 ? Math.log(probs[0]!) : Math.log(probs[1]!) + dens.logDensity(v as number)),
  };
}

function density(d: Distribution, obs: Weighted[], priorWeight: number): Density | null {
  switch (d.type) {
    case 'const':
      return null;
    case 'categorical':
      return categoricalDensity(d, obs, priorWeight);
    case 'int':
    case 'float':
      return numericDensity(d, obs, priorWeight);
  }
}

export class TpeSampler {
  readonly kind = 'tpe' as const;
  readonly size = null;
  private readonly spec: Required<Omit<TpeSpec, 'enqueued' | 'exclude'>> & {
    enqueued: Assignment[];
    exclude: Assignment[];
  };

  constructor(
    private readonly space: SearchSpace,
    spec: TpeSpec,
  ) {
    const s = TpeSpecSchema.parse(spec);
    this.spec = {
      ...TPE_DEFAULTS,
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      ...s,
      enqueued: (s.enqueued ?? []) as Assignment[],
      exclude: (s.exclude ?? []) as Assignment[],
    };
  }

  /** The best gamma(n) of n ranked trials are "good". */
  goodCount(n: number): number {
    return Math.min(Math.ceil(this.spec.gammaFraction * n), this.spec.gammaMax);
  }

  /** The proposal for trial `trial` given the history at the moment it is dispatched. */
  propose(trial: number, history: TpeHistory): TpeSuggestion {
    if (!Number.isSafeInteger(trial) || trial < 0)
      throw new RangeError(`trial must be a non-negative integer (got ${trial})`);
    const finished = history.finished;
    const base: TpeBasis = {
      finished: finished.length,
      running: history.running.length,
      startup: finished.length < this.spec.startupTrials,
      good: 0,
      bad: 0,
    };
    const seen = new Set<string>(
      [...this.spec.exclude, ...finished.map((o) => o.params), ...history.running].map(assignmentKey),
    );
    if (trial < this.spec.enqueued.length) {
      const params = this.spec.enqueued[trial]!;
      const key = assignmentKey(params);
      return { trial, params, key, source: 'enqueued', attempts: 0, duplicate: seen.has(key), basis: base };
    }

    let draw: (attempt: number) => Assignment;
    let basis = base;
    if (base.startup) {
      draw = (attempt) => randomDraw(this.space, this.spec.seed, trial, attempt);
    } else {
      // Constant liar: running trials rank after every finished one, in the order they were dispatched.
      const arrival = [...finished.map((o) => o.params), ...history.running];
      const ranked = [
        ...rankObservations(finished, this.spec.rankBy),
        ...history.running.map((_, j) => finished.length + j),
      ];
      const goodSet = new Set(ranked.slice(0, this.goodCount(arrival.length)));
      // Recency weights need arrival order, so each group keeps it.
      const good = arrival.filter((_, i) => goodSet.has(i));
      const bad = arrival.filter((_, i) => !goodSet.has(i));
      basis = { ...base, good: good.length, bad: bad.length };
      draw = (attempt) => this.modelDraw(new Rng(mixSeed(this.spec.seed, TPE_STREAM, trial, attempt)), good, bad);
    }

    let first: Assignment | undefined;
    for (let attempt = 0; attempt < this.spec.maxAttempts; attempt++) {
      const params = draw(attempt);
      const key = assignmentKey(params);
      if (!seen.has(key)) return { trial, params, key, source: 'tpe', attempts: attempt + 1, duplicate: false, basis };
      first ??= params;
    }
    return {
      trial,
      params: first!,
      key: assignmentKey(first!),
      source: 'tpe',
      attempts: this.spec.maxAttempts,
      duplicate: true,
      basis,
    };
  }

  /** One parameter at a time in the space's order; each sees only the trials where it was active. */
  private modelDraw(rng: Rng, good: Assignment[], bad: Assignment[]): Assignment {
    const w = this.spec.priorWeight;
    return buildAssignment(this.space, (name, dist, active, partial) => {
      if (!active) return null;
      // Only trials where the parameter was active, and in the same case of a range that depends on earlier
      // values (an SGD learning rate says little about Adam's range).
      const refs = caseRefs(this.space[name]!);
      const comparable = (p: Assignment) =>
        Object.hasOwn(p, name) && refs.every((r) => caseKey(p[r]) === caseKey(partial[r]));
      const values = (group: Assignment[]) => withRecency(group.filter(comparable).map((p) => p[name]!));
      const l = density(dist, values(good), w);
      if (!l) return (dist as { value: JsonValue }).value;
      const g = density(dist, values(bad), w)!;
      let best: JsonValue = null;
      let bestScore = -Infinity;
      for (let c = 0; c < this.spec.candidates; c++) {
        const v = l.sample(rng);
        const score = l.logDensity(v) - g.logDensity(v);
        if (best === null || score > bestScore) {
          best = v;
          bestScore = score;
        }
      }
      return best;
    });
  }
}
