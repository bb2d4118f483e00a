import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { KvStore } from '../../shared/storage/kv-store';
import { keys } from '../../shared/storage/keys';
import { getJson, listAll } from '../../shared/storage/store';
import { failedResult } from '../../shared/study/trial';
import type { TrialRecord } from '../../shared/study/types';
import { registryStub, studyStub } from '../../functions/durable/stubs';
import { call, startStudy, waitForStudy } from './api-helpers';
import { requireWasmSimd } from './fixtures';

const store = () => new KvStore(env.KV);

describe('a study through the real local Queue, Durable Objects and KV', () => {
  it('runs N trials, writes N records, promotes the champion and reads the pointer back', async () => {
    await requireWasmSimd();
    const id = await startStudy('pipe-basic', { trials: 5, parallelism: 3 });
    const view = await waitForStudy(id);
    expect(view.progress).toMatchObject({ total: 5, pending: 0, running: 0 });
    expect(view.progress.complete + view.progress.diverged + view.progress.failed).toBe(5);

    const recordKeys = await listAll(store(), keys.trialRecordPrefix(id));
    expect(recordKeys).toHaveLength(5);
    const records = await Promise.all(recordKeys.map((k) => getJson<TrialRecord>(store(), k.name)));
    for (const r of records) {
      expect(r!.studyId).toBe(id);
      expect(r!.backend === null || r!.backend === 'wasm').toBe(true);
      if (r!.status === 'complete') {
        expect(r!.backend).toBe('wasm');
        expect(r!.simd).toBe(true);
        expect(r!.history.length).toBeGreaterThan(0);
        expect(r!.weightsKey).toMatch(/^weights\//);
      }
    }

    expect(view.promotion).toMatchObject({ promoted: true, version: 1 });
    expect(view.promotion.candidate.testAccuracy).toBeGreaterThan(0.5);
    expect(view.best.trial).toBe(view.promotion.candidate.trial);
    const pointer = await registryStub(env.MODELS, 'pipe-basic').current();
    expect(pointer).toMatchObject({ model: 'pipe-basic', version: 1, studyId: id, trial: view.best.trial });
    // An ensemble of the study's trials is promoted when it beats the best one on validation (issue 14).
    const ensemble = view.promotion.ensemble;
    expect(ensemble.bestSingle.trial).toBe(view.best.trial);
    expect(pointer!.metrics.validationAccuracy).toBe(ensemble.chosen ? ensemble.valAccuracy : view.best.valAccuracy);
    expect(pointer!.members?.map((m) => m.trial).sort()).toEqual(
      ensemble.chosen ? ensemble.members.map((m: { trial: number }) => m.trial).sort() : undefined,
    );

    const model = await call('/v1/models/pipe-basic');
    expect(model.status).toBe(200);
    expect(model.body).toMatchObject({ name: 'pipe-basic', version: 1, studyId: id });

    const trials = await call(`/v1/studies/${id}/trials`);
    expect(trials.body.trials.map((t: TrialRecord) => t.trial)).toEqual([0, 1, 2, 3, 4]);
    expect(trials.body.trials[0].history[0]).toHaveProperty('valAccuracy');
  });

  it('the same seed plans the same configurations', async () => {
    const a = await waitForStudy(await startStudy('pipe-seed-a', { seed: 99 }));
    const b = await waitForStudy(await startStudy('pipe-seed-b', { seed: 99 }));
    const c = await waitForStudy(await startStudy('pipe-seed-c', { seed: 100 }));
    const params = async (id: string) =>
      (await call(`/v1/studies/${id}/trials`)).body.trials.map((t: TrialRecord) => t.params);
    expect(await params(a.id)).toEqual(await params(b.id));
    expect(await params(c.id)).not.toEqual(await params(a.id));
  });

  it('a trial forced to throw ends `failed` after the queue retries, and the study still completes', async () => {
    const id = await startStudy('pipe-fault', { trials: 3, faults: { throwOnTrials: [1] } });
    const view = await waitForStudy(id);
    const trials = (await call(`/v1/studies/${id}/trials`)).body.trials as TrialRecord[];
    const failed = trials.find((t) => t.trial === 1)!;
    expect(failed.status).toBe('failed');
    expect(failed.attempts).toBe(Number(env.TRIAL_MAX_ATTEMPTS));
    expect(failed.reason).toMatch(/injected fault/);
    expect(view.progress.failed).toBe(1);
    expect(view.promotion.candidate.trial).not.toBe(1);
  });

  it('a diverged trial is never promoted', async () => {
    // Every trial diverges: plain SGD at a huge learning rate without BN.
    const id = await startStudy('pipe-diverge', {
      trials: 3,
      space: {
        optimizer: 'sgd',
        learningRate: 80,
        batchNorm: false,
        depth: 3,
        width: 64,
        init: 'randomNormal',
        decay: 'none',
        l1: 0,
        l2: 0,
        dropout: 0,
      },
    });
    const view = await waitForStudy(id);
    expect(view.progress.diverged).toBe(3);
    expect(view.promotion).toMatchObject({ promoted: false, version: null });
    expect(await registryStub(env.MODELS, 'pipe-diverge').current()).toBeNull();
    const model = await call('/v1/models/pipe-diverge');
    expect(model.status).toBe(503);
  });

  it('a challenger that does not beat the champion is not promoted', async () => {
    const first = await waitForStudy(await startStudy('pipe-guard', { trials: 3 }));
    expect(first.promotion.promoted).toBe(true);
    // Nothing beats the champion by more than a full point of accuracy.
    const second = await waitForStudy(await startStudy('pipe-guard', { trials: 2, seed: 8, margin: 1 }));
    expect(second.promotion).toMatchObject({
      promoted: false,
      version: null,
      champion: { version: 1 },
      comparison: { comparable: true, championVersion: 1, split: 'test', datasetVersion: 'embedded' },
    });
    expect(second.promotion.reason).toMatch(/not better by more than the margin 1/);
    expect((await registryStub(env.MODELS, 'pipe-guard').current())!.version).toBe(1);
  });

  it('racing finalisations and duplicate reports produce exactly one promotion', async () => {
    const id = await startStudy('pipe-race', { trials: 3, parallelism: 3 });
    const stub = studyStub(env.STUDIES, id);
    // Hammer the coordinator while the trials run: resumes (as from overlapping crons) and stale reports.
    const hammer = (async () => {
      for (let i = 0; i < 40; i++) {
        await Promise.all([stub.resume(), stub.resume(), stub.report(0, failedResult(1, 'late duplicate'))]);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const view = await waitForStudy(id);
    await hammer;
    await Promise.all([stub.resume(), stub.resume(), stub.resume()]);
    const state = await registryStub(env.MODELS, 'pipe-race').state();
    expect(state.history.filter((h) => h.studyId === id && h.action === 'promote')).toHaveLength(
      view.promotion.promoted ? 1 : 0,
    );
    expect(state.versions.length).toBeLessThanOrEqual(1);
    // Exactly one record per trial, and trial 0's is whichever report came first, never overwritten.
    const records = await listAll(store(), keys.trialRecordPrefix(id));
    expect(records).toHaveLength(3);
  });

  it('grid enumerates a small space exactly; local refines an earlier study without repeating it', async () => {
    // 2 optimizers x 2 depths, everything else fixed: exactly 4 grid points even when 10 trials are asked.
    const space = {
      optimizer: { type: 'categorical', choices: ['adam', 'rmsprop'] },
      depth: { type: 'categorical', choices: [1, 2] },
      ...{
        width: 32,
        activation: 'relu',
        batchNorm: false,
        dropout: 0,
        l1: 0,
        l2: 0,
        init: 'heNormal',
        learningRate: 0.003,
      },
      ...{ beta1: 0.9, beta2: 0.999, rho: 0.9, epsilon: 1e-7, decay: 'none', batchSize: 64, classWeights: 'none' },
    };
    const grid = await waitForStudy(await startStudy('pipe-grid', { strategy: 'grid', trials: 10, space }));
    expect(grid.progress.total).toBe(4);
    const gridTrials = (await call(`/v1/studies/${grid.id}/trials`)).body.trials as TrialRecord[];
    const combos = gridTrials.map((t) => `${t.config.optimizer}/${t.config.depth}`).sort();
    expect(combos).toEqual(['adam/1', 'adam/2', 'rmsprop/1', 'rmsprop/2']);

    const coarse = await waitForStudy(await startStudy('pipe-local', { trials: 4, seed: 5 }));
    const local = await waitForStudy(
      await startStudy('pipe-local', { strategy: 'local', from: coarse.id, trials: 4, seed: 6 }),
    );
    expect(local.spec).toMatchObject({ strategy: 'local', from: coarse.id });
    const before = (await call(`/v1/studies/${coarse.id}/trials`)).body.trials as TrialRecord[];
    const after = (await call(`/v1/studies/${local.id}/trials`)).body.trials as TrialRecord[];
    expect(after).toHaveLength(4);
    const seen = new Set(before.map((t) => JSON.stringify(t.params)));
    for (const t of after) expect(seen.has(JSON.stringify(t.params))).toBe(false);
    // Refinement stays near the incumbents: every learning rate within the best trials' neighbourhood (a
    // quarter of the log range around one of them is at most a factor of 10^(3 * 0.25 / 2) ~ 2.4 either way).
    const best = coarse.leaderboard
      .filter((e: { status: string }) => e.status === 'complete')
      .slice(0, 3)
      .map((e: { config: { learningRate: number } }) => e.config.learningRate);
    for (const t of after)
      expect(best.some((lr: number) => Math.abs(Math.log10(t.config.learningRate / lr)) <= 0.376)).toBe(true);
  });

  it('GET /v1/studies lists studies newest first with their headline', async () => {
    const id = await startStudy('pipe-list', { trials: 1, budget: { epochs: 1, maxSeconds: 30 } });
    await waitForStudy(id);
    // The coordinator writes the listing when the study ends.
    const list = await call('/v1/studies');
    expect(list.status).toBe(200);
    const entry = list.body.studies.find((s: { id: string }) => s.id === id);
    expect(entry).toMatchObject({ model: 'pipe-list', status: 'complete', total: 1, finished: 1 });
    const dates = list.body.studies.map((s: { createdAt: string }) => s.createdAt);
    expect([...dates].sort().reverse()).toEqual(dates);
  });
});
