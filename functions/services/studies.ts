/**
 * Starting studies: one running study per model, whoever asks (admin API, cron, npm start).
 */
import { assignmentOf, type Assignment } from '../../models/search';
import { isEmbeddedDataset, studyHolder } from '../../shared/datasets';
import { rank } from '../../shared/study/leaderboard';
import type { StudySpec } from '../../shared/study/types';
import { versionSource } from '../../shared/study/version-source';
import { refuse, type Result } from '../durable/contracts';
import { catalogStub, monitorStub, registryStub, studyStub } from '../durable/stubs';
import { logError } from '../../shared/log';

export interface StudyNamespaces {
  studies: Env['STUDIES'];
  models: Env['MODELS'];
  catalog: Env['DATASET_CATALOG'];
  /** The model's review labels are appended to its dataset before the study pins a version. */
  monitors?: Env['MONITORS'];
}

/** Sortable, readable and unique: model, UTC timestamp, random suffix. */
export function newStudyId(model: string, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:TZ.]/g, '')
    .slice(0, 14);
  return `${model}-${stamp}-${crypto.randomUUID().slice(0, 6)}`;
}

/** Refused (conflict) while another study of the same model runs. */
export async function startStudy(ns: StudyNamespaces, spec: StudySpec): Promise<Result<{ id: string }>> {
  const registry = registryStub(ns.models, spec.model);
  const claim = await registry.claimStudy(spec.model, spec.id);
  if (!claim.ok) return claim;
  const catalog = catalogStub(ns.catalog);
  const pins = !isEmbeddedDataset(spec.dataset);
  if (pins && ns.monitors) {
    // Labels reviewers gave since the last append go into a new dataset version now, so this study
    // trains on them (the monitor's alarm does the same a few seconds after each label).
    try {
      await monitorStub(ns.monitors, spec.model).appendLabels();
    } catch (err) {
      logError('review_append_failed', { model: spec.model, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  try {
    // The study trains on the version current now, whatever happens to the dataset while it runs;
    // the pin keeps that version until the study releases it at its end.
    if (pins) {
      const pinned = await catalog.pin(spec.dataset, studyHolder(spec.id));
      if (!pinned) {
        // Deleted since the caller looked it up.
        await registry.releaseStudy(spec.id);
        return refuse('not_found', `unknown dataset "${spec.dataset}"`);
      }
      spec = { ...spec, datasetVersion: pinned.version };
    }
    await studyStub(ns.studies, spec.id).start(spec);
  } catch (err) {
    if (pins) await catalog.release(studyHolder(spec.id));
    await registry.releaseStudy(spec.id);
    throw err;
  }
  return claim;
}

/** How many of the source's best configurations a warm start evaluates first. */
export const WARM_START_CONFIGS = 3;

/**
 * Warm start: the best configurations of a study (by id) or of the study that produced a model's
 * current version (by model name), best first; a current version from a training session gives its own
 * configuration (a session has no trials). null when the source is unknown or has none complete.
 */
export async function resolveWarmStart(
  ns: StudyNamespaces,
  from: string,
): Promise<{ from: string; params: Assignment[] } | null> {
  let studyId: string | null = (await studyStub(ns.studies, from).maybeView()) ? from : null;
  if (!studyId) {
    const current = await registryStub(ns.models, from).current();
    if (current && versionSource(current).kind === 'session') return { from, params: [assignmentOf(current.config)] };
    studyId = current?.studyId ?? null;
  }
  if (!studyId) return null;
  const records = await studyStub(ns.studies, studyId).records();
  const best = rank(records)
    .filter((e) => e.status === 'complete')
    .slice(0, WARM_START_CONFIGS);
  return best.length ? { from, params: best.map((e) => e.params) } : null;
}
