/**
 * A study's search: which sampler proposes configurations and which pruner (if any) stops trials early, and
 * the proposer the coordinator asks at dispatch time.
 *
 * Random, grid and local search plan ahead: trial n's configuration is a pure function of (spec, n). TPE
 * cannot: its proposal for trial n depends on the results accepted before n was dispatched, in the order
 * they were accepted, and on the trials still running. So proposals are made when a trial is dispatched
 * (for every sampler, one code path) and stored with the trial; a retried trial reuses its stored proposal.
 */
import { mixSeed } from '../../models/random';
import {
  type Assignment,
  createSampler,
  DEFAULT_CONTEXT,
  DEFAULT_SPACE,
  defaultSpace,
  mergeSpace,
  type SamplerSpec,
  type SearchSpace,
  type SpaceContext,
  SpaceError,
  type SpaceOverrides,
  type TpeObservation,
  TpeSampler,
  toConfig,
} from '../../models/search';
import { DEFAULT_ASHA } from './asha';
import type { AshaSettings, PlannedTrial, PrunerSpec, SamplerName, Strategy, StudySpec, TrialRecord } from './types';

/** Salt of the training-seed stream, distinct from the samplers' streams. */
const TRAIN_SEED_STREAM = 0x5452414e;
/** How many of the earlier study's best trials the local sampler refines around. */
const LOCAL_INCUMBENTS = 3;

/** The sampler of a spec; older specs only have `strategy` (`asha` samples as random search does). */
export function samplerOf(spec: Pick<StudySpec, 'sampler' | 'strategy'>): SamplerName {
  if (spec.sampler) return spec.sampler;
  return spec.strategy === 'asha' ? 'random' : (spec.strategy as SamplerName);
}

/**
 * Sampler and pruner of a request that may use the legacy `strategy` alias. Throws a message for a request
 * that says two different things (strategy local with sampler tpe, strategy asha with pruner null).
 */
export function resolveSearch(req: {
  strategy?: Strategy;
  sampler?: SamplerName;
  pruner?: PrunerSpec | null;
  asha?: Partial<AshaSettings>;
}): { sampler: SamplerName; pruner: PrunerSpec | null; strategy: string } {
  const aliasSampler = req.strategy === undefined ? undefined : req.strategy === 'asha' ? 'random' : req.strategy;
  if (req.sampler && aliasSampler && req.sampler !== aliasSampler)
    throw new Error(`sampler: "${req.sampler}" contradicts strategy "${req.strategy}" (use sampler and pruner alone)`);
  if (req.strategy === 'asha' && req.pruner === null)
    throw new Error('pruner: null contradicts strategy "asha" (which means the random sampler with the ASHA pruner)');
  const sampler = req.sampler ?? aliasSampler ?? 'random';
  let pruner: PrunerSpec | null = req.pruner ?? null;
  if (req.strategy === 'asha' && !req.pruner) pruner = { type: 'asha', ...DEFAULT_ASHA, ...req.asha };
  if (req.asha && !(req.strategy === 'asha'))
    throw new Error('asha: only with strategy "asha"; give pruner: { "type": "asha", ... } instead');
  return { sampler, pruner, strategy: searchLabel({ sampler, pruner, strategy: 'random' }) };
}

/** The pruner of a spec; older specs mean ASHA by `strategy: 'asha'` (with `asha` settings or the defaults). */
export function prunerOf(spec: Pick<StudySpec, 'pruner' | 'strategy' | 'asha'>): PrunerSpec | null {
  if (spec.pruner !== undefined) return spec.pruner;
  return spec.strategy === 'asha' ? { type: 'asha', ...(spec.asha ?? DEFAULT_ASHA) } : null;
}

/** A short label for listings: "tpe", "random+asha", ... */
export function searchLabel(spec: Pick<StudySpec, 'sampler' | 'pruner' | 'strategy' | 'asha'>): string {
  const pruner = prunerOf(spec);
  // The legacy name where there is one, so listings read as before.
  if (pruner && samplerOf(spec) === 'random') return 'asha';
  return pruner ? `${samplerOf(spec)}+${pruner.type}` : samplerOf(spec);
}

/** What the default space's data-aware ranges are resolved for (older specs: digits-shaped data). */
export function spaceContext(spec: Pick<StudySpec, 'data' | 'budget'>): SpaceContext {
  return {
    features: spec.data?.features ?? DEFAULT_CONTEXT.features,
    trainRows: spec.data?.trainRows ?? DEFAULT_CONTEXT.trainRows,
    epochs: spec.budget.epochs,
  };
}

export function studySpace(spec: Pick<StudySpec, 'space' | 'data' | 'budget'>): SearchSpace {
  return mergeSpace(defaultSpace(spaceContext(spec)), spec.space as SpaceOverrides);
}

