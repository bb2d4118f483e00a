/**
 * Turns a study spec into its trial plan with the search-space samplers. The plan is a pure function
 * of the spec (and, for `local`, the earlier study's records), so re-planning gives the same trials.
 */
import { mixSeed } from '../../models/random';
import {
  createSampler,
  DEFAULT_SPACE,
  mergeSpace,
  SpaceError,
  toConfig,
  type Assignment,
  type SamplerSpec,
  type SearchSpace,
  type SpaceOverrides,
} from '../../models/search';
import type { PlannedTrial, StudySpec, TrialRecord } from './types';

/** Salt of the training-seed stream, distinct from the samplers' streams. */
const TRAIN_SEED_STREAM = 0x5452414e;
/** How many of the earlier study's best trials the local strategy refines around. */
const LOCAL_INCUMBENTS = 3;

export function studySpace(spec: Pick<StudySpec, 'space'>): SearchSpace {
  return mergeSpace(DEFAULT_SPACE, spec.space as SpaceOverrides);
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

function samplerSpec(spec: StudySpec, earlier: TrialRecord[]): SamplerSpec {
  const enqueued = spec.warmStart?.params.length ? { enqueued: spec.warmStart.params } : {};
  switch (spec.strategy) {
    // ASHA samples as random search does; it differs only in stopping trials early.
    case 'random':
    case 'asha':
      return { kind: 'random', seed: spec.seed, ...enqueued };
    case 'grid':
      return { kind: 'grid', ...enqueued };
    case 'local': {
      const complete = earlier.filter((r) => r.status === 'complete' && r.final);
      if (!complete.length) throw new SpaceError([`study ${spec.from} has no complete trial to refine`]);
      return {
        kind: 'local',
        seed: spec.seed,
        incumbents: complete.map((r) => ({ params: r.params as Assignment, score: r.final!.valAccuracy })),
        direction: 'maximize',
        topK: LOCAL_INCUMBENTS,
        // The earlier study already evaluated these: do not spend trials on them again.
        exclude: earlier.map((r) => r.params as Assignment),
        ...enqueued,
      };
    }
  }
}

export function planTrials(spec: StudySpec, earlier: TrialRecord[] = []): PlannedTrial[] {
  const sampler = createSampler(studySpace(spec), samplerSpec(spec, earlier));
  const count = sampler.size === null ? spec.trials : Math.min(spec.trials, sampler.size);
  const plan: PlannedTrial[] = [];
  for (let i = 0; i < count; i++) {
    const s = sampler.sample(i);
    // A nearly exhausted discrete space: stop rather than train a configuration twice.
    if (s.duplicate) break;
    plan.push({
      trial: i,
      source: s.source,
      params: s.params,
      config: toConfig(s.params, spec.budget.epochs),
      seed: mixSeed(spec.seed, i, TRAIN_SEED_STREAM),
    });
  }
  return plan;
}
