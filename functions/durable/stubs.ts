/**
 * Typed handles on the Durable Objects. workerd's generated RPC types recurse through JSON-shaped
 * values (search-space assignments) until TypeScript gives up, so calls go through these plain
 * interfaces; the values themselves are structured-cloneable data.
 */
import type {
  ModelVersion,
  PromotionOutcome,
  StudySpec,
  StudyView,
  TrialRecord,
  VersionCandidate,
} from '../../shared/study/types';
import type { TrialResult } from '../../shared/study/trial';
import type { RegistryState, RollbackResult } from './model-registry';
import type { RungDecision } from '../../shared/study/asha';
import type { RungResult, TrialTask } from './study-coordinator';
import type { Adjustment, SessionInit, SessionResult, SessionView } from './training-session';

export interface StudyCoordinatorApi {
  start(spec: StudySpec): Promise<StudyView>;
  trialTask(n: number): Promise<TrialTask | null>;
  report(n: number, result: TrialResult): Promise<{ accepted: boolean }>;
  rung(n: number, epoch: number, valAccuracy: number): Promise<RungDecision>;
  rungs(): Promise<Record<string, RungResult[]>>;
  resume(): Promise<StudyView | null>;
  records(): Promise<TrialRecord[]>;
  view(): Promise<StudyView>;
  maybeView(): Promise<StudyView | null>;
}

export interface ModelRegistryApi {
  current(): Promise<ModelVersion | null>;
  version(v: number): Promise<ModelVersion | null>;
  state(): Promise<RegistryState>;
  listVersions(): Promise<ModelVersion[]>;
  claimStudy(model: string, studyId: string): Promise<{ claimed: boolean; id: string }>;
  releaseStudy(studyId: string): Promise<void>;
  lastStudyEndedAt(): Promise<string | null>;
  promote(candidate: VersionCandidate, margin: number): Promise<PromotionOutcome>;
  rollback(version: number): Promise<RollbackResult>;
}

export interface TrainingSessionApi {
  start(init: SessionInit): Promise<SessionView>;
  view(): Promise<SessionView | null>;
  adjust(changes: Adjustment): Promise<SessionResult<SessionView>>;
  pause(): Promise<SessionResult<SessionView>>;
  resume(): Promise<SessionResult<SessionView>>;
  promote(margin: number): Promise<SessionResult<PromotionOutcome>>;
}

export function studyStub(ns: Env['STUDIES'], id: string): StudyCoordinatorApi {
  return ns.get(ns.idFromName(id)) as unknown as StudyCoordinatorApi;
}

export function registryStub(ns: Env['MODELS'], model: string): ModelRegistryApi {
  return ns.get(ns.idFromName(model)) as unknown as ModelRegistryApi;
}

export function sessionStub(ns: Env['SESSIONS'], id: string): TrainingSessionApi {
  return ns.get(ns.idFromName(id)) as unknown as TrainingSessionApi;
}
