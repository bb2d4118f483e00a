/**
 * The study coordinator under the platform's rules (issue 12 items 1, 6 and 8): KV's write rate around
 * finalisation, write-once trial records that survive a crash before the commit, and a stalled-trial
 * timer that counts from when a trial starts, not from when it was queued.
 */
import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { registryStub, studyStub } from '../../functions/durable/stubs';
import { keys } from '../../shared/storage/keys';
import type { TrialRecord } from '../../shared/study/types';
import { call, startStudy, waitForStudy } from './api-helpers';
import { faithful } from './platform/faithful';

const quick = { trials: 2, parallelism: 2, budget: { epochs: 1, maxSeconds: 30 } };

describe('study coordinator on the platform', () => {
  it('a study whose last report lands within a second of the previous one: listing and datasets see it complete at once', async () => {
    // Two trials, both in flight: their reports (and the finalisation) come within a second of each other.
    const id = await startStudy('coord-fast', quick);
    const view = await waitForStudy(id);
    expect(view.status).toBe('complete');
    const listed = (await call('/v1/studies')).body.studies.find((s: { id: string }) => s.id === id);
    expect(listed).toMatchObject({ status: 'complete', finished: 2 });
    // resume() of a complete study republishes; nothing is written twice within a second (no 429 escapes).
    await studyStub(env.STUDIES, id).resume();
    await studyStub(env.STUDIES, id).resume();
    expect((await studyStub(env.STUDIES, id).view()).status).toBe('complete');
  });

  it('a crash after the KV write but before the commit cannot change the record: every write carries the same bytes', async () => {
    const writes = faithful.recordKvWrites('study/');
    // The first commit of trial 0's record fails, as if the object died right there; the queue retries.
    faithful.failNextStoragePut((ks) => ks.includes('record:0000'));
    const id = await startStudy('coord-once', { ...quick, trials: 1, parallelism: 1 });
    const view = await waitForStudy(id);
    faithful.stopRecordingKvWrites();
    const key = keys.trialRecord(id, 0);
    const contents = writes.get(key) ?? [];
    expect(contents.length).toBeGreaterThanOrEqual(1);
    expect(new Set(contents).size).toBe(1);
    const committed = (await studyStub(env.STUDIES, id).records())[0]!;
    expect(committed.attempts).toBe(2);
    expect(await faithful.origin(env.KV).getText(key)).toBe(contents[0]);
    expect(JSON.parse(contents[0]!) as TrialRecord).toEqual(committed);
    expect(view.progress.total).toBe(1);
  });

  it("a release that fails after the outcome is stored stays owed: the alarm frees the model's study slot, and the next study starts", async () => {
    const model = 'coord-release';
    let injected = 0;
    // The registry's storage refuses the write that frees the slot, once (as if the object were reset there).
    faithful.failNextStoragePut((ks) => ks.includes('lastStudyEndedAt') && ++injected > 0);
    const id = await startStudy(model, { ...quick, trials: 1, parallelism: 1 });
    expect((await waitForStudy(id)).promotion.promoted).toBe(true);
    expect(injected).toBe(1);
    // The alarm owes the release (it runs now rather than in a few seconds; it may have run already).
    await runDurableObjectAlarm(env.STUDIES.get(env.STUDIES.idFromName(id)));
    const registry = registryStub(env.MODELS, model);
    expect((await registry.state()).activeStudy).toBeNull();
    expect(await registry.lastStudyEndedAt()).not.toBeNull();
    expect(
      await runInDurableObject(env.STUDIES.get(env.STUDIES.idFromName(id)), (_o, state) =>
        state.storage.get('releaseOwed'),
      ),
    ).toBeUndefined();
    const next = await startStudy(model, { ...quick, trials: 1, parallelism: 1 });
    await waitForStudy(next);
  });

  it('the stalled-trial timer counts from the start: a queue backlog is waited out, a started trial that went quiet is re-dispatched', async () => {
    const id = await startStudy('coord-stall', { ...quick, trials: 2, parallelism: 1 });
    await waitForStudy(id);
    const stub = env.STUDIES.get(env.STUDIES.idFromName(id));
    const longAgo = Date.now() - 20 * 60_000;
    // Trial 1 was queued 20 minutes ago (far past the stale timeout of ~3.5 min) and never started.
    const rewind = (startedAt: number | null, dispatches: number) =>
      runInDurableObject(stub, async (_o, state) => {
        const slot = (await state.storage.get<Record<string, unknown>>('slot:0001'))!;
        await state.storage.put({
          'slot:0001': { ...slot, state: 'running', dispatches, dispatchedAt: longAgo, startedAt },
          status: 'running',
        });
        await state.storage.delete(['record:0001', 'promotion']);
      });
    const slot1 = () =>
      runInDurableObject(stub, async (_o, state) =>
        state.storage.get<{ state: string; dispatches: number }>('slot:0001'),
      );
    await rewind(null, 3);
    await studyStub(env.STUDIES, id).resume();
    // Neither re-dispatched nor failed: it has not run yet.
    expect(await slot1()).toMatchObject({ state: 'running', dispatches: 3 });
    expect((await studyStub(env.STUDIES, id).records()).map((r) => r.trial)).toEqual([0]);
    // Started 20 minutes ago and silent since: re-dispatched (and it runs to the end again).
    await rewind(longAgo, 1);
    await studyStub(env.STUDIES, id).resume();
    expect((await slot1())!.dispatches).toBe(2);
    const view = await waitForStudy(id);
    expect(view.progress.total).toBe(2);
    expect((await studyStub(env.STUDIES, id).records()).map((r) => r.status)).not.toContain('failed');
  });
});
