/**
 * The wire contracts of the Durable Objects: every method a caller may invoke through a stub, and
 * the types that cross the RPC boundary. Each class is declared `implements` its contract, so the
 * compiler keeps the two in step; stubs.ts hands out handles typed by these interfaces (workerd's
 * generated RPC types recurse through JSON-shaped values until TypeScript gives up). Everything here is
 * structured-cloneable data.
 *
 * Failure has one shape on every object: a method that may refuse answers a `Result`, whose failure is
 * `{ ok: false, error: { code, message } }`, the API's error body with `ok` added (the API forwards it
 * as is). Absence is not failure: a read of something that may not exist answers null.
 */
import type { ModelConfig } from '../../models/config';
import type { SlicePace } from '../../models/session-pace';
import type { AuditPage, KeyCheck, KeyRecord, KeySummary, NewAuditEntry } from '../../shared/access/records';
import type { EpochRecord } from '../../models/train';
import type { RungDecision } from '../../shared/study/asha';
import type {
  LiveDecision,
  LiveGuard,
  TrafficSetting,
  DriftReport,
  LiveQuality,
  LogOutcome,
  MonitorFlush,
  ReviewBatch,
  ReviewItem,
  ReviewKind,
  ReviewPage,
} from '../../shared/monitor/types';
import type { ChampionEvidence, GuardSettings } from '../../shared/study/compare';
import type { TrialResult } from '../../shared/study/trial';
import type {
  ModelVersion,
  PlannedTrial,
  PromotionOutcome,
  RegistryEvent,
  StudySpec,
  StudyView,
  TrialRecord,
  VersionCandidate,
} from '../../shared/study/types';

/** Why an object refused; each is also an API error code with the same meaning (404, 409, 422). */
export type RefusalCode = 'not_found' | 'conflict' | 'validation_failed';

export interface Refusal {
  code: RefusalCode;
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: Refusal };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const refuse = <T = never>(code: RefusalCode, message: string): Result<T> => ({
  ok: false,
  error: { code, message },
});

// ---- StudyCoordinator: one per study ----

/** What the trial function needs to run one trial. */
export interface TrialTask {
  spec: StudySpec;
  planned: PlannedTrial;
  finished: boolean;
}

/** One trial's value at a rung and the decision it got, in arrival order. */
export interface RungResult {
  trial: number;
  valAccuracy: number;
  decision: RungDecision;
}

export interface StudyCoordinatorContract {
  /** Plans and launches the study; a second start returns the existing study. */
  start(spec: StudySpec): Promise<StudyView>;
  trialTask(n: number): Promise<TrialTask | null>;
  /** The trial function starts running trial `n` (the stalled-trial timer counts from here). */
  begin(n: number): Promise<TrialTask | null>;
  /** Whether KV holds every trial record and the latest aggregate the study owes it. */
  published(): Promise<boolean>;
  /** Accepts a trial's result once; a later report for the same trial is refused (conflict). */
  report(n: number, result: TrialResult): Promise<Result<{ trial: number }>>;
  rung(n: number, epoch: number, valAccuracy: number): Promise<RungDecision>;
  rungs(): Promise<Record<string, RungResult[]>>;
  resume(): Promise<StudyView | null>;
  records(): Promise<TrialRecord[]>;
  /** The study's view; only for a study known to exist (see maybeView). */
  view(): Promise<StudyView>;
  /** null when this object holds no study (the id was never started). */
  maybeView(): Promise<StudyView | null>;
  /**
   * Promotes the finished study's declined candidate over the guard (an admin's explicit call); refused
   * while running (conflict), when already promoted (conflict) or when there was no candidate.
   */
  promoteExplicitly(): Promise<Result<PromotionOutcome>>;
}

// ---- ModelRegistry: one per model name ----

export interface RegistryState {
  model: string;
  current: ModelVersion | null;
  versions: number[];
  history: RegistryEvent[];
  activeStudy: { id: string; startedAt: string } | null;
}

/** The current version and the challenger traffic (with the challenger's metadata), read by predict. */
export interface ServingState {
  current: ModelVersion | null;
  traffic: (TrafficSetting & { meta: ModelVersion }) | null;
  guard: LiveGuard;
}

export interface ModelRegistryContract {
  current(): Promise<ModelVersion | null>;
  version(v: number): Promise<ModelVersion | null>;
  state(): Promise<RegistryState>;
  listVersions(): Promise<ModelVersion[]>;
  /** The model's one running-study slot; refused (conflict, naming the running study) while it is held. */
  claimStudy(model: string, studyId: string): Promise<Result<{ id: string }>>;
  releaseStudy(studyId: string): Promise<void>;
  lastStudyEndedAt(): Promise<string | null>;
  /**
   * Decides on `evidence` (the current champion scored on the candidate's test rows; null: no champion)
   * atomically with the pointer move. Refused (conflict) when the evidence is about another champion than
   * the current one: the caller scores again (shared/study/champion.ts). Once per study id.
   */
  promote(
    candidate: VersionCandidate,
    settings: GuardSettings,
    evidence: ChampionEvidence | null,
  ): Promise<Result<PromotionOutcome>>;
  /** Promotes over the guard's `refusal`, recorded as explicit; once per study id. */
  promoteExplicitly(candidate: VersionCandidate, refusal: PromotionOutcome): Promise<PromotionOutcome>;
  rollback(version: number): Promise<Result<{ version: number; previous: number | null }>>;
  serving(): Promise<ServingState>;
  setTraffic(
    setting: Omit<TrafficSetting, 'since'> | null,
    guard: LiveGuard | null,
  ): Promise<Result<{ traffic: TrafficSetting | null; guard: LiveGuard }>>;
  /** Promotes the challenger, or rolls a new champion back, on reviewed evidence through the guard; each move once. */
  decideLive(
    action: LiveDecision['action'],
    target: number,
    evidence: ChampionEvidence,
    settings: GuardSettings,
  ): Promise<Result<LiveDecision>>;
  liveDecisions(): Promise<LiveDecision[]>;
}

