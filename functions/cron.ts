/**
 * The scheduled handler: starts a re-tuning study for every model whose schedule is due and finishes
 * studies left incomplete. Safe to overlap with itself and with manual starts: the model registry
 * admits one running study per model and every coordinator operation is idempotent.
 */
import { z } from '@hono/zod-openapi';
import { log, logError } from '../shared/log';
import { getDatasetMeta, type DatasetCatalogApi } from '../shared/datasets';
import type { ModelHeadline } from '../shared/storage/headlines';
import { D1Listings } from '../shared/storage/listings';
import { DEFAULT_SIGNIFICANCE } from '../shared/study/compare';
import { resolveSearch } from '../shared/study/search';
import { buildStudySpec } from '../shared/study/spec';
import type { StudyTrigger } from '../shared/study/types';
import { versionSource } from '../shared/study/version-source';
import { DEFAULT_PSI_THRESHOLD } from '../shared/monitor/psi';
import { NAME_PATTERN, ScheduleSchema } from './api/schemas';
import { catalogStub, monitorStub, registryStub, studyStub } from './durable/stubs';
import { newStudyId, startStudy } from './services/studies';

/** A RETUNE_SCHEDULES entry: a dataset schedule (the bounds the API accepts) naming its model and dataset. */
const RetuneScheduleSchema = ScheduleSchema.extend({
  model: z.string().regex(NAME_PATTERN),
  dataset: z.string().regex(NAME_PATTERN),
});
export type Schedule = z.infer<typeof RetuneScheduleSchema> & {
  /** A served model no schedule names: re-tuned on drift or new labels only, never because time passed. */
  liveOnly?: true;
};

/** Used when RETUNE_SCHEDULES is unset or invalid. */
export const DEFAULT_SCHEDULES: Schedule[] = [
  {
    model: 'digits',
    dataset: 'digits',
    everyHours: 24,
    trials: 24,
    budget: { epochs: 20, maxSeconds: 60 },
    parallelism: 4,
  },
];

/** The re-tuning schedules are data: the RETUNE_SCHEDULES variable in wrangler.toml (a JSON array). */
export function schedulesFrom(env: Pick<Env, 'RETUNE_SCHEDULES'>): Schedule[] {
  if (!env.RETUNE_SCHEDULES) return DEFAULT_SCHEDULES;
  let json: unknown;
  try {
    json = JSON.parse(env.RETUNE_SCHEDULES);
  } catch (err) {
    logError('bad_schedules', { message: `RETUNE_SCHEDULES is not JSON: ${err instanceof Error ? err.message : err}` });
    return DEFAULT_SCHEDULES;
  }
  const parsed = z.array(RetuneScheduleSchema).safeParse(json);
  if (parsed.success) return parsed.data;
  logError('bad_schedules', { message: parsed.error.message });
  return DEFAULT_SCHEDULES;
}

export async function isDue(env: Env, s: Schedule, now: Date): Promise<boolean> {
  return (await retuneTrigger(env, s, now)) !== null;
}

/** Reviewed labels since the model's last study that start a re-tune on their own. */
export const LABELS_FOR_RETUNE = 30;

/**
 * Why the model should be re-tuned now, or null: its served inputs drifted (PSI over the threshold on
 * any feature), enough reviewed labels arrived since its last study, or its schedule is due.
 */
