/**
 * The one way a set of trained weights becomes a version candidate, for a study's best trial and for a
 * session alike: scored on the test split as served (evaluate-split.ts), with the dataset's schema and
 * standardisation that serving needs, and the per-row correctness the promotion guard pairs with the
 * champion's.
 */
import type { ModelConfig } from '../../models/config';
import type { Split } from '../../models/dataset';
import type { NetworkWeights } from '../../models/network';
import { SPLIT_SEED } from '../datasets';
import type { ChallengerRows } from './champion';
import { evaluateTest } from './evaluate-split';
import type { VersionCandidate } from './types';

/** Below this confidence a prediction is flagged for review; a version starts with it. */
export const DEFAULT_THRESHOLD = 0.5;

export interface CandidateSource {
  model: string;
  /** The study (or session) that trained it; the registry answers once per id. */
  studyId: string;
  /** The trial number (a session: the epoch reached). */
  trial: number;
  dataset: string;
  datasetVersion: string;
  config: ModelConfig;
  weights: NetworkWeights;
  /** Where the encoded weights already are (immutable). */
  weightsKey: string;
  validation: { valAccuracy: number; valLoss: number };
}

/** `split` is the dataset version's split the weights were trained on. */
export function buildCandidate(
  src: CandidateSource,
  split: Split,
): { candidate: VersionCandidate; rows: ChallengerRows } {
  const { correct, accuracy } = evaluateTest(src.weights, src.config, split);
  const candidate: VersionCandidate = {
    model: src.model,
    studyId: src.studyId,
    trial: src.trial,
    dataset: src.dataset,
    datasetVersion: src.datasetVersion,
    splitSeed: SPLIT_SEED,
    config: src.config,
    featureNames: split.table ? split.table.preprocessing.columns.map((c) => c.column) : split.featureNames,
    classNames: split.classNames,
    standardisation: split.standardisation,
    ...(split.table ? { preprocessing: split.table.preprocessing } : {}),
    metrics: {
      validationAccuracy: src.validation.valAccuracy,
      validationLoss: src.validation.valLoss,
      testAccuracy: accuracy,
    },
    threshold: DEFAULT_THRESHOLD,
    weightsKey: src.weightsKey,
  };
  return { candidate, rows: { dataset: src.dataset, datasetVersion: src.datasetVersion, split, correct } };
}