// ---- TrainingSession: one per session ----

export type SessionStatus = 'running' | 'paused' | 'complete' | 'diverged' | 'failed';

/** The hyperparameters a session may change while it trains (the architecture and optimizer stay). */
export const ADJUSTABLE = ['learningRate', 'batchSize', 'dropout', 'l1', 'l2', 'epochs'] as const;
export type Adjustment = Partial<Pick<ModelConfig, (typeof ADJUSTABLE)[number]>>;

export interface SessionInit {
  id: string;
  model: string;
  dataset: string;
  datasetVersion: string;
  config: ModelConfig;
  seed: number;
  /** At most this many epochs per alarm. */
  sliceEpochs: number;
  /** The wall time one slice aims for; the mini-batches per slice follow from the measured pace. */
  sliceTargetMs: number;
  /** Pause between slices (0: back to back). */
  intervalMs: number;
}

/** Why a session stopped short: a failed slice, or the epoch whose loss was not finite. */
export interface SessionFailure {
  reason: string;
  /** Epochs completed when it happened. */
  epoch: number;
  at: string;
}

export interface AdjustmentMark {
  /** The first epoch (1-based, as on the curve) trained with the new values. */
  epoch: number;
  changes: Adjustment;
  /** The values they replaced. */
  previous: Adjustment;
  at: string;
}

export interface SessionView extends Omit<SessionInit, 'config'> {
  status: SessionStatus;
  epoch: number;
  /** Rows of the epoch in progress already trained (0 between epochs). */
  rowsDone: number;
  /** The hyperparameters in effect for the next epoch. */
  config: ModelConfig;
  curve: EpochRecord[];
  adjustments: AdjustmentMark[];
  promotion: PromotionOutcome | null;
  failure: SessionFailure | null;
  /** How slices are sized: milliseconds per mini-batch (measured, or estimated before the first slice). */
  pace: SlicePace | null;
  createdAt: string;
  updatedAt: string;
}

export interface TrainingSessionContract {
  start(init: SessionInit): Promise<SessionView>;
  view(): Promise<SessionView | null>;
  adjust(changes: Adjustment): Promise<Result<SessionView>>;
  pause(): Promise<Result<SessionView>>;
  resume(): Promise<Result<SessionView>>;
  promote(settings: GuardSettings): Promise<Result<PromotionOutcome>>;
  /**
   * Deletes the session: stops its slices and drops its stored state at once; its dataset pin and its line in
   * the listing are released then, or retried by the alarm until they are. A version it promoted stays.
   */
  remove(): Promise<Result<null>>;
}

/**
 * The dataset catalog's contract is declared beside the dataset code in shared/ (which calls it through
 * DatasetDeps and cannot import from functions/); named here so every object's contract is in one place.
 */
export type { DatasetCatalogApi as DatasetCatalogContract } from '../../shared/datasets';

// ---- Access control: ApiKey (one per key), KeyDirectory and AuditLog (one each) ----

export interface ApiKeyContract {
  /** Stores a new key; false if one with this id exists (ids are random: a clash is a bug). */
  create(record: KeyRecord): Promise<boolean>;
  /**
   * Is the token with this SHA-256 this key, unrevoked and within its rate limit? A yes carries a lease
   * and an allotment taken from the bucket; `returned` gives back an expired allotment's unspent rest.
   */
  check(hash: string, returned?: number): Promise<KeyCheck>;
  /** Idempotent; answers once every lease granted before it has expired. Null for an unknown key. */
  revoke(at: string): Promise<KeySummary | null>;
  summary(): Promise<KeySummary | null>;
}

export interface KeyDirectoryContract {
  add(summary: KeySummary): Promise<void>;
  update(summary: KeySummary): Promise<void>;
  /** Newest first. */
  list(): Promise<KeySummary[]>;
}

export interface AuditLogContract {
  append(entry: NewAuditEntry): Promise<number>;
  /** Newest first; `before` is the `next` of the previous page. */
  page(limit: number, before: number | null): Promise<AuditPage>;
}

// ---- ModelMonitor: one per model (review queue, live quality, drift) ----

export interface ModelMonitorContract {
  /** One request's review items; a repeated request id is a no-op. */
  log(batch: ReviewBatch): Promise<LogOutcome>;
  pending(kind: ReviewKind | null, limit: number, after: string | null): Promise<ReviewPage>;
  get(id: string): Promise<ReviewItem | null>;
  /** Once per item: a labelled or discarded item is refused (conflict). */
  label(id: string, label: string, by: string): Promise<Result<ReviewItem>>;
  discard(id: string, by: string): Promise<Result<ReviewItem>>;
  labelledSince(since: string | null): Promise<ReviewItem[]>;
  quality(): Promise<LiveQuality>;
  /** `versions`: the metadata of every version with rows in the report (for their training distribution). */
  flush(report: MonitorFlush, versions: ModelVersion[]): Promise<void>;
  drift(meta: ModelVersion, threshold?: number): Promise<DriftReport>;
  restartWindow(version: number): Promise<void>;
  labelsSince(since: string | null): Promise<number>;
  /** Appends labelled rows to a new version of the champion's dataset; the new version, or null. */
  appendLabels(): Promise<string | null>;
}
