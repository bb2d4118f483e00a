// Wire types the server defines once; type-only imports, erased from the bundle.
import type { EpochRecord } from '../../models/epoch';
import type { Evaluation } from '../../functions/services/evaluation';
import type { Prediction } from '../../functions/services/predict';
import type { ChampionEvidence, GuardSettings } from '../../shared/study/compare';
import type { DatasetHeadline, SessionHeadline, StudyHeadline } from '../../shared/storage/headlines';
import type { EnsembleReport, LeaderboardEntry, ModelVersion, RegistryEvent } from '../../shared/study/types';
export type { EnsembleReport };
import type {
  DriftReport,
  LiveDecision,
  LiveGuard,
  LiveQuality,
  ReviewItem,
  ReviewPage,
  TrafficSetting,
} from '../../shared/monitor/types';
import type { inputSchema } from '../../models/preprocess';
import type { DatasetMeta } from '../../shared/dataset-meta';
import type { VersionSource } from '../../shared/study/version-source';
import { adminToken } from './token';

export type { DriftReport, LiveDecision, LiveQuality, ReviewItem };

export interface TrafficView {
  model: string;
  current: number | null;
  traffic: TrafficSetting | null;
  guard: LiveGuard;
  decisions: LiveDecision[];
}

export type { ChampionEvidence, EpochRecord, Evaluation, GuardSettings, LeaderboardEntry, Prediction };

/** A table model's inputs as GET /v1/models/:name shows them (one entry per input column). */
export type InputColumnView = ReturnType<typeof inputSchema>[number];
/** GET /v1/datasets/:name answers the stored dataset meta as it is. */
export type { DatasetMeta };

/** One value of a request instance: numbers, or for a table model also text and null (missing). */
export type InstanceValue = number | string | boolean | null;

/**
 * The dashboard's view of the JSON API (README "HTTP API"; /openapi.json). Only the fields the views
 * read are typed; the worker sends more.
 */

export type Config = Record<string, unknown> & {
  optimizer: string;
  learningRate: number;
  depth: number;
  width: number;
  activation: string;
  batchNorm: boolean;
  batchSize: number;
  dropout: number;
};
export type Params = Record<string, unknown>;
export type FinishedState = 'complete' | 'diverged' | 'failed' | 'pruned';

/** A version's metrics, as the registry stores them. */
export type Metrics = ModelVersion['metrics'];

export interface ModelSummary {
  name: string;
  version: number | null;
  metrics: { validationAccuracy: number; testAccuracy: number } | null;
  studyId: string | null;
}

export interface ModelMeta {
  name: string;
  version: number;
  createdAt: string;
  studyId: string;
  trial: number;
  source: VersionSource;
  dataset: string;
  featureNames: string[];
  standardisation: { mean: number[]; std: number[] };
  classNames: string[];
  hyperparameters: Config;
  /** Table models: the input columns with their types, categories and imputation values. */
  inputSchema?: InputColumnView[];
  metrics: Metrics;
  threshold: number;
  /** An ensemble version's members (null: a single network; absent from older workers). */
  members?: { trial: number; weight: number; validationAccuracy: number; hyperparameters: Config }[] | null;
  /** Temperature scaling (null/absent: versions promoted before it). */
  calibration?: Calibration | null;
  /** Live quality per served version, as of `asOf` (null: the monitor did not answer in time). */
  live?: (LiveQuality & { asOf: string }) | null;
}

export interface ReliabilityBin {
  upper: number;
  rows: number;
  accuracy: number | null;
  confidence: number | null;
}

export interface Calibration {
  temperature: number;
  eceBefore: number;
  eceAfter: number;
  test: { eceBefore: number; eceAfter: number; before: ReliabilityBin[]; after: ReliabilityBin[] };
}

export interface VersionList {
  model: string;
  current: number | null;
  versions: {
    version: number;
    createdAt: string;
    studyId: string;
    trial: number;
    source: VersionSource;
    metrics: Metrics;
    /** The evidence it was promoted on; null for versions promoted before the paired guard. */
    promotedBy: { reason: string; comparison: ChampionEvidence | null; explicit: boolean } | null;
  }[];
  history: RegistryEvent[];
}

export interface PredictResponse {
  model: string;
  version: number;
  predictions: Prediction[];
}

export type StudySummary = StudyHeadline & { id: string };

