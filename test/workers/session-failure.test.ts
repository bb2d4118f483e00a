import { env } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { call } from './api-helpers';
import { sessionObject as objectOf, startSmallSession as start, uploadSmall as upload } from './session-helpers';

const view = async (id: string) => (await call(`/v1/sessions/${id}`)).body;

describe('a failing session slice is recorded once, and the alarm stops', () => {
  it('the dataset version gone from under a running session: failed with the reason, no alarm left, nothing retried', async () => {
    await upload('vanishing');
    const id = await start('vanishing', 'panda-vanishing');
    expect(await runDurableObjectAlarm(objectOf(id))).toBe(true);
    expect(await view(id)).toMatchObject({ status: 'running', epoch: 1 });

    // Deleting the dataset through the API leaves the version the session pinned: it keeps training.
    expect((await call('/v1/datasets/vanishing', { method: 'DELETE', admin: true })).status).toBe(204);
    expect(await runDurableObjectAlarm(objectOf(id))).toBe(true);
    expect(await view(id)).toMatchObject({ status: 'running', epoch: 2 });
    // The version itself disappears (lost, or removed out of band). This isolate still caches the split of
    // the version it read, as a fresh isolate would not: the session is pointed at a version that is gone.
    const stored = await env.DATASETS.list({ prefix: 'datasets/vanishing/' });
    expect(stored.objects.length).toBeGreaterThan(0);
    await env.DATASETS.delete(stored.objects.map((o) => o.key));
    await runInDurableObject(objectOf(id), async (_i, state) => {
      const meta = (await state.storage.get<Record<string, unknown>>('meta'))!;
      await state.storage.put('meta', { ...meta, datasetVersion: 'gone-0000' });
    });
    // The alarm runs, fails, records it and returns normally: a throwing alarm would be retried.
    expect(await runDurableObjectAlarm(objectOf(id))).toBe(true);
    const failed = await view(id);
    expect(failed).toMatchObject({
      status: 'failed',
      epoch: 2,
      failure: {
        epoch: 2,
        reason: expect.stringMatching(/dataset is gone: dataset "vanishing" has no version gone-0000/),
      },
    });
    // Recorded once: no alarm is left to fail again, and nothing changes afterwards.
    expect(await runDurableObjectAlarm(objectOf(id))).toBe(false);
    expect(await runInDurableObject(objectOf(id), (_i, state) => state.storage.getAlarm())).toBeNull();
    expect(await view(id)).toEqual(failed);
    const listed = (await call('/v1/sessions')).body.sessions.find((s: { id: string }) => s.id === id);
    expect(listed).toMatchObject({ status: 'failed' });
    // A failed session is not promoted; pausing it is a conflict.
    const promote = await call(`/v1/sessions/${id}/promote`, { method: 'POST', admin: true, json: {} });
    expect(promote.status).toBe(409);
    expect(promote.body.error.message).toMatch(/failed/);
    expect((await call(`/v1/sessions/${id}/pause`, { method: 'POST', admin: true, json: {} })).status).toBe(409);
  });

  it('a slice that throws (its stored state is missing a chunk) fails once with the reason; resume retries once more', async () => {
    await upload('steady');
    const id = await start('steady', 'panda-corrupt');
    expect(await runDurableObjectAlarm(objectOf(id))).toBe(true);
    const chunks = await runInDurableObject(objectOf(id), async (_i, state) => {
      const keys = [...(await state.storage.list({ prefix: 'weights/' })).keys()];
      await state.storage.delete(keys[0]!);
      return keys;
    });
    expect(chunks).toEqual(['weights/0000']);
    expect(await runDurableObjectAlarm(objectOf(id))).toBe(true);
    expect(await view(id)).toMatchObject({
      status: 'failed',
      failure: { epoch: 1, reason: expect.stringMatching(/a slice failed: weights: chunk 0 of 1 is missing/) },
    });
    expect(await runDurableObjectAlarm(objectOf(id))).toBe(false);

    // Resuming clears the failure and schedules one slice, which fails the same way and stops again.
    const resumed = await call(`/v1/sessions/${id}/resume`, { method: 'POST', admin: true, json: {} });
    expect(resumed.body).toMatchObject({ status: 'running', failure: null });
    expect(await runDurableObjectAlarm(objectOf(id))).toBe(true);
    expect(await view(id)).toMatchObject({ status: 'failed' });
    expect(await runDurableObjectAlarm(objectOf(id))).toBe(false);
  });

  it('a non-finite loss ends the session as diverged, with the epoch and the reason, and no alarm', async () => {
    await upload('wild');
    const id = await start('wild', 'panda-wild', {
      optimizer: 'sgd',
      learningRate: 100,
      batchNorm: false,
      init: 'randomNormal',
    });
    let v = await view(id);
    for (let i = 0; i < 6 && v.status === 'running'; i++) {
      expect(await runDurableObjectAlarm(objectOf(id))).toBe(true);
      v = await view(id);
    }
    expect(v).toMatchObject({ status: 'diverged', failure: { reason: expect.stringMatching(/non-finite/) } });
    expect(await runDurableObjectAlarm(objectOf(id))).toBe(false);
  });
});
