import { env } from 'cloudflare:workers';
import {
  createExecutionContext,
  createScheduledController,
  runInDurableObject,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import worker from '../../functions/worker';
import { runSchedules, schedulesFrom, type Schedule } from '../../functions/cron';
import { registryStub, studyStub } from '../../functions/durable/stubs';
import { DatasetCatalog } from '../../functions/durable/dataset-catalog';
import { ModelRegistry } from '../../functions/durable/model-registry';
import { StudyCoordinator } from '../../functions/durable/study-coordinator';
import { D1Listings } from '../../shared/storage/listings';
import { call, studyRequest, waitForStudy } from './api-helpers';
import { faithful } from './platform/faithful';

const schedule = (model: string): Schedule => ({
  model,
  dataset: 'digits',
  everyHours: 24,
  trials: 2,
  budget: { epochs: 2, maxSeconds: 30 },
  parallelism: 2,
});

describe('cron: scheduled re-tuning', () => {
  it('the scheduled handler starts the due study from RETUNE_SCHEDULES; a second run while it is running starts nothing', async () => {
    const [s] = schedulesFrom(env);
    expect(s!.model).toBe('cron-digits');
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: '0 */6 * * *', scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
    const state = await registryStub(env.MODELS, 'cron-digits').state();
    expect(state.activeStudy).not.toBeNull();
    const id = state.activeStudy!.id;
    expect((await runSchedules(env)).started).toEqual([]);
    const view = await waitForStudy(id);
    expect(view.spec.origin).toBe('cron');
    expect(view.promotion.promoted).toBe(true);
    // Not due again until everyHours have passed since the study ended.
    expect((await runSchedules(env)).started).toEqual([]);
    const tomorrow = new Date(Date.now() + 25 * 3600_000);
    const next = await runSchedules(env, tomorrow, [schedule('cron-digits')]);
    expect(next.started).toHaveLength(1);
    await waitForStudy(next.started[0]!);
  });

  it('two overlapping cron runs and a manual start at the same moment: one study for the model', async () => {
    const model = 'cron-race';
    const [a, b, manual] = await Promise.all([
      runSchedules(env, new Date(), [schedule(model)]),
      runSchedules(env, new Date(), [schedule(model)]),
      call('/v1/studies', {
        method: 'POST',
        admin: true,
        json: studyRequest(model, { trials: 2, budget: { epochs: 2, maxSeconds: 30 } }),
      }),
    ]);
    const started = [...a.started, ...b.started, ...(manual.status === 202 ? [manual.body.id] : [])];
    expect(started).toHaveLength(1);
    if (manual.status !== 202) {
      expect(manual.status).toBe(409);
      expect(manual.body.error.code).toBe('conflict');
    }
    const view = await waitForStudy(started[0]!);
    const history = (await registryStub(env.MODELS, model).state()).history;
    expect(history.filter((h) => h.action === 'promote')).toHaveLength(view.promotion.promoted ? 1 : 0);
    expect(history).toHaveLength(1);
  });

  it('finishes a study left incomplete: a trial whose message was lost is dispatched again', async () => {
    const model = 'cron-resume';
    const res = await call('/v1/studies', {
      method: 'POST',
      admin: true,
      json: studyRequest(model, { trials: 2, parallelism: 1 }),
    });
    expect(res.status).toBe(202);
    const done = await waitForStudy(res.body.id);
    const stub = env.STUDIES.get(env.STUDIES.idFromName(res.body.id));
    // Rewind the coordinator to "trial 1 started an hour ago and never reported, nothing decided".
    await runInDurableObject(stub, async (_instance, state) => {
      const slot = (await state.storage.get<Record<string, unknown>>('slot:0001'))!;
      const hourAgo = Date.now() - 3600_000;
      await state.storage.put({
        'slot:0001': { ...slot, state: 'running', dispatches: 1, dispatchedAt: hourAgo, startedAt: hourAgo },
        status: 'running',
      });
      await state.storage.delete(['record:0001', 'promotion']);
    });
    const rewound = await studyStub(env.STUDIES, res.body.id).view();
    expect(rewound).toMatchObject({ status: 'running', progress: { running: 1 } });
    // What the cron does for every study the index shows running.
    await studyStub(env.STUDIES, res.body.id).resume();
    const finished = await waitForStudy(res.body.id);
    expect(finished.progress).toEqual(done.progress);
    // The registry answers a repeated promotion request of the same study with its first decision.
    expect(finished.promotion.version).toBe(done.promotion.version);
    expect((await registryStub(env.MODELS, model).state()).history).toHaveLength(1);
  });

  it("an object that does not answer costs only its own schedule or study: the cron's other work still runs", async () => {
    const listings = new D1Listings(env.DB);
    // Two studies the listing shows running (their objects hold nothing: resume() answers null).
    for (const id of ['cron-ghost-a', 'cron-ghost-b'])
      await listings.upsert('study', id, {
        createdAt: new Date().toISOString(),
        status: 'running',
        dataset: 'digits',
        headline: {},
      });
    const is = (ns: { idFromName(name: string): DurableObjectId }, name: string) => (self: object) =>
      (self as unknown as { ctx: DurableObjectState }).ctx.id.equals(ns.idFromName(name));
    const undo = [
      faithful.failNextObjectCall(StudyCoordinator, 'resume', is(env.STUDIES, 'cron-ghost-a')),
      faithful.failNextObjectCall(ModelRegistry, 'state', is(env.MODELS, 'cron-broken')),
    ];
    try {
      const run = await runSchedules(env, new Date(), [schedule('cron-broken'), schedule('cron-healthy')]);
      expect(run.resumed).toContain('cron-ghost-b');
      expect(run.resumed).not.toContain('cron-ghost-a');
      expect(run.started).toEqual([expect.stringMatching(/^cron-healthy-/)]);
      // The failures were one-offs: the next run starts the model that was skipped.
      const next = await runSchedules(env, new Date(), [schedule('cron-broken'), schedule('cron-healthy')]);
      expect(next.resumed).toEqual(expect.arrayContaining(['cron-ghost-a', 'cron-ghost-b']));
      expect(next.started).toEqual([expect.stringMatching(/^cron-broken-/)]);
      for (const id of [...run.started, ...next.started]) await waitForStudy(id);
    } finally {
      for (const f of undo) f();
      for (const id of ['cron-ghost-a', 'cron-ghost-b']) await listings.remove('study', id);
    }
  });

  it('schedules from RETUNE_SCHEDULES still run when the dataset catalog cannot be read', async () => {
    const undo = faithful.failNextObjectCall(DatasetCatalog, 'list', () => true);
    try {
      // Two days on, the configured model is due whatever ran before.
      const run = await runSchedules(env, new Date(Date.now() + 49 * 3600_000));
      expect(run.started).toEqual([expect.stringMatching(/^cron-digits-/)]);
      for (const id of run.started) await waitForStudy(id);
    } finally {
      undo();
    }
  });
});
