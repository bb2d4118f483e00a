/**
 * Starting studies: one running study per model, whoever asks (admin API, cron, npm start).
 */
import type { StudySpec } from '../../shared/study/types';
import { registryStub, studyStub } from '../durable/stubs';

export interface StudyNamespaces {
  studies: Env['STUDIES'];
  models: Env['MODELS'];
}

export type StartResult = { started: true; id: string } | { started: false; id: string; reason: 'already_running' };

/** Sortable, readable and unique: model, UTC timestamp, random suffix. */
export function newStudyId(model: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:TZ.]/g, '').slice(0, 14);
  return `${model}-${stamp}-${crypto.randomUUID().slice(0, 6)}`;
}

export async function startStudy(ns: StudyNamespaces, spec: StudySpec): Promise<StartResult> {
  const registry = registryStub(ns.models, spec.model);
  const claim = await registry.claimStudy(spec.model, spec.id);
  if (!claim.claimed) return { started: false, id: claim.id, reason: 'already_running' };
  try {
    await studyStub(ns.studies, spec.id).start(spec);
  } catch (err) {
    await registry.releaseStudy(spec.id);
    throw err;
  }
  return { started: true, id: spec.id };
}
