/**
 * The one place a study spec is assembled, whoever starts the study (the admin API, the cron's schedules):
 * the caller brings its choices, the dataset brings its version, default space and the data the space's
 * ranges are scaled for. A field added to StudySpec is added here once and reaches every origin.
 */
import type { DatasetMeta } from '../datasets';
import type { resolveSearch } from './search';
import type { Faults, StudySpec, StudyTrigger, TpeSettings } from './types';

/** What the caller decides; the request's own validation (space, pruner rungs, sampler options) comes first. */
export type StudyChoices = Pick<
  StudySpec,
  'id' | 'model' | 'origin' | 'trials' | 'seed' | 'parallelism' | 'margin' | 'significance' | 'budget'
> & {
  /** The sampler, pruner and listing label, as `resolveSearch` gives them. */
  search: ReturnType<typeof resolveSearch>;
  tpe?: TpeSettings | null;
  /** Overrides of the dataset's space; absent: the dataset's settings decide. */
  space?: Record<string, unknown>;
  from?: string | null;
  warmStart?: StudySpec['warmStart'];
  faults?: Faults | null;
  /** Why the study starts (default: an API call, or the cron's schedule). */
  trigger?: StudyTrigger;
  now: Date;
};

export function buildStudySpec(dataset: DatasetMeta, c: StudyChoices): StudySpec {
  const { pruner } = c.search;
  return {
    id: c.id,
    model: c.model,
    dataset: dataset.name,
    strategy: c.search.strategy,
    sampler: c.search.sampler,
    pruner,
    ...(c.tpe ? { tpe: c.tpe } : {}),
    trials: c.trials,
    seed: c.seed,
    parallelism: c.parallelism,
    margin: c.margin,
    significance: c.significance,
    budget: c.budget,
    space: c.space ?? dataset.settings.space,
    from: c.from ?? null,
    datasetVersion: dataset.version,
    warmStart: c.warmStart ?? null,
    createdAt: c.now.toISOString(),
    origin: c.origin,
    trigger: c.trigger ?? { kind: c.origin === 'api' ? 'api' : 'schedule', detail: null },
    faults: c.faults ?? null,
    // Legacy readers (dashboards of older builds) still find the ASHA settings here.
    asha: pruner ? { minEpochs: pruner.minEpochs, reductionFactor: pruner.reductionFactor } : null,
    // The default space's data-aware ranges follow the data (width with the input width, BN momentum with the steps).
    data: { features: dataset.inputWidth ?? dataset.features, trainRows: dataset.splitCounts.train },
  };
}
