import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { registryStub, studyStub } from '../../functions/durable/stubs';
import { ashaDecision } from '../../shared/study/asha';
import type { TrialRecord } from '../../shared/study/types';
import { call, startStudy, studyRequest, waitForStudy } from './api-helpers';
import { requireWasmSimd } from './fixtures';

describe('strategy asha through the real local Queue, Durable Objects and KV', () => {
  it('prunes at the rungs by the asynchronous rule, records the rung reached, and promotes only a complete trial', async () => {
    await requireWasmSimd();
    // One trial at a time, so the order of arrival at each rung is the trial order and the run is reproducible.
    const id = await startStudy('asha-basic', { strategy: 'asha', trials: 8, parallelism: 1, seed: 11, budget: { epochs: 9, maxSeconds: 60 } });
    const view = await waitForStudy(id, 110_000);
    expect(view.spec.asha).toEqual({ minEpochs: 1, reductionFactor: 3 });
    expect(view.progress.total).toBe(8);
    expect(view.progress.pruned).toBeGreaterThan(0);
    expect(view.progress.complete).toBeGreaterThan(0);

    const trials = (await call(`/v1/studies/${id}/trials`)).body.trials as TrialRecord[];
    for (const t of trials) {
      if (t.status === 'pruned') {
        expect([1, 3]).toContain(t.prunedAtEpoch);
        expect(t.history).toHaveLength(t.prunedAtEpoch!);
        expect(t).toMatchObject({ stopReason: 'pruned', weightsKey: null });
        expect(t.final!.valAccuracy).toBe(t.history.at(-1)!.valAccuracy);
      } else if (t.status === 'complete') {
        expect(t.history).toHaveLength(9);
        expect(t.weightsKey).toMatch(/^weights\//);
      }
    }

    // Every decision the coordinator stored follows the rule over the values that arrived before it, and
    // every trial's fate matches its decisions: stopped at rung r => pruned at r; continued past all => complete.
    const rungs = await studyStub(env.STUDIES, id).rungs();
    expect(Object.keys(rungs).sort()).toEqual(['1', '3']);
    for (const results of Object.values(rungs)) {
      results.forEach((r, i) => expect(r.decision).toBe(ashaDecision(r.valAccuracy, results.slice(0, i).map((e) => e.valAccuracy), 3)));
    }
    for (const t of trials.filter((t) => t.status === 'pruned' || t.status === 'complete')) {
      const at1 = rungs['1']!.find((r) => r.trial === t.trial)!;
      expect(at1.valAccuracy).toBe(t.history[0]!.valAccuracy);
      const at3 = rungs['3']!.find((r) => r.trial === t.trial);
      if (t.status === 'pruned' && t.prunedAtEpoch === 1) expect([at1.decision, at3]).toEqual(['stop', undefined]);
      if (t.status === 'pruned' && t.prunedAtEpoch === 3) expect([at1.decision, at3!.decision]).toEqual(['continue', 'stop']);
      if (t.status === 'complete') expect([at1.decision, at3!.decision]).toEqual(['continue', 'continue']);
    }

    // Pruned trials are listed after the complete ones, with the rung they reached; never promoted.
    const statuses = view.leaderboard.map((e: { status: string }) => e.status);
    expect(statuses.lastIndexOf('complete')).toBeLessThan(statuses.indexOf('pruned'));
    for (const e of view.leaderboard) if (e.status === 'pruned') expect(e.prunedAtEpoch).toBeGreaterThan(0);
    expect(view.promotion.promoted).toBe(true);
    const promoted = trials.find((t) => t.trial === view.promotion.candidate.trial)!;
    expect(promoted.status).toBe('complete');
    expect((await registryStub(env.MODELS, 'asha-basic').current())!.trial).toBe(promoted.trial);
  });

  it('a late rung report for a finished trial is told to stop and changes nothing', async () => {
    const id = await startStudy('asha-late', { strategy: 'asha', trials: 2, parallelism: 2, budget: { epochs: 3, maxSeconds: 30 } });
    await waitForStudy(id);
    const stub = studyStub(env.STUDIES, id);
    const before = await stub.rungs();
    expect(before['1']!.map((r) => r.trial).sort()).toEqual([0, 1]);
    expect(await stub.rung(0, 1, 1)).toBe('stop');
    expect(await stub.rungs()).toEqual(before);
  });

  it('rejects asha settings on other strategies and rungs that cannot exist', async () => {
    const wrong = await call('/v1/studies', { method: 'POST', admin: true, json: studyRequest('asha-bad', { strategy: 'random', asha: { minEpochs: 1 } }) });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.message).toMatch(/asha/);
    const none = await call('/v1/studies', { method: 'POST', admin: true, json: studyRequest('asha-bad', { strategy: 'asha', asha: { minEpochs: 3 }, budget: { epochs: 3, maxSeconds: 30 } }) });
    expect(none.status).toBe(422);
    expect(none.body.error.message).toMatch(/minEpochs/);
  });
});
