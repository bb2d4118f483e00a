import { env } from 'cloudflare:workers';
import { evictDurableObject, runDurableObjectAlarm } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { liveOnlySchedules } from '../../functions/cron';
import { registryStub, sessionStub } from '../../functions/durable/stubs';
import { resolveConfig } from '../../models/config';
import { prepareSplit } from '../../models/dataset';
import { loadEmbeddedDigits } from '../../models/digits-embedded';
import { train, type EpochRecord } from '../../models/train';
import { SPLIT_SEED } from '../../shared/datasets';
import { KvStore } from '../../shared/storage/kv-store';
import { call, studyRequest, waitForStudy } from './api-helpers';
import { requireWasmSimd } from './fixtures';

const CONFIG = {
  depth: 1,
  width: 32,
  optimizer: 'adam',
  learningRate: 0.002,
  epochs: 12,
  batchSize: 64,
  dropout: 0.1,
} as const;
/** The object behind a session id, for the alarm and eviction helpers of cloudflare:test. */
const objectOf = (id: string) => env.SESSIONS.get(env.SESSIONS.idFromName(id));
const curveOf = (h: EpochRecord[]) => h.map(({ ms: _ms, ...rest }) => rest);

/** A session whose slices run only when the test fires the alarm (the interval keeps them from firing on their own). */
async function startSession(
  model: string,
  config: Record<string, unknown> = CONFIG,
  seed = 5,
  slice: Record<string, number> = { epochs: 2 },
): Promise<string> {
  const res = await call('/v1/sessions', {
    method: 'POST',
    admin: true,
    json: { dataset: 'digits', model, config, seed, slice: { ...slice, intervalMs: 3_600_000 } },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.id as string;
}

async function slice(id: string): Promise<any> {
  expect(await runDurableObjectAlarm(objectOf(id))).toBe(true);
  return (await call(`/v1/sessions/${id}`)).body;
}

describe('training sessions (panda mode) in their Durable Object', () => {
  it('trains 2 epochs per alarm, survives an isolate restart between alarms, and matches one uninterrupted train()', async () => {
    await requireWasmSimd();
    const id = await startSession('panda-resume');
    const started = await call(`/v1/sessions/${id}`);
    expect(started.body).toMatchObject({
      id,
      model: 'panda-resume',
      status: 'running',
      epoch: 0,
      curve: [],
      sliceEpochs: 2,
    });
    expect(started.body.config).toMatchObject(CONFIG);

    expect((await slice(id)).epoch).toBe(2);
    // The instance dies: nothing in memory survives, only what the slice stored.
    await evictDurableObject(objectOf(id));
    const after = await slice(id);
    expect(after.epoch).toBe(4);
    expect(after.curve.map((r: EpochRecord) => r.epoch)).toEqual([1, 2, 3, 4]);

    const split = prepareSplit(await loadEmbeddedDigits(), SPLIT_SEED);
    const reference = await train(resolveConfig({ ...CONFIG, epochs: 4 }), split, 5);
    expect(curveOf(after.curve)).toEqual(curveOf(reference.history));
  });

  it('slices of one mini-batch (targetMs 1), evicted between them, reproduce train(); an adjustment mid-epoch waits for the next epoch', async () => {
    await requireWasmSimd();
    const config = { ...CONFIG, epochs: 2, batchSize: 512, dropout: 0 };
    const id = await startSession('panda-batches', config, 8, { epochs: 2, targetMs: 1 });
    // 1257 training rows in batches of 512: 3 per epoch, one per slice.
    const seen: [number, number][] = [];
    let view = await slice(id);
    seen.push([view.epoch, view.rowsDone]);
    const adjusted = await call(`/v1/sessions/${id}/adjust`, {
      method: 'POST',
      admin: true,
      json: { learningRate: 0.01 },
    });
    expect(adjusted.body.adjustments).toEqual([expect.objectContaining({ epoch: 2, changes: { learningRate: 0.01 } })]);
    while (view.status === 'running') {
      await evictDurableObject(objectOf(id));
      view = await slice(id);
      seen.push([view.epoch, view.rowsDone]);
    }
    expect(seen).toEqual([
      [0, 512],
      [0, 1024],
      [1, 0],
      [1, 512],
      [1, 1024],
      [2, 0],
    ]);
    expect(view.curve.map((r: EpochRecord) => r.learningRate)).toEqual([0.002, 0.01]);
    const split = prepareSplit(await loadEmbeddedDigits(), SPLIT_SEED);
    const first = await train(resolveConfig({ ...config, epochs: 1 }), split, 8);
    expect(curveOf(view.curve.slice(0, 1))).toEqual(curveOf(first.history));
  });

  it("an epoch's time is its share of the slices' times measured across I/O: the clock stands still during compute", async () => {
    // The platform-faithful layer freezes the clock during synchronous compute, as Cloudflare does: a time
    // read inside the slice's training is 0 there.
    // One mini-batch per slice (the target is below any batch's time), three per epoch: each epoch is trained
    // by three slices.
    const config = { ...CONFIG, epochs: 3, batchSize: 512, dropout: 0 };
    const id = await startSession('panda-times', config, 4, { epochs: 3, targetMs: 1 });
    const slices: { batches: number; ms: number }[] = [];
    let view: any;
    do {
      view = await slice(id);
      slices.push(view.pace.last);
    } while (view.status === 'running');
    expect(view.curve).toHaveLength(3);
    // Every mini-batch of the session was timed by some slice, and every epoch got the time of its own.
    expect(slices.reduce((a, s) => a + s.batches, 0)).toBe(9);
    const measured = slices.reduce((a, s) => a + s.ms, 0);
    expect(measured).toBeGreaterThan(0);
    for (const r of view.curve as EpochRecord[]) expect(r.ms).toBeGreaterThan(0);
    const attributed = view.curve.reduce((a: number, r: EpochRecord) => a + r.ms, 0);
    expect(attributed).toBeCloseTo(measured, 6);
  });

  it('an adjustment changes the learning rate from the next epoch on and is marked on the curve', async () => {
    const id = await startSession('panda-adjust');
    await slice(id);
    const adjusted = await call(`/v1/sessions/${id}/adjust`, {
      method: 'POST',
      admin: true,
      json: { learningRate: 0.0005, l2: 0.001 },
    });
    expect(adjusted.status, JSON.stringify(adjusted.body)).toBe(200);
    expect(adjusted.body.config).toMatchObject({ learningRate: 0.0005, l2: 0.001 });
    expect(adjusted.body.adjustments).toEqual([
      {
        epoch: 3,
        changes: { learningRate: 0.0005, l2: 0.001 },
        previous: { learningRate: 0.002, l2: 0 },
        at: expect.any(String),
      },
    ]);
    const view = await slice(id);
    expect(view.curve.map((r: EpochRecord) => r.learningRate)).toEqual([0.002, 0.002, 0.0005, 0.0005]);

    const bad = await call(`/v1/sessions/${id}/adjust`, { method: 'POST', admin: true, json: { learningRate: -1 } });
    expect(bad.status).toBe(422);
    const shrink = await call(`/v1/sessions/${id}/adjust`, { method: 'POST', admin: true, json: { epochs: 4 } });
    expect(shrink.status).toBe(422);
    expect((await call(`/v1/sessions/${id}/adjust`, { method: 'POST', json: { learningRate: 0.1 } })).status).toBe(401);
    expect(
      (await call(`/v1/sessions/${id}/adjust`, { method: 'POST', admin: true, json: { optimizer: 'sgd' } })).status,
    ).toBe(422);
    // The object itself refuses what the route's schema would: the architecture and optimizer stay.
    const direct = await sessionStub(env.SESSIONS, id).adjust({ depth: 3 } as never);
    expect(direct).toMatchObject({
      ok: false,
      error: { code: 'validation_failed', message: expect.stringMatching(/depth: fixed/) },
    });
    expect((await call(`/v1/sessions/${id}`)).body.config.depth).toBe(1);
  });

  it('pause stops training (no alarm left), resume continues; a session stops at its target and extending it continues', async () => {
    const id = await startSession('panda-pause', { ...CONFIG, epochs: 3 });
    await slice(id);
    const paused = await call(`/v1/sessions/${id}/pause`, { method: 'POST', admin: true, json: {} });
    expect(paused.body).toMatchObject({ status: 'paused', epoch: 2 });
    expect(await runDurableObjectAlarm(objectOf(id))).toBe(false);
    await new Promise((r) => setTimeout(r, 200));
    expect((await call(`/v1/sessions/${id}`)).body.epoch).toBe(2);

    expect((await call(`/v1/sessions/${id}/resume`, { method: 'POST', admin: true, json: {} })).body.status).toBe(
      'running',
    );
    // The target is 3: the slice trains one epoch and the session completes, with no alarm left.
    expect(await slice(id)).toMatchObject({ status: 'complete', epoch: 3 });
    expect(await runDurableObjectAlarm(objectOf(id))).toBe(false);
    expect((await call(`/v1/sessions/${id}/pause`, { method: 'POST', admin: true, json: {} })).status).toBe(409);
    const extended = await call(`/v1/sessions/${id}/adjust`, { method: 'POST', admin: true, json: { epochs: 5 } });
    expect(extended.body).toMatchObject({ status: 'running', adjustments: [{ epoch: 4, changes: { epochs: 5 } }] });
    expect(await slice(id)).toMatchObject({ status: 'complete', epoch: 5 });
  });

  it('promote follows the champion/challenger guard, once per session, with the weights stored immutably', async () => {
    const good = await startSession('panda-promote', { ...CONFIG, epochs: 6 });
    for (let i = 0; i < 3; i++) await slice(good);
    const trained = (await call(`/v1/sessions/${good}`)).body;
    expect((await call(`/v1/sessions/${good}/promote`, { method: 'POST', json: {} })).status).toBe(401);
    const first = await call(`/v1/sessions/${good}/promote`, { method: 'POST', admin: true, json: {} });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toMatchObject({ promoted: true, version: 1, reason: 'no current champion' });
    const champion = (await registryStub(env.MODELS, 'panda-promote').current())!;
    expect(champion).toMatchObject({ studyId: good, trial: 6, version: 1 });
    expect(champion.metrics.validationAccuracy).toBe(trained.curve[5].valAccuracy);
    expect(champion.metrics.testAccuracy).toBeGreaterThan(0.8);
    expect(await new KvStore(env.KV).getBytes(champion.weightsKey)).not.toBeNull();
    // Asking again returns the same decision; nothing new is promoted.
    expect((await call(`/v1/sessions/${good}/promote`, { method: 'POST', admin: true, json: {} })).body).toEqual(
      first.body,
    );
    // The version says it came from a session (its id is in studyId as a study's would be), in both views.
    expect((await call('/v1/models/panda-promote')).body).toMatchObject({
      version: 1,
      studyId: good,
      source: { kind: 'session', id: good },
    });
    expect((await call('/v1/models/panda-promote/versions')).body.versions).toEqual([
      expect.objectContaining({ version: 1, source: { kind: 'session', id: good } }),
    ]);
    // A study warm-started from this model tries the session's configuration first (a session has no trials).
    const warm = await call('/v1/studies', {
      method: 'POST',
      admin: true,
      json: studyRequest('panda-warm', { trials: 2, parallelism: 1, warmStartFrom: 'panda-promote' }),
    });
    expect(warm.status, JSON.stringify(warm.body)).toBe(202);
    await waitForStudy(warm.body.id);
    const [enqueued] = (await call(`/v1/studies/${warm.body.id}/trials`)).body.trials;
    expect(enqueued).toMatchObject({ source: 'enqueued', config: { ...champion.config, epochs: 3 } });
    // No schedule names the model: the cron re-tunes it on drift or labels with the defaults (no study to copy).
    expect((await liveOnlySchedules(env, [])).find((s) => s.model === 'panda-promote')).toEqual({
      model: 'panda-promote',
      dataset: 'digits',
      everyHours: 24 * 365,
      trials: 24,
      budget: { epochs: 20, maxSeconds: 60 },
      parallelism: 4,
      liveOnly: true,
    });

    // A weaker challenger (one epoch at a tiny learning rate) does not beat the champion.
    const weak = await startSession('panda-promote', { ...CONFIG, learningRate: 1e-5 }, 6);
    await slice(weak);
    const declined = await call(`/v1/sessions/${weak}/promote`, { method: 'POST', admin: true, json: { margin: 0 } });
    // Scored on the same test rows as the champion: the weak one is far behind.
    expect(declined.body).toMatchObject({
      promoted: false,
      version: null,
      champion: { version: 1 },
      comparison: { comparable: true, championVersion: 1, split: 'test', dataset: 'digits' },
      guard: { margin: 0, significance: 0.05 },
    });
    expect(declined.body.comparison.challengerAccuracy).toBeLessThan(declined.body.comparison.championAccuracy);
    expect(declined.body.reason).toMatch(/not better by more than the margin 0/);
    expect((await registryStub(env.MODELS, 'panda-promote').current())!.version).toBe(1);

    const fresh = await startSession('panda-promote-none');
    expect((await call(`/v1/sessions/${fresh}/promote`, { method: 'POST', admin: true, json: {} })).status).toBe(409);
  });

  it('with the default pacing the alarms alone train it to its target', async () => {
    const res = await call('/v1/sessions', {
      method: 'POST',
      admin: true,
      json: { model: 'panda-auto', config: { ...CONFIG, epochs: 5 } },
    });
    expect(res.status).toBe(202);
    let view = res.body;
    for (let i = 0; i < 100 && view.status !== 'complete'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      view = (await call(`/v1/sessions/${res.body.id}`)).body;
    }
    expect(view).toMatchObject({ status: 'complete', epoch: 5, sliceEpochs: 2, intervalMs: 0 });
    expect(view.curve).toHaveLength(5);
  });

  it('rejects unknown sessions, datasets and invalid configs, and documents every route in /openapi.json', async () => {
    expect((await call('/v1/sessions/nope')).status).toBe(404);
    expect((await call('/v1/sessions/nope/pause', { method: 'POST', admin: true, json: {} })).status).toBe(404);
    expect((await call('/v1/sessions', { method: 'POST', admin: true, json: { dataset: 'missing' } })).status).toBe(
      404,
    );
    const bad = await call('/v1/sessions', { method: 'POST', admin: true, json: { config: { depth: 9 } } });
    expect(bad.status).toBe(422);
    expect(bad.body.error.message).toMatch(/depth/);
    const huge = await call('/v1/sessions', {
      method: 'POST',
      admin: true,
      json: { config: { depth: 4, width: 1024 } },
    });
    expect(huge.status).toBe(422);
    expect(huge.body.error.message).toMatch(/parameters with adam need ~\d+ MB of memory/);
    expect((await call('/v1/sessions', { method: 'POST', json: {} })).status).toBe(401);
    const doc = (await call('/openapi.json')).body;
    for (const path of [
      '/v1/sessions',
      '/v1/sessions/{id}',
      '/v1/sessions/{id}/adjust',
      '/v1/sessions/{id}/pause',
      '/v1/sessions/{id}/resume',
      '/v1/sessions/{id}/promote',
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
  });

  it('GET /v1/sessions lists sessions newest first with status and progress', async () => {
    const first = await startSession('panda-list-a');
    await new Promise((r) => setTimeout(r, 5));
    const second = await startSession('panda-list-b');
    await slice(second);
    await call(`/v1/sessions/${first}/pause`, { method: 'POST', admin: true, json: {} });
    const list = (await call('/v1/sessions')).body.sessions as {
      id: string;
      status: string;
      epoch: number;
      epochs: number;
      model: string;
      valAccuracy: number | null;
    }[];
    const ids = list.map((s) => s.id);
    expect(ids.indexOf(second)).toBeLessThan(ids.indexOf(first));
    expect(list.find((s) => s.id === first)).toMatchObject({
      model: 'panda-list-a',
      status: 'paused',
      epoch: 0,
      epochs: CONFIG.epochs,
      valAccuracy: null,
    });
    expect(list.find((s) => s.id === second)).toMatchObject({ model: 'panda-list-b', status: 'running' });
    // While slices run the listing is refreshed at most every 2 s (KV's per-key write rate).
    await new Promise((r) => setTimeout(r, 2100));
    await slice(second);
    const later = (await call('/v1/sessions')).body.sessions.find((s: { id: string }) => s.id === second);
    expect(later).toMatchObject({ status: 'running', epoch: 4 });
    expect(later.valAccuracy).toBeGreaterThan(0);
  });
});
