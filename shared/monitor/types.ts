import type { ChampionEvidence } from '../study/compare';
import type { ColumnKind } from './columns';

/** Confidence histograms have this many equal bins over [0, 1]. */
export const CONFIDENCE_BINS = 10;

/** The vocabulary of the live loop: review items, live quality, drift, and what an isolate reports. */

/** `flagged`: below the review threshold. `audit`: a confident prediction sampled at random, kept apart. */
export type ReviewKind = 'flagged' | 'audit';
export type ReviewStatus = 'pending' | 'labelled' | 'discarded';

/** A prediction as the request path hands it over (one per logged instance). */
export interface NewReview {
  kind: ReviewKind;
  version: number;
  /** The instance as the caller sent it (an array in the model's feature order, or an object by name). */
  input: unknown;
  /** inputKey(input): equal inputs are one review item. */
  inputKey: string;
  label: string;
  confidence: number;
  probabilities: Record<string, number>;
}

export interface ReviewItem {
  id: string;
  model: string;
  version: number;
  kind: ReviewKind;
  status: ReviewStatus;
  input: unknown;
  predicted: { label: string; confidence: number; probabilities: Record<string, number> };
  createdAt: string;
  /** How many logged predictions carried this input (the first made the item). */
  seen: number;
  label: string | null;
  labelledAt: string | null;
  labelledBy: string | null;
  /** The dataset version the labelled row was appended to (null until it is). */
  appendedTo: string | null;
  appendError: string | null;
}

export interface ReviewPage {
  reviews: ReviewItem[];
  /** Pass as `after` for the next page; null on the last page. */
  next: string | null;
}

/** What one request logs: its id makes a retried hand-over a no-op (exactly once per request). */
export interface ReviewBatch {
  model: string;
  requestId: string;
  items: NewReview[];
  /** Items this isolate left out since its last batch because of its rate gate (sampled under load). */
  skipped: number;
}

export interface LogOutcome {
  added: number;
  duplicates: number;
  /** Refused because the queue is at its bound. */
  dropped: number;
}

/** Accuracy on reviewed labels of one kind; null accuracy when nothing is labelled yet. */
export interface LabelScore {
  labelled: number;
  correct: number;
  accuracy: number | null;
}

export interface VersionQuality {
  version: number;
  /** Flagged items (hard cases: biased towards errors) and the random audit sample (unbiased), apart. */
  flagged: LabelScore;
  audit: LabelScore;
  pending: number;
  /** Confidence of every served prediction, 10 bins over [0, 1]. */
  confidence: number[];
  served: number;
}

export interface Agreement {
  champion: number;
  challenger: number;
  mode: 'shadow' | 'canary';
  compared: number;
  agreed: number;
  rate: number | null;
}

export interface LiveQuality {
  versions: VersionQuality[];
  agreement: Agreement[];
  /** Items the request path left out under load, and items refused at the queue's bound. */
  skipped: number;
  dropped: number;
}

/** Served-traffic counters an isolate accumulates and hands over now and then. */
export interface MonitorFlush {
  model: string;
  /** version -> counts per confidence bin (10 over [0, 1]). */
  confidence: Record<string, number[]>;
  agreement: Agreement[];
  /** Sampled served rows per version, row-major in that version's feature order. */
  rows: { version: number; features: number; x: Float32Array }[];
  /** Sampled served instances of table versions, as the callers sent them (binned per column by the monitor). */
  instances?: { version: number; instances: unknown[] }[];
}

export interface FeatureDrift {
  /** The feature, or for a table version its input column. */
  feature: string;
  kind: ColumnKind;
  psi: number;
  /** numeric: the training quantiles the value bins are cut at; empty for categories. */
  edges: number[];
  /** A name per bin ("<= 3.5", "Dream", "(missing)", "(unseen)"). */
  bins: string[];
  /** Training and served counts per bin. */
  expected: number[];
  served: number[];
}

export interface DriftReport {
  model: string;
  version: number;
  /** Served rows sketched since the window started (the version's promotion, or the last re-tune). */
  rows: number;
  since: string | null;
  threshold: number;
  /** Largest PSI over the features; null while fewer than MIN_DRIFT_ROWS rows were sketched. */
  maxPsi: number | null;
  drifted: string[];
  features: FeatureDrift[];
}

/** Challenger traffic of a model (PUT /v1/models/:name/traffic). */
export interface TrafficSetting {
  challenger: number;
  /** canary: `percent` of callers (sticky) are answered by the challenger; shadow: it predicts too, unseen. */
  mode: 'canary' | 'shadow';
  percent: number;
  /** When it was set: reviewed evidence about the challenger counts from here. */
  since: string;
}

/** The live guard: how much reviewed evidence a live promotion or an automatic rollback needs. */
export interface LiveGuard {
  /** Labelled items (since the traffic was set, or since the champion took over) before anything is decided. */
  minLabels: number;
  margin: number;
  significance: number;
}

export const DEFAULT_LIVE_GUARD: LiveGuard = { minLabels: 30, margin: 0.05, significance: 0.05 };

/** A decision taken on reviewed labels: the challenger promoted, or a new champion rolled back. */
export interface LiveDecision {
  action: 'promote' | 'rollback';
  from: number;
  to: number;
  moved: boolean;
  reason: string;
  comparison: ChampionEvidence;
  decidedAt: string;
}
