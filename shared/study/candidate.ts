/**
 * The one way trained weights become a version candidate, for a study's best trial (or the ensemble of its
 * best trials) and for a session alike: scored on the test split as served (folded, averaged, tempered),
 * with the dataset's schema and standardisation that serving needs, the temperature fitted on validation,
 * and the per-row correctness the promotion guard pairs with the champion's.
 */
import { applyTemperature, fitTemperature, reliability } from '../../models/calibration';
import type { ModelConfig } from '../../models/config';
import { inputNames, type Split } from '../../models/dataset';
import { accuracyOf, averageProbabilities, selectEnsemble } from '../../models/ensemble';
import { EmptySplitError } from '../../models/epoch';
import { foldNetwork } from '../../models/fold';
import { Predictor } from '../../models/infer';
import { specOf, type NetworkWeights } from '../../models/network';
import { classMetrics, scoreRows } from '../../models/scoring';
import { SPLIT_SEED } from '../datasets';
import type { ChallengerRows } from './champion';
import { rawRows } from './evaluate-split';
import type { CalibrationMeta, EnsembleMember, EnsembleReport, VersionCandidate } from './types';

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

/** Another complete trial of the same study, a possible ensemble member. */
export type MemberSource = Pick<CandidateSource, 'trial' | 'config' | 'weights' | 'weightsKey'>;

export interface CandidateOptions {
  /** The study's other complete trials, best first (ensemble selection's pool besides the best one). */
  pool?: MemberSource[];
  /** How much the ensemble must beat the best single trial by on validation accuracy (the guard's margin). */
  margin?: number;
}

/** A network's probabilities on the validation and test rows, through the folded (served) network. */
interface Scored {
  src: MemberSource;
  val: Float32Array;
  test: Float32Array;
  valAccuracy: number;
}

function scoreParts(src: MemberSource, split: Split): Scored {
  const predictor = new Predictor(foldNetwork(src.weights, specOf(src.config), split.standardisation));
  try {
    const val = predictor.predictProba(rawRows(split, split.validation), split.validation.rows);
    const test = predictor.predictProba(rawRows(split, split.test), split.test.rows);
    const valAccuracy = split.validation.rows ? accuracyOf(val, split.validation.y, split.classes) : NaN;
    return { src, val, test, valAccuracy };
  } finally {
    predictor.dispose();
  }
}

/** Temperature on validation; ECE and the reliability diagram on test before and after (T never sees test). */
function calibrate(val: Float32Array, test: Float32Array, split: Split): CalibrationMeta {
  const fit = fitTemperature(val, split.validation.y, split.classes);
  const before = reliability(test, split.test.y, split.classes);
  const after = reliability(applyTemperature(test, split.classes, fit.temperature), split.test.y, split.classes);
  return {
    temperature: fit.temperature,
    eceBefore: fit.eceBefore,
    eceAfter: fit.eceAfter,
    test: { eceBefore: before.ece, eceAfter: after.ece, before: before.bins, after: after.bins },
  };
}

/**
 * `split` is the dataset version's split the weights were trained on. With a `pool`, greedy ensemble
 * selection (models/ensemble.ts) runs over the best trial and the pool on validation; the ensemble becomes
 * the candidate only when it has more than one member and beats the best single trial's validation accuracy
 * (measured the same way, folded) by more than nothing and at least `margin`. Either way the candidate is
 * temperature-scaled on validation.
 */
export function buildCandidate(
  src: CandidateSource,
  split: Split,
  options: CandidateOptions = {},
): { candidate: VersionCandidate; rows: ChallengerRows; ensemble: EnsembleReport | null } {
  // 0 hits of 0 rows is no measurement at all, not an accuracy of NaN.
  if (split.test.rows === 0) throw new EmptySplitError('the test split has no rows; nothing to measure');
  const best = scoreParts(src, split);
  const pool = options.pool ?? [];
  const margin = options.margin ?? 0;
  let chosen: { val: Float32Array; test: Float32Array } = best;
  let ensemble: EnsembleReport | null = null;
  let members: EnsembleMember[] | undefined;
  let validation = src.validation;
  if (pool.length && split.validation.rows) {
    const scored = [best, ...pool.map((m) => scoreParts(m, split))];
    const byTrial = new Map(scored.map((s) => [s.src.trial, s]));
    const sel = selectEnsemble(
      scored.map((s) => ({ id: s.src.trial, probs: s.val })),
      split.validation.y,
      split.classes,
    );
    const gain = sel.valAccuracy - best.valAccuracy;
    const chosenEnsemble = sel.members.length > 1 && gain > 0 && gain >= margin;
    ensemble = {
      pool: scored.map((s) => s.src.trial),
      members: sel.members.map((m) => ({ trial: m.id, weight: m.weight })),
      valAccuracy: sel.valAccuracy,
      bestSingle: { trial: src.trial, valAccuracy: best.valAccuracy },
      chosen: chosenEnsemble,
      reason:
        sel.members.length < 2
          ? 'selection kept the best trial alone'
          : chosenEnsemble
            ? `the ${sel.members.length}-member ensemble beats the best trial on validation by ${gain.toFixed(4)} (margin ${margin})`
            : `the ensemble's validation gain ${gain.toFixed(4)} is not above 0 and at least the margin ${margin}`,
    };
    if (chosenEnsemble) {
      // Heaviest first (ties: selection order); the probabilities are mixed in this order, as serving mixes them.
      const ordered = [...sel.members].sort((a, b) => b.weight - a.weight);
      const mix = (part: 'val' | 'test') =>
        averageProbabilities(ordered.map((m) => ({ probs: byTrial.get(m.id)![part], weight: m.weight })));
      chosen = { val: mix('val'), test: mix('test') };
      members = ordered.map((m) => {
        const s = byTrial.get(m.id)!;
        return {
          trial: m.id,
          weight: m.weight,
          config: s.src.config,
          weightsKey: s.src.weightsKey,
          validationAccuracy: s.valAccuracy,
        };
      });
      validation = { valAccuracy: sel.valAccuracy, valLoss: sel.valLoss };
    }
  }
  const { correct, accuracy, confusion } = scoreRows(chosen.test, split.test.y, split.classes);
  const perClass = classMetrics(confusion);
  // An ensemble version's own trial/config/weights are the best trial's (always picked first, so a member).
  const head = members?.find((m) => m.trial === src.trial) ?? members?.[0];
  const candidate: VersionCandidate = {
    model: src.model,
    studyId: src.studyId,
    trial: head?.trial ?? src.trial,
    dataset: src.dataset,
    datasetVersion: src.datasetVersion,
    splitSeed: SPLIT_SEED,
    config: head?.config ?? src.config,
    featureNames: inputNames(split),
    classNames: split.classNames,
    standardisation: split.standardisation,
    ...(split.table ? { preprocessing: split.table.preprocessing } : {}),
    metrics: {
      validationAccuracy: validation.valAccuracy,
      validationLoss: validation.valLoss,
      testAccuracy: accuracy,
      testRecall: perClass.recall,
      testMacroF1: perClass.macroF1,
      testBalancedAccuracy: perClass.balancedAccuracy,
    },
    threshold: DEFAULT_THRESHOLD,
    weightsKey: head?.weightsKey ?? src.weightsKey,
    ...(members ? { members } : {}),
    ...(split.validation.rows ? { calibration: calibrate(chosen.val, chosen.test, split) } : {}),
  };
  return {
    candidate,
    rows: { dataset: src.dataset, datasetVersion: src.datasetVersion, split, correct },
    ensemble,
  };
}
