import { env } from 'cloudflare:workers';
import { abortAllDurableObjects } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { registryStub, studyStub } from '../../functions/durable/stubs';
import { KvStore } from '../../shared/storage/kv-store';
import { keys } from '../../shared/storage/keys';
import { listAll } from '../../shared/storage/store';
import type { TrialRecord } from '../../shared/study/types';
import { call, startStudy, waitForStudy } from './api-helpers';

const trialsOf = async (id: string) => (await call(`/v1/studies/${id}/trials`)).body.trials as TrialRecord[];

describe('injected faults (test-only switch)', () => {
  it('30% of trials throw or stall past their budget: the study completes, every fault recorded, retries bounded', async () => {
    const faults = { throwOnTrials: [1, 5], stallOnTrials: [3] };
    const id = await startStudy('fault-mix', {
      trials: 10,
      parallelism: 4,
      budget: { epochs: 2, maxSeconds: 1 },
      // Small models: only the injected trials may miss the 3.5 s deadline, however loaded the machine.
      space: { depth: 1, width: 32, batchSize: 128 },
      faults,
    });
    const view = await waitForStudy(id, 120_000);
    expect(view.status).toBe('complete');
    expect(view.progress).toMatchObject({ total: 10, failed: 3, pending: 0, running: 0 });
    const trials = await trialsOf(id);
    expect(trials).toHaveLength(10);
    const maxAttempts = Number(env.TRIAL_MAX_ATTEMPTS);
    for (const t of trials) {
      if ([1, 5].includes(t.trial))
        expect(t).toMatchObject({
          status: 'failed',
          attempts: maxAttempts,
          reason: expect.stringMatching(/InjectedFault/),
        });
      else if (t.trial === 3)
        expect(t).toMatchObject({
          status: 'failed',
          attempts: maxAttempts,
          reason: expect.stringMatching(/TrialTimeout: .*deadline/),
        });
      else expect(t.status).not.toBe('failed');
    }
    expect(view.promotion.promoted).toBe(true);
    expect([1, 3, 5]).not.toContain(view.promotion.candidate.trial);
  });

  it('corrupt stored weights are refused at promotion; the next best valid trial is promoted', async () => {
    const id = await startStudy('fault-corrupt', {
      trials: 4,
      budget: { epochs: 3, maxSeconds: 30 },
      faults: { corruptWeightsOfTrials: [0, 1, 2] },
    });
    const view = await waitForStudy(id);
    expect(view.promotion).toMatchObject({ promoted: true, candidate: { trial: 3 } });
    for (const r of view.promotion.refused) {
      expect([0, 1, 2]).toContain(r.trial);
      expect(r.reason).toMatch(/truncated|checksum|payload/);
    }
    // Every corrupt trial that ranked above trial 3 was refused on the way down.
    const ranked = view.leaderboard.map((e: { trial: number }) => e.trial);
    expect(view.promotion.refused.map((r: { trial: number }) => r.trial)).toEqual(ranked.slice(0, ranked.indexOf(3)));
    const pointer = await registryStub(env.MODELS, 'fault-corrupt').current();
    expect(pointer!.trial).toBe(3);
  });

  it('every candidate corrupt: nothing is promoted and the reason says why', async () => {
    const id = await startStudy('fault-allcorrupt', {
      trials: 2,
      budget: { epochs: 2, maxSeconds: 30 },
      faults: { corruptWeightsOfTrials: [0, 1] },
    });
    const view = await waitForStudy(id);
    expect(view.promotion).toMatchObject({ promoted: false, version: null });
    expect(view.promotion.reason).toMatch(/no promotable trial/);
    expect(await registryStub(env.MODELS, 'fault-allcorrupt').current()).toBeNull();
  });

  it('the coordinator killed mid-way and re-run finishes the study without duplicate trials or double promotion', async () => {
    const id = await startStudy('fault-kill', { trials: 6, parallelism: 2, budget: { epochs: 3, maxSeconds: 30 } });
    // Kill every Durable Object instance a few times while trials are in flight.
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 300));
      await abortAllDurableObjects();
    }
    // Whatever was in flight when the objects died is picked up again by the cron's resume.
    let view = await studyStub(env.STUDIES, id).view();
    for (let i = 0; i < 200 && view.status !== 'complete'; i++) {
      await studyStub(env.STUDIES, id).resume();
      await new Promise((r) => setTimeout(r, 250));
      view = await studyStub(env.STUDIES, id).view();
    }
    expect(view.status).toBe('complete');
    expect(view.progress.total).toBe(6);
    const records = await listAll(new KvStore(env.KV), keys.trialRecordPrefix(id));
    expect(records).toHaveLength(6);
    const history = (await registryStub(env.MODELS, 'fault-kill').state()).history;
    expect(history.filter((h) => h.studyId === id)).toHaveLength(view.promotion?.promoted ? 1 : 0);
  });
});
