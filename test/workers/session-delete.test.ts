import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { TrainingSession } from '../../functions/durable/training-session';
import { catalogStub } from '../../functions/durable/stubs';
import { catalogKeys, datasetObjects } from '../../shared/storage/keys';
import { call } from './api-helpers';
import { faithful } from './platform/faithful';
import { sessionObject as objectOf, startSmallSession as start, uploadSmall as upload } from './session-helpers';

/**
 * DELETE /v1/sessions/:id in workerd: the session's object is emptied (no alarm, no keys), its line leaves the
 * listing, and its dataset pin is released so a superseded version it held is deleted from R2; what it
 * promoted stays served. A release that fails is owed and finished by the alarm.
 */
const storedKeys = (id: string) =>
  runInDurableObject(objectOf(id), async (_o, state) => ({
    keys: [...(await state.storage.list()).keys()],
    alarm: await state.storage.getAlarm(),
  }));
const r2Keys = async (prefix: string) => (await env.DATASETS.list({ prefix })).objects.map((o) => o.key);
const listed = async (id: string) =>
  (await call('/v1/sessions')).body.sessions.some((s: { id: string }) => s.id === id) as boolean;

describe('deleting a training session', () => {
  it('empties its object, drops its listing line and its pin (the superseded version it held leaves R2); what it promoted stays served', async () => {
    const v1 = await upload('del-data');
    const id = await start('del-data', 'del-model');
    expect(await runDurableObjectAlarm(objectOf(id))).toBe(true);
    const promoted = await call(`/v1/sessions/${id}/promote`, { method: 'POST', admin: true, json: {} });
    expect(promoted.body, JSON.stringify(promoted.body)).toMatchObject({ promoted: true, version: 1 });
    // A new upload supersedes v1; the session's pin keeps it in R2.
    const v2 = await upload('del-data', 1);
    expect(v2).not.toBe(v1);
    expect(await r2Keys(datasetObjects.versionPrefix('del-data', v1))).not.toHaveLength(0);
    expect(await catalogStub(env.DATASET_CATALOG).holders('del-data')).toEqual([
      { name: 'del-data', version: v1, holder: `session:${id}` },
    ]);
    expect(await listed(id)).toBe(true);

    expect((await call(`/v1/sessions/${id}`, { method: 'DELETE' })).status).toBe(401);
    const del = await call(`/v1/sessions/${id}`, { method: 'DELETE', admin: true });
    expect(del.status, JSON.stringify(del.body)).toBe(204);

    expect(await storedKeys(id)).toEqual({ keys: [], alarm: null });
    expect(await runDurableObjectAlarm(objectOf(id))).toBe(false);
    expect(await listed(id)).toBe(false);
    expect(await catalogStub(env.DATASET_CATALOG).holders('del-data')).toEqual([]);
    expect(await r2Keys(datasetObjects.versionPrefix('del-data', v1))).toEqual([]);
    expect(await r2Keys(datasetObjects.versionPrefix('del-data', v2))).not.toHaveLength(0);
    for (const [method, path] of [
      ['GET', ''],
      ['POST', '/pause'],
      ['POST', '/promote'],
      ['DELETE', ''],
    ] as const) {
      const res = await call(`/v1/sessions/${id}${path}`, {
        method,
        admin: true,
        ...(method === 'POST' ? { json: {} } : {}),
      });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
    const predict = await call('/v1/models/del-model/predict', {
      method: 'POST',
      json: { instances: [[1, 1, 0.5, 0.5]] },
    });
    expect(predict.status, JSON.stringify(predict.body)).toBe(200);
    expect(predict.body.version).toBe(1);
  });

  // The catalog refuses one write of the release, once: taking the session off the version's holders, or
  // replacing the unpinned version's record by its doomed marker.
  const failures = [
    ['the holder list', (v: string) => catalogKeys.version('del-owed', v)],
    ['the doomed marker', (v: string) => catalogKeys.doomed('del-owed', v)],
  ] as const;
  it.each(failures)(
    'a release that fails at %s is owed: the DELETE answers, the alarm finishes it, and the version goes',
    async (_what, keyOf) => {
      const v1 = await upload('del-owed');
      const id = await start('del-owed', 'del-owed-model');
      await upload('del-owed', 1);
      let injected = 0;
      faithful.failNextStoragePut((ks) => ks.includes(keyOf(v1)) && ++injected > 0);
      expect((await call(`/v1/sessions/${id}`, { method: 'DELETE', admin: true })).status).toBe(204);
      expect(injected).toBe(1);
      // Gone for callers at once; the pin and the version are still owed.
      expect((await call(`/v1/sessions/${id}`)).status).toBe(404);
      expect(await listed(id)).toBe(false);
      expect((await storedKeys(id)).keys).toEqual(['deletionOwed']);
      expect(await r2Keys(datasetObjects.versionPrefix('del-owed', v1))).not.toHaveLength(0);

      // The retry is due in 5 s; run it now (if it already ran, there is nothing left to run).
      await runDurableObjectAlarm(objectOf(id));
      expect(await storedKeys(id)).toEqual({ keys: [], alarm: null });
      const catalog = catalogStub(env.DATASET_CATALOG);
      expect(await catalog.holders('del-owed')).toEqual([]);
      expect(await catalog.versions('del-owed')).not.toContain(v1);
      expect(await r2Keys(datasetObjects.versionPrefix('del-owed', v1))).toEqual([]);
    },
  );

  it('a DELETE asked again while the first still owes the release finishes it (204); after that it is 404', async () => {
    const v1 = await upload('del-again');
    const id = await start('del-again', 'del-again-model');
    await upload('del-again', 1);
    faithful.failNextStoragePut((ks) => ks.includes(catalogKeys.version('del-again', v1)));
    expect((await call(`/v1/sessions/${id}`, { method: 'DELETE', admin: true })).status).toBe(204);
    const owing = await storedKeys(id);
    expect(owing.keys).toEqual(['deletionOwed']);
    // The retry is armed with the debt.
    expect(owing.alarm).not.toBeNull();
    expect((await call(`/v1/sessions/${id}`, { method: 'DELETE', admin: true })).status).toBe(204);
    expect(await storedKeys(id)).toEqual({ keys: [], alarm: null });
    expect(await r2Keys(datasetObjects.versionPrefix('del-again', v1))).toEqual([]);
    expect((await call(`/v1/sessions/${id}`, { method: 'DELETE', admin: true })).status).toBe(404);
  });

  it('a deletion that lands while a slice commits: the slice writes nothing after it and re-arms nothing', async () => {
    const id = await start('digits', 'del-race');
    // The slice and the deletion race inside the object: the deletion runs while the slice awaits its commit.
    await runInDurableObject(objectOf(id), async (instance: TrainingSession) => {
      const slice = instance.alarm();
      const removal = instance.remove();
      await Promise.all([slice, removal]);
    });
    expect(await storedKeys(id)).toEqual({ keys: [], alarm: null });
    expect(await listed(id)).toBe(false);
  });
});