export interface Progress {
  total: number;
  pending: number;
  running: number;
  complete: number;
  diverged: number;
  failed: number;
  /** Stopped early by successive halving (strategy asha); absent from workers that predate it. */
  pruned?: number;
}

export interface StudyView {
  id: string;
  spec: {
    model: string;
    dataset: string;
    strategy: string;
    trials: number;
    seed: number;
    parallelism: number;
    margin: number;
    budget: { epochs: number; maxSeconds: number };
    createdAt: string;
    origin: string;
    /** Absent in specs stored before samplers and pruners were separate choices. */
    sampler?: string;
    pruner?: { type: string; minEpochs?: number; reductionFactor?: number } | null;
  };
  status: 'running' | 'complete';
  progress: Progress;
  leaderboard: LeaderboardEntry[];
  best: LeaderboardEntry | null;
  promotion: {
    promoted: boolean;
    version: number | null;
    reason: string;
    candidate: { trial: number; valAccuracy: number; testAccuracy: number } | null;
    /** Absent from outcomes recorded before the paired guard. */
    comparison?: ChampionEvidence | null;
    guard?: GuardSettings | null;
    explicit?: boolean;
    advice?: string;
    ensemble?: EnsembleReport;
  } | null;
  updatedAt: string;
}

export interface TrialRecord {
  trial: number;
  status: FinishedState;
  reason: string | null;
  params: Params;
  config: Config;
  history: EpochRecord[];
  final: { valAccuracy: number; valLoss: number } | null;
}

export type DatasetSummary = DatasetHeadline & { name: string };

export interface Health {
  status: 'ok' | 'degraded';
  backend: string;
  simd: boolean;
  tfjsVersion: string;
}

export interface StudyRequest {
  dataset: string;
  model?: string;
  strategy: string;
  trials: number;
  seed?: number;
  parallelism: number;
  margin: number;
  significance: number;
  budget: { epochs: number; maxSeconds: number };
  from?: string;
}

export type SessionSummary = SessionHeadline & { id: string };

export interface AdjustmentMark {
  /** The first epoch trained with the new values. */
  epoch: number;
  changes: Record<string, number>;
  previous: Record<string, number>;
  at: string;
}

export interface SessionView {
  id: string;
  model: string;
  dataset: string;
  status: 'running' | 'paused' | 'complete' | 'diverged' | 'failed';
  epoch: number;
  sliceEpochs: number;
  /** Why the session failed or diverged. */
  failure: { reason: string; epoch: number; at: string } | null;
  config: Config & { epochs: number };
  curve: EpochRecord[];
  adjustments: AdjustmentMark[];
  promotion: { promoted: boolean; version: number | null; reason: string } | null;
  createdAt: string;
}

export interface SessionRequest {
  dataset: string;
  model?: string;
  config: Record<string, number | string | boolean>;
}

export interface KeySummary {
  id: string;
  name: string;
  scopes: string[];
  models: string[] | null;
  rateLimit: { requests: number; perSeconds: number } | null;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
}

export interface KeyRequest {
  name: string;
  scopes: string[];
  models: string[] | null;
  rateLimit: { requests: number; perSeconds: number } | null;
}

export interface KeySelf {
  mode: 'open' | 'keys';
  keyId: string | null;
  scopes: ('predict' | 'read' | 'review' | 'admin')[];
  models: string[] | null;
}