/** null when the overrides merge into a valid space, else the reason. */
export function validateSpace(overrides: Record<string, unknown>): string | null {
  try {
    mergeSpace(DEFAULT_SPACE, overrides as SpaceOverrides);
    return null;
  } catch (err) {
    if (err instanceof SpaceError) return err.message;
    throw err;
  }
}

export function trainingSeed(spec: Pick<StudySpec, 'seed'>, trial: number): number {
  return mixSeed(spec.seed, trial, TRAIN_SEED_STREAM);
}

/**
 * TPE's random start-up trials: Optuna's 10 for studies of 40 trials or more, a quarter of the study (at
 * least 5) below that, so a default 24-trial study still has most of its trials model-based.
 */
export function defaultStartupTrials(trials: number): number {
  return Math.min(10, Math.max(5, Math.floor(trials / 4)));
}

/** What the proposer sees at dispatch time. */
export interface SearchHistory {
  /** Finished trials in the order their results were accepted. */
  finished: TrialRecord[];
  /** Configurations of trials dispatched and not yet finished. */
  running: Assignment[];
}

export interface Proposer {
  /** How many trials the sampler can propose (grid), or null when unbounded. */
  readonly size: number | null;
  /** Trial n's plan, or null when the sampler has nothing new left (an exhausted discrete space). */
  propose(n: number, history: SearchHistory): PlannedTrial | null;
}

function planSpec(spec: StudySpec, earlier: TrialRecord[]): SamplerSpec {
  const enqueued = spec.warmStart?.params.length ? { enqueued: spec.warmStart.params } : {};
  switch (samplerOf(spec)) {
    case 'grid':
      return { kind: 'grid', ...enqueued };
    case 'local': {
      const complete = earlier.filter((r) => r.status === 'complete' && r.final);
      if (!complete.length) throw new SpaceError([`study ${spec.from} has no complete trial to refine`]);
      return {
        kind: 'local',
        seed: spec.seed,
        incumbents: complete.map((r) => ({ params: r.params, score: r.final!.valAccuracy })),
        direction: 'maximize',
        topK: LOCAL_INCUMBENTS,
        // The earlier study already evaluated these: do not spend trials on them again.
        exclude: earlier.map((r) => r.params),
        ...enqueued,
      };
    }
    default:
      return { kind: 'random', seed: spec.seed, ...enqueued };
  }
}

/** How a finished record counts for TPE; failed trials (infrastructure) say nothing about their configuration. */
export function observation(r: TrialRecord): TpeObservation | null {
  if (r.status === 'failed') return null;
  const last = r.history.at(-1);
  return {
    params: r.params,
    state: r.status === 'complete' && r.final ? 'complete' : r.status === 'pruned' ? 'pruned' : 'diverged',
    value:
      r.status === 'complete'
        ? (r.final?.valAccuracy ?? null)
        : r.status === 'pruned'
          ? (last?.valAccuracy ?? null)
          : null,
    loss: r.status === 'complete' ? (r.final?.valLoss ?? null) : r.status === 'pruned' ? (last?.valLoss ?? null) : null,
    epochs: r.history.length,
  };
}

/**
 * The study's proposer. `earlier` are the records of the study named by `from` (local search's incumbents).
 * Throws a SpaceError when the space or the earlier study cannot support the sampler.
 */
export function createProposer(spec: StudySpec, earlier: TrialRecord[] = []): Proposer {
  const space = studySpace(spec);
  const plan = (n: number, s: { params: Assignment; source: PlannedTrial['source'] }): PlannedTrial => ({
    trial: n,
    source: s.source,
    params: s.params,
    config: toConfig(s.params, spec.budget.epochs),
    seed: trainingSeed(spec, n),
  });
  if (samplerOf(spec) === 'tpe') {
    const tpe = new TpeSampler(space, {
      kind: 'tpe',
      seed: spec.seed,
      startupTrials: defaultStartupTrials(spec.trials),
      ...(spec.tpe ?? {}),
      ...(spec.warmStart?.params.length ? { enqueued: spec.warmStart.params } : {}),
    });
    return {
      size: null,
      propose(n, history) {
        const finished = history.finished.map(observation).filter((o): o is TpeObservation => o !== null);
        const s = tpe.propose(n, { finished, running: history.running });
        return s.duplicate ? null : { ...plan(n, s), basis: s.basis };
      },
    };
  }
  const sampler = createSampler(space, planSpec(spec, earlier));
  return {
    size: sampler.size,
    propose(n) {
      if (sampler.size !== null && n >= sampler.size) return null;
      const s = sampler.sample(n);
      // A nearly exhausted discrete space: stop rather than train a configuration twice.
      return s.duplicate ? null : plan(n, s);
    },
  };
}
