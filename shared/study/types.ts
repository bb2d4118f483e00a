/** The vocabulary of studies, trials and promotions, shared by the coordinator, the trial function and the API. */
import type { ModelConfig } from '../../models/config';
import type { Assignment, TpeBasis } from '../../models/search';
import type { Standardisation } from '../../models/dataset';
import type { Preprocessing } from '../../models/preprocess';
import type { EpochRecord } from '../../models/train';
import type { ChampionEvidence, GuardSettings } from './compare';

/** Legacy one-word choice, still accepted: `asha` = the random sampler with the ASHA pruner. */
export const STRATEGIES = ['random', 'grid', 'local', 'asha'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** Who proposes configurations; any of them works with or without a pruner. */
export const SAMPLERS = ['random', 'grid', 'local', 'tpe'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/** Who stops trials early: successive halving at rungs (null: every trial trains its full budget). */
export interface PrunerSpec extends AshaSettings {
  type: 'asha';
}

/** TPE knobs a study may set (see models/search/tpe.ts for the defaults). */
export interface TpeSettings {
  startupTrials?: number;
  candidates?: number;
  /** Not accepted by the API (the experiment compares it): the share of ranked trials that count as good. */
  gammaFraction?: number;
  /** Not accepted by the API (the experiment compares it): the prior's weight against one observation. */
  priorWeight?: number;
  /** Not accepted by the API (the experiment compares it): rank by accuracy (loss breaks ties) or by loss alone. */
  rankBy?: 'accuracy' | 'loss';
}

/** `pruned`: stopped early by successive halving at a rung; it has a curve but never weights. */
export type FinishedState = 'complete' | 'pruned' | 'diverged' | 'failed';
export type TrialState = 'pending' | 'running' | FinishedState;

export function isFinished(state: TrialState): state is FinishedState {
  return state === 'complete' || state === 'pruned' || state === 'diverged' || state === 'failed';
}

/** Successive-halving settings of the `asha` strategy: rungs at minEpochs * reductionFactor^k epochs. */
export interface AshaSettings {
  minEpochs: number;
  reductionFactor: number;
}

export interface Budget {
  epochs: number;
  /** Wall-clock budget of one trial; training stops after the epoch that crosses it. */
  maxSeconds: number;
}

/** Test-only fault injection, honoured only where ALLOW_FAULT_INJECTION is "true". */
export interface Faults {
  /** Trial numbers that throw on every attempt. */
  throwOnTrials: number[];
  /** Trial numbers that hang (an await that never settles) until the budget deadline cuts them off. */
  stallOnTrials: number[];
  /** Trial numbers whose stored weights are truncated after training (refused at promotion). */
  corruptWeightsOfTrials: number[];
}

export interface StudySpec {
  id: string;
  model: string;
  dataset: string;
  /** A label: the legacy strategy (random, grid, local, asha) or e.g. "tpe", "tpe+asha"; `sampler` and `pruner` decide. */
  strategy: Strategy | string;
  trials: number;
  seed: number;
  parallelism: number;
  /**
   * Promotion guard: scored on the same test rows, the challenger must beat the champion's accuracy by
   * more than `margin`, with McNemar's exact test significant at `significance`.
   */
  margin: number;
  significance: number;
  budget: Budget;
  /** Search-space overrides (JSON), merged over the default space. */
  space: Record<string, unknown>;
  /** Earlier study whose best configurations seed the `local` strategy. */
  from: string | null;
  /** The dataset version the study trains on (recorded at start; a replaced dataset cannot change it). */
  datasetVersion: string;
  /** Warm start: configurations found best elsewhere, evaluated first (trials 0..k-1). */
  warmStart: { from: string; params: Assignment[] } | null;
  createdAt: string;
  origin: 'api' | 'cron';
  /**
   * Why the study started: an API call, the cron's fixed schedule, or the live loop (served inputs
   * drifted from the training data, or enough reviewed labels arrived). Absent in older specs.
   */
  trigger?: StudyTrigger;
  faults: Faults | null;
  /** Legacy (`strategy: 'asha'`): the pruner's settings; new specs carry `pruner` instead. */
  asha?: AshaSettings | null;
  /** The sampler; absent in specs stored before it existed (then `strategy` decides, see shared/study/search.ts). */
  sampler?: SamplerName;
  /** The pruner; absent in older specs (then `strategy: 'asha'` means ASHA). */
  pruner?: PrunerSpec | null;
  tpe?: TpeSettings | null;
  /** The data the default space's ranges are scaled for (encoded input width, training rows); absent in older specs. */
  data?: { features: number; trainRows: number } | null;
}

export interface StudyTrigger {
  kind: 'api' | 'schedule' | 'drift' | 'labels';
  detail: string | null;
}

/** One planned trial: the sampled hyperparameters and the full configuration they resolve to. */
export interface PlannedTrial {
  trial: number;
  /** 'enqueued' for warm-start configurations, else the sampler that proposed it. */
  source: 'enqueued' | Strategy | SamplerName;
  params: Assignment;
  config: ModelConfig;
  seed: number;
  /** Adaptive samplers (TPE): how many finished and running trials the proposal was based on. */
  basis?: TpeBasis;
}

/** The write-once record of a finished trial. */
export interface TrialRecord {
  studyId: string;
  model: string;
  trial: number;
  attempts: number;
  source: PlannedTrial['source'];
  /** What a TPE proposal was based on (absent for samplers that plan ahead). */
  basis?: TpeBasis;
  params: Assignment;
  config: ModelConfig;
  seed: number;
  status: FinishedState;
  reason: string | null;
  history: EpochRecord[];
  final: { valAccuracy: number; valLoss: number } | null;
  timing: { wallMs: number; computeMs: number; epochsRun: number; samplesPerSecond: number } | null;
  stopReason: string | null;
  backend: string | null;
  simd: boolean | null;
  /** KV key of the trained weights (immutable); null unless complete. */
  weightsKey: string | null;
  /** Position in the order results were accepted (0 = first): a TPE proposal based on `basis.finished` results used those numbered below it. */
  accepted?: number;
  /** The rung (epoch count) at which successive halving stopped the trial; set only when `pruned`. */
  prunedAtEpoch?: number | null;
  finishedAt: string;
}

export interface Progress {
  total: number;
  pending: number;
  running: number;
  complete: number;
  pruned: number;
  diverged: number;
  failed: number;
}

export interface LeaderboardEntry {
  trial: number;
  status: FinishedState;
  valAccuracy: number | null;
  valLoss: number | null;
  epochs: number;
  /** The rung a pruned trial stopped at; null otherwise. */
  prunedAtEpoch: number | null;
  params: Assignment;
  config: ModelConfig;
}

export interface PromotionOutcome {
  promoted: boolean;
  /** Candidates refused before the guard (unreadable or corrupt weights), best first. */
  refused: { trial: number; reason: string }[];
  version: number | null;
  reason: string;
  candidate: { trial: number; valAccuracy: number; testAccuracy: number } | null;
  champion: { version: number; valAccuracy: number } | null;
  /** The champion scored on the challenger's test rows (null: there was no champion, or no candidate). */
  comparison: ChampionEvidence | null;
  /** The guard's settings the decision was made with (null when no candidate reached the guard). */
  guard: GuardSettings | null;
  /** Promoted by an explicit admin call over the guard's refusal (see `reason`). */
  explicit?: boolean;
  /** What to do about a refusal the guard cannot settle (a champion that is not comparable). */
  advice?: string;
  /** A study's ensemble selection (absent: none was tried). */
  ensemble?: EnsembleReport;
  decidedAt: string;
}

export interface StudyView {
  id: string;
  spec: StudySpec;
  status: 'running' | 'complete';
  progress: Progress;
  leaderboard: LeaderboardEntry[];
  best: LeaderboardEntry | null;
  promotion: PromotionOutcome | null;
  /** Strategy `asha`: per rung (epochs), how many trials reported there and how many went on. */
  rungs?: { epoch: number; reported: number; continued: number }[];
  updatedAt: string;
}

/** What the model registry keeps per version (weights stay in KV under weightsKey). */
export interface ModelVersion {
  model: string;
  version: number;
  createdAt: string;
  studyId: string;
  trial: number;
  dataset: string;
  /** The dataset version trained on; its split (and so the test rows) is fixed by it and splitSeed. */
  datasetVersion: string;
  splitSeed: number;
  config: ModelConfig;
  featureNames: string[];
  classNames: string[];
  /** Per model input (for a table: per encoded slot), folded into the first layer. */
  standardisation: Standardisation;
  /**
   * A table's preprocessing, fitted on the training rows of datasetVersion: how a request's columns become
   * the model's inputs (then `featureNames` are the input columns). Absent for numeric-only versions.
   */
  preprocessing?: Preprocessing;
  metrics: {
    validationAccuracy: number;
    validationLoss: number;
    testAccuracy: number;
    /** On the test rows, per class in classNames order and class-balanced (absent on older versions). */
    testRecall?: (number | null)[];
    testMacroF1?: number;
    testBalancedAccuracy?: number;
  };
  /** Predictions below this confidence are flagged for review. */
  threshold: number;
  weightsKey: string;
  /** Why this version was promoted: the guard's evidence against the champion it replaced. */
  promotedBy?: { reason: string; comparison: ChampionEvidence | null; explicit: boolean };
  /**
   * An ensemble version: the trials whose folded predictors serving averages (weights: how often ensemble
   * selection picked each), heaviest first. Absent for a single network (then `trial`, `config` and
   * `weightsKey` are it; for an ensemble they are its member that was the study's best single trial).
   */
  members?: EnsembleMember[];
  /** Temperature scaling fitted on the validation split; serving divides log-probabilities by it. Absent in older versions. */
  calibration?: CalibrationMeta;
}

export interface EnsembleMember {
  trial: number;
  weight: number;
  config: ModelConfig;
  weightsKey: string;
  validationAccuracy: number;
}

/** One bin of a reliability diagram: rows whose top probability is in (upper - 1/bins, upper]. */
export interface ReliabilityBinMeta {
  upper: number;
  rows: number;
  accuracy: number | null;
  confidence: number | null;
}

export interface CalibrationMeta {
  temperature: number;
  /** Expected calibration error (15 bins) on the validation split, where T was fitted. */
  eceBefore: number;
  eceAfter: number;
  /** The same on the test split (T never saw it), with its reliability diagram before and after. */
  test: { eceBefore: number; eceAfter: number; before: ReliabilityBinMeta[]; after: ReliabilityBinMeta[] };
}

/** What ensemble selection found after a study (recorded with its promotion). */
export interface EnsembleReport {
  /** Trials considered (the best complete trials whose weights load). */
  pool: number[];
  members: { trial: number; weight: number }[];
  valAccuracy: number;
  bestSingle: { trial: number; valAccuracy: number };
  /** Whether the ensemble became the candidate (it beat the best single trial on validation by the margin). */
  chosen: boolean;
  reason: string;
}

export type VersionCandidate = Omit<ModelVersion, 'version' | 'createdAt' | 'promotedBy'>;

export interface RegistryEvent {
  at: string;
  action: 'promote' | 'rollback';
  from: number | null;
  to: number;
  studyId: string | null;
  /** A promotion made by an explicit admin call over the guard's refusal. */
  explicit?: boolean;
  /** Moved by the live guard on reviewed labels: a challenger promoted, or a new champion rolled back. */
  live?: boolean;
  reason?: string;
}