/** An error answer of the API ({ error: { code, message } }) or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function request<T>(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
  token?: string,
): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  // Every call carries the key entered in the header (any scope): in ACCESS_MODE=keys reads need one too.
  const key = token ?? adminToken();
  if (key) headers.authorization = `Bearer ${key}`;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, 'network', `cannot reach the worker: ${err instanceof Error ? err.message : String(err)}`);
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // A non-JSON answer (e.g. a proxy error page) is reported below with its status.
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, e?.code ?? 'http', e?.message ?? `${res.status} ${res.statusText}`);
  }
  return json as T;
}

const seg = encodeURIComponent;

export const api = {
  /** The OpenAPI document: the start form takes its choices (strategies) from it, so it follows the API. */
  openapi: () =>
    request<{ components?: { schemas?: Record<string, { properties?: Record<string, { enum?: string[] }> }> } }>(
      'GET',
      '/openapi.json',
    ),
  health: () => request<Health>('GET', '/health'),
  reviews: (name: string, after?: string | null) =>
    request<ReviewPage>('GET', `/v1/models/${seg(name)}/reviews?limit=50${after ? `&after=${seg(after)}` : ''}`),
  label: (id: string, label: string) => request<ReviewItem>('POST', `/v1/reviews/${seg(id)}`, { label }),
  discard: (id: string) => request<ReviewItem>('DELETE', `/v1/reviews/${seg(id)}`),
  quality: (name: string) => request<LiveQuality>('GET', `/v1/models/${seg(name)}/quality`),
  drift: (name: string) => request<DriftReport>('GET', `/v1/models/${seg(name)}/drift`),
  traffic: (name: string) => request<TrafficView>('GET', `/v1/models/${seg(name)}/traffic`),
  setTraffic: (
    name: string,
    body: { challenger: number | null; mode?: 'canary' | 'shadow'; percent?: number },
    token: string,
  ) => request<TrafficView>('PUT', `/v1/models/${seg(name)}/traffic`, body, token),
  datasets: () => request<{ datasets: DatasetSummary[] }>('GET', '/v1/datasets'),
  models: () => request<{ models: ModelSummary[] }>('GET', '/v1/models'),
  model: (name: string) => request<ModelMeta>('GET', `/v1/models/${seg(name)}`),
  versions: (name: string) => request<VersionList>('GET', `/v1/models/${seg(name)}/versions`),
  evaluation: (name: string) => request<Evaluation>('GET', `/v1/models/${seg(name)}/evaluation`),
  dataset: (name: string) => request<DatasetMeta>('GET', `/v1/datasets/${seg(name)}`),
  predict: (name: string, instances: (InstanceValue[] | Record<string, InstanceValue>)[]) =>
    request<PredictResponse>('POST', `/v1/models/${seg(name)}/predict`, { instances }),
  rollback: (name: string, version: number, token: string) =>
    request<{ model: string; version: number; previous: number | null }>(
      'POST',
      `/v1/models/${seg(name)}/rollback`,
      { version },
      token,
    ),
  studies: () => request<{ studies: StudySummary[] }>('GET', '/v1/studies'),
  study: (id: string) => request<StudyView>('GET', `/v1/studies/${seg(id)}`),
  trials: (id: string) => request<{ studyId: string; trials: TrialRecord[] }>('GET', `/v1/studies/${seg(id)}/trials`),
  sessions: () => request<{ sessions: SessionSummary[] }>('GET', '/v1/sessions'),
  session: (id: string) => request<SessionView>('GET', `/v1/sessions/${seg(id)}`),
  startSession: (body: SessionRequest, token: string) => request<SessionView>('POST', '/v1/sessions', body, token),
  adjustSession: (id: string, changes: Record<string, number>, token: string) =>
    request<SessionView>('POST', `/v1/sessions/${seg(id)}/adjust`, changes, token),
  pauseSession: (id: string, token: string) => request<SessionView>('POST', `/v1/sessions/${seg(id)}/pause`, {}, token),
  resumeSession: (id: string, token: string) =>
    request<SessionView>('POST', `/v1/sessions/${seg(id)}/resume`, {}, token),
  promoteSession: (id: string, token: string) =>
    request<{ promoted: boolean; version: number | null; reason: string }>(
      'POST',
      `/v1/sessions/${seg(id)}/promote`,
      {},
      token,
    ),
  /** 204, no body: resolves to null. */
  deleteSession: (id: string, token: string) => request<null>('DELETE', `/v1/sessions/${seg(id)}`, undefined, token),
  promoteStudy: (id: string, token: string) =>
    request<NonNullable<StudyView['promotion']>>('POST', `/v1/studies/${seg(id)}/promote`, {}, token),
  self: () => request<KeySelf>('GET', '/v1/keys/self'),
  keys: () => request<{ keys: KeySummary[] }>('GET', '/v1/keys'),
  createKey: (body: KeyRequest, token: string) =>
    request<{ key: KeySummary; token: string }>('POST', '/v1/keys', body, token),
  revokeKey: (id: string, token: string) => request<KeySummary>('DELETE', `/v1/keys/${seg(id)}`, undefined, token),
  startStudy: (body: StudyRequest, token: string) =>
    request<{ id: string; model: string; status: 'running'; trials: number }>('POST', '/v1/studies', body, token),
};
