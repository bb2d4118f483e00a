import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { studyStub } from '../../functions/durable/stubs';
import type { TrialRecord } from '../../shared/study/types';
import { call, startStudy, studyRequest, waitForStudy } from './api-helpers';
import { requireWasmSimd } from './fixtures';

const byTrial = (a: TrialRecord, b: TrialRecord) => a.trial - b.trial;

describe('sampler tpe (and any sampler with the ASHA pruner) through the real Queue, Durable Objects and KV', () => {
  it('proposes at dispatch time from the accepted results: each record says what it was based on, and replaying the acceptance order reproduces every proposal', async () => {
    await requireWasmSimd();
    const id = await startStudy('tpe-basic', {
      sampler: 'tpe',
      tpe: { startupTrials: 3 },
      trials: 7,
      parallelism: 2,
      seed: 5,
      budget: { epochs: 2, maxSeconds: 60 },
    });
    const view = await waitForStudy(id, 110_000);
    expect(view.spec).toMatchObject({ sampler: 'tpe', pruner: null, strategy: 'tpe' });
    expect(view.progress.total).toBe(7);
    const records = (await studyStub(env.STUDIES, id).records()).sort(byTrial);
    expect(records).toHaveLength(7);
    for (const r of records) {
      expect(r.source).toBe('tpe');
      expect(r.basis).toBeDefined();
      // Dispatched with at most parallelism - 1 others in flight, and never before the earlier trials existed.
      expect(r.basis!.running).toBeLessThanOrEqual(1);
      expect(r.basis!.finished + r.basis!.running).toBeLessThanOrEqual(r.trial);
      expect(r.basis!.startup).toBe(r.basis!.finished < 3);
    }
    expect(records.some((r) => !r.basis!.startup)).toBe(true);
    // Replaying from the records alone: trial r's proposal from the results accepted before it (their
    // `accepted` numbers below r.basis.finished, in that order) and the trials that were then running.
    // Imported only now: zod schemas built before the app's zod-openapi extension lack .openapi (zod 4 puts
    // methods on instances), so the model config must first be loaded by the app.
    const { createProposer } = await import('../../shared/study/search');
    const proposer = createProposer(view.spec);
    const accepted = [...records].sort((a, b) => a.accepted! - b.accepted!);
    expect(accepted.map((r) => r.accepted)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    for (const r of records) {
      const finished = accepted.slice(0, r.basis!.finished);
      const running = records
        .filter((x) => x.trial < r.trial && !finished.includes(x))
        .map((x) => x.params)
        .slice(0, r.basis!.running);
      expect(running).toHaveLength(r.basis!.running);
      expect(proposer.propose(r.trial, { finished, running })!.params).toEqual(r.params);
    }
  });

  it('tpe with the ASHA pruner prunes at rungs and promotes only a complete trial', async () => {
    const id = await startStudy('tpe-asha', {
      sampler: 'tpe',
      pruner: { type: 'asha', minEpochs: 1, reductionFactor: 2 },
      tpe: { startupTrials: 2 },
      trials: 6,
      parallelism: 1,
      seed: 8,
      budget: { epochs: 3, maxSeconds: 60 },
    });
    const view = await waitForStudy(id, 110_000);
    expect(view.spec).toMatchObject({ sampler: 'tpe', strategy: 'tpe+asha' });
    expect(view.rungs!.map((r: { epoch: number }) => r.epoch)).toEqual([1, 2]);
    expect(view.progress.pruned).toBeGreaterThan(0);
    expect(view.promotion!.candidate!.trial).toBe(view.best!.trial);
    const promoted = (await studyStub(env.STUDIES, id).records()).find((r) => r.trial === view.best!.trial)!;
    expect(promoted.status).toBe('complete');
  });

  it('strategy stays an alias: asha = random + ASHA; contradictions are refused', async () => {
    const id = await startStudy('alias-asha', {
      strategy: 'asha',
      trials: 2,
      parallelism: 2,
      budget: { epochs: 2, maxSeconds: 30 },
    });
    const view = await waitForStudy(id);
    expect(view.spec).toMatchObject({
      sampler: 'random',
      pruner: { type: 'asha', minEpochs: 1, reductionFactor: 3 },
      strategy: 'asha',
    });
    for (const [body, re] of [
      [{ strategy: 'local', sampler: 'tpe' }, /contradicts/],
      [{ strategy: 'asha', pruner: null }, /contradicts/],
      [{ sampler: 'random', tpe: { startupTrials: 2 } }, /tpe/],
      [{ sampler: 'tpe', pruner: { type: 'asha', minEpochs: 5 }, budget: { epochs: 5, maxSeconds: 30 } }, /rung/],
    ] as const) {
      const res = await call('/v1/studies', { method: 'POST', admin: true, json: studyRequest('alias-bad', body) });
      expect(res.status).toBe(422);
      expect(res.body.error.message).toMatch(re);
    }
  });
});