export async function retuneTrigger(env: Env, s: Schedule, now: Date): Promise<StudyTrigger | null> {
  const registry = registryStub(env.MODELS, s.model);
  const [state, lastEnded] = await Promise.all([registry.state(), registry.lastStudyEndedAt()]);
  if (state.activeStudy) return null;
  if (state.current) {
    const monitor = monitorStub(env.MONITORS, s.model);
    try {
      const drift = await monitor.drift(state.current, DEFAULT_PSI_THRESHOLD);
      if (drift.maxPsi !== null && drift.maxPsi > drift.threshold)
        return {
          kind: 'drift',
          detail: `PSI ${drift.maxPsi.toFixed(3)} > ${drift.threshold} on ${drift.drifted.slice(0, 5).join(', ')}${drift.drifted.length > 5 ? ', …' : ''} (${drift.rows} served rows of v${drift.version} since ${drift.since})`,
        };
      const labels = await monitor.labelsSince(lastEnded);
      if (labels >= LABELS_FOR_RETUNE)
        return { kind: 'labels', detail: `${labels} reviewed labels since ${lastEnded ?? 'the first version'}` };
    } catch (err) {
      // The live signals are an addition: without them the schedule still decides.
      logError('retune_signals_failed', { model: s.model, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  if (s.liveOnly) return null;
  if (!lastEnded || now.getTime() - Date.parse(lastEnded) >= s.everyHours * 3600_000)
    return { kind: 'schedule', detail: `every ${s.everyHours} h` };
  return null;
}

/** Schedules of stored datasets (their settings), from the catalog's one listing. */
async function datasetSchedules(catalog: DatasetCatalogApi): Promise<Schedule[]> {
  const out: Schedule[] = [];
  for (const meta of await catalog.list())
    if (meta.settings.schedule) out.push({ model: meta.name, dataset: meta.name, ...meta.settings.schedule });
  return out;
}

/** A live-only re-tune of a model whose champion did not come from a study (a training session). */
const LIVE_ONLY_DEFAULTS = { trials: 24, budget: { epochs: 20, maxSeconds: 60 }, parallelism: 4 };

/**
 * Served models that no schedule names still close the live loop: the cron re-tunes them when their
 * inputs drift or reviewed labels arrive, with the trial count, budget and parallelism of the study that
 * produced their champion (a re-tune costs what the user chose to spend before). `everyHours` is unused.
 */
export async function liveOnlySchedules(env: Env, scheduled: Schedule[]): Promise<Schedule[]> {
  const named = new Set(scheduled.map((s) => s.model));
  const out: Schedule[] = [];
  for (const { id: model } of await new D1Listings(env.DB).list<ModelHeadline>('model')) {
    if (named.has(model)) continue;
    try {
      const current = await registryStub(env.MODELS, model).current();
      if (!current) continue;
      // A champion from a training session has no study to take the settings from: defaults then.
      const spec =
        versionSource(current).kind === 'session'
          ? null
          : ((await studyStub(env.STUDIES, current.studyId).maybeView())?.spec ?? null);
      const { trials, budget, parallelism } = spec ?? LIVE_ONLY_DEFAULTS;
      out.push({ model, dataset: current.dataset, everyHours: 24 * 365, trials, budget, parallelism, liveOnly: true });
    } catch (err) {
      // This model waits for the next run; the others are not held up by one object's failure.
      logError('schedule_failed', { model, reason: String(err) });
    }
  }
  return out;
}

/**
 * One cron run. Studies left running are resumed first: that is the safety net for work already under
 * way, and nothing a schedule does (a lost connection to one model's object, say) can skip it. Then each
 * schedule is checked and, when due, started; a failure is logged and costs only that schedule this run.
 */
export async function runSchedules(
  env: Env,
  now = new Date(),
  schedules?: Schedule[],
): Promise<{ started: string[]; resumed: string[] }> {
  const resumed: string[] = [];
  for (const id of await new D1Listings(env.DB).withStatus('study', 'running')) {
    try {
      await studyStub(env.STUDIES, id).resume();
      resumed.push(id);
    } catch (err) {
      logError('resume_failed', { studyId: id, reason: String(err) });
    }
  }
  const catalog = catalogStub(env.DATASET_CATALOG);
  let all = schedules;
  if (!all) {
    const scheduled = [...schedulesFrom(env), ...(await orNone('dataset', () => datasetSchedules(catalog)))];
    all = [...scheduled, ...(await orNone('live-only', () => liveOnlySchedules(env, scheduled)))];
  }
  const started: string[] = [];
  for (const s of all) {
    try {
      const id = await runSchedule(env, catalog, s, now);
      if (id) started.push(id);
    } catch (err) {
      // e.g. the dataset was deleted since it was listed, or the model's object did not answer.
      logError('schedule_failed', { model: s.model, reason: String(err) });
    }
  }
  log('cron', { started, resumed });
  return { started, resumed };
}

/** One source of schedules; if it cannot be read this run, the others still run (and it is logged). */
async function orNone(source: string, read: () => Promise<Schedule[]>): Promise<Schedule[]> {
  try {
    return await read();
  } catch (err) {
    logError('schedules_unread', { source, reason: String(err) });
    return [];
  }
}

/** Starts the schedule's study if it is due; the study's id, or null. */
async function runSchedule(
  env: Env,
  catalog: ReturnType<typeof catalogStub>,
  s: Schedule,
  now: Date,
): Promise<string | null> {
  const trigger = await retuneTrigger(env, s, now);
  if (!trigger) return null;
  const dataset = await getDatasetMeta(catalog, s.dataset);
  if (!dataset) {
    logError('schedule_skipped', { model: s.model, reason: `unknown dataset "${s.dataset}"` });
    return null;
  }
  const spec = buildStudySpec(dataset, {
    id: newStudyId(s.model, now),
    model: s.model,
    origin: 'cron',
    search: resolveSearch({ sampler: 'random', pruner: null }),
    trials: s.trials,
    // A fresh, recorded seed per scheduled run: re-tuning explores new configurations each time.
    seed: Math.floor(now.getTime() / 1000) % 2 ** 31,
    parallelism: s.parallelism,
    margin: 0,
    significance: DEFAULT_SIGNIFICANCE,
    budget: s.budget,
    now,
    trigger,
  });
  const ns = { studies: env.STUDIES, models: env.MODELS, catalog: env.DATASET_CATALOG, monitors: env.MONITORS };
  const result = await startStudy(ns, spec);
  if (!result.ok) return null;
  if (trigger.kind === 'drift') {
    // The shift that started this study is acted on: the served window starts again. The study runs
    // either way; a window left as it was may start one more re-tune for the same shift after this one.
    try {
      const current = await registryStub(env.MODELS, s.model).current();
      if (current) await monitorStub(env.MONITORS, s.model).restartWindow(current.version);
    } catch (err) {
      logError('restart_window_failed', { model: s.model, reason: String(err) });
    }
  }
  return result.value.id;
}
