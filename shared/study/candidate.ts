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
export interface ScoredMember {
  src: MemberSource;
  val: Float32Array;
  test: Float32Array;
  valAccuracy: number;
}

export function scoreMember(src: MemberSource, split: Split): ScoredMember {
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

/** What a study serves, decided from its scored trials (pure given the probabilities). */
export interface ServedChoice {
  /** The candidate's probabilities before its temperature: the best trial's, or the chosen ensemble's mix. */
  val: Float32Array;
  test: Float32Array;
  /** Present when the ensemble was chosen, heaviest first (the order serving mixes them in). */
  members?: EnsembleMember[];
  validation: { valAccuracy: number; valLoss: number };
  ensemble: EnsembleReport | null;
  /** The ensemble selection found, chosen or not (null: no selection ran); experiments measure it either way. */
  selected: { val: Float32Array; test: Float32Array } | null;
  calibration: CalibrationMeta | null;
}

/**
 * Greedy ensemble selection (models/ensemble.ts) over the best trial and the pool on validation; the ensemble
 * is the choice only when it has more than one member and beats the best single trial's validation accuracy
 * (measured the same way, folded) by more than nothing and at least `margin`. Either way the choice is
 * temperature-scaled on validation. `validation` is the best trial's own record (what a single candidate reports).
 */
export function chooseServed(
  best: ScoredMember,
  validation: { valAccuracy: number; valLoss: number },
  pool: ScoredMember[],
  split: Split,
  margin = 0,
): ServedChoice {
  let choice: ServedChoice = {
    val: best.val,
    test: best.test,
    validation,
    ensemble: null,
    selected: null,
    calibration: null,
  };
  if (pool.length && split.validation.rows) {
    const scored = [best, ...pool];
    const byTrial = new Map(scored.map((s) => [s.src.trial, s]));
    const sel = selectEnsemble(
      scored.map((s) => ({ id: s.src.trial, probs: s.val })),
      split.validation.y,
      split.classes,
    );
    const gain = sel.valAccuracy - best.valAccuracy;
    const chosen = sel.members.length > 1 && gain > 0 && gain >= margin;
    // Heaviest first (ties: selection order); the probabilities are mixed in this order, as serving mixes them.
    const ordered = [...sel.members].sort((a, b) => b.weight - a.weight);
    const mix = (part: 'val' | 'test') =>
      averageProbabilities(ordered.map((m) => ({ probs: byTrial.get(m.id)![part], weight: m.weight })));
    const selected = { val: mix('val'), test: mix('test') };
    const ensemble: EnsembleReport = {
      pool: scored.map((s) => s.src.trial),
      members: sel.members.map((m) => ({ trial: m.id, weight: m.weight })),
      valAccuracy: sel.valAccuracy,
      bestSingle: { trial: best.src.trial, valAccuracy: best.valAccuracy },
      chosen,
      reason:
        sel.members.length < 2
          ? 'selection kept the best trial alone'
          : chosen
            ? `the ${sel.members.length}-member ensemble beats the best trial on validation by ${gain.toFixed(4)} (margin ${margin})`
            : `the ensemble's validation gain ${gain.toFixed(4)} is not above 0 and at least the margin ${margin}`,
    };
    choice = { ...choice, ensemble, selected };
    if (chosen)
      choice = {
        ...choice,
        ...selected,
        members: ordered.map((m) => {
          const s = byTrial.get(m.id)!;
          return {
            trial: m.id,
            weight: m.weight,
            config: s.src.config,
            weightsKey: s.src.weightsKey,
            validationAccuracy: s.valAccuracy,
          };
        }),
        validation: { valAccuracy: sel.valAccuracy, valLoss: sel.valLoss },
      };
  }
  return {
    ...choice,
    calibration: split.validation.rows ? calibrate(choice.val, choice.test, split) : null,
  };
}

/**
 * `split` is the dataset version's split the weights were trained on. With a `pool`, the candidate may be an
 * ensemble (chooseServed); either way it is temperature-scaled on validation.
 */
export function buildCandidate(src: CandidateSource, split: Split, options: CandidateOptions = {}): CandidateResult {
  // 0 hits of 0 rows is no measurement at all, not an accuracy of NaN.
  if (split.test.rows === 0) throw new EmptySplitError('the test split has no rows; nothing to measure');
  const pool = split.validation.rows ? (options.pool ?? []).map((m) => scoreMember(m, split)) : [];
  return candidateFromScored(src, scoreMember(src, split), pool, split, options.margin ?? 0);
}

export interface CandidateResult {
  candidate: VersionCandidate;
  rows: ChallengerRows;
  ensemble: EnsembleReport | null;
  /** The whole decision, probabilities included (the search experiment reads what selection found). */
  choice: ServedChoice;
}

/** buildCandidate once every network is scored: `best` is `src` scored, `pool` the other candidates scored. */
export function candidateFromScored(
  src: Omit<CandidateSource, 'weights'>,
  best: ScoredMember,
  pool: ScoredMember[],
  split: Split,
  margin = 0,
): CandidateResult {
  if (split.test.rows === 0) throw new EmptySplitError('the test split has no rows; nothing to measure');
  const choice = chooseServed(best, src.validation, pool, split, margin);
  const { members, validation, calibration } = choice;
  const { correct, accuracy, confusion } = scoreRows(choice.test, split.test.y, split.classes);
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
    ...(calibration ? { calibration } : {}),
  };
  return {
    candidate,
    rows: { dataset: src.dataset, datasetVersion: src.datasetVersion, split, correct },
    ensemble: choice.ensemble,
    choice,
  };
}
