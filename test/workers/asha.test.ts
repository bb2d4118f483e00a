import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { registryStub, studyStub } from '../../functions/durable/stubs';
import { ashaDecision } from '../../shared/study/asha';
import type { StudyView, TrialRecord } from '../../shared/study/types';
import { call, startStudy, studyRequest, waitForStudy } from './api-helpers';
import { requireWasmSimd } from './fixtures';

describe('strategy asha through the real local Queue, Durable Objects and KV', () => {
  it('prunes at the rungs by the asynchronous rule, records the rung reached, and promotes only a complete trial', async () => {
    await requireWasmSimd();
    // One trial at a time, so the order of arrival at each rung is the trial order and the run is reproducible.
    const id = await startStudy('asha-basic', {
      strategy: 'asha',
      trials: 8,
      parallelism: 1,
      seed: 11,
      budget: { epochs: 9, maxSeconds: 60 },
    });
    const view = await waitForStudy(id, 110_000);
    expect(view.spec.asha).toEqual({ minEpochs: 1, reductionFactor: 3 });
    expect(view.progress.total).toBe(8);
    expect(view.progress.pruned).toBeGreaterThan(0);
    expect(view.progress.complete).toBeGreaterThan(0);

    await expectAshaInvariants(id, view, [1, 3], 9);
    expect((await registryStub(env.MODELS, 'asha-basic').current())!.trial).toBe(view.promotion!.candidate!.trial);
  });

  it('with trials in parallel, each decision is made on arrival (no waiting for the rung to fill) and the same invariants hold', async () => {
    const id = await startStudy('asha-parallel', {
      strategy: 'asha',
      trials: 9,
      parallelism: 3,
      seed: 12,
      budget: { epochs: 4, maxSeconds: 60 },
      asha: { minEpochs: 1, reductionFactor: 2 },
    });
    const view = await waitForStudy(id, 110_000);
    expect(view.progress.total).toBe(9);
    expect(view.progress.pruned).toBeGreaterThan(0);
    await expectAshaInvariants(id, view, [1, 2], 4, 2);
    // The first arrival at a rung was judged alone, before any other trial got there.
    const rungs = await studyStub(env.STUDIES, id).rungs();
    expect(rungs['1']![0]!.decision).toBe('continue');
  });

  it('a late rung report for a finished trial is told to stop and changes nothing', async () => {
    const id = await startStudy('asha-late', {
      strategy: 'asha',
      trials: 2,
      parallelism: 2,
      budget: { epochs: 3, maxSeconds: 30 },
    });
    await waitForStudy(id);
    const stub = studyStub(env.STUDIES, id);
    const before = await stub.rungs();
    expect(before['1']!.map((r) => r.trial).sort()).toEqual([0, 1]);
    expect(await stub.rung(0, 1, 1)).toBe('stop');
    expect(await stub.rungs()).toEqual(before);
  });

  it('rejects asha settings on other strategies and rungs that cannot exist', async () => {
    const wrong = await call('/v1/studies', {
      method: 'POST',
      admin: true,
      json: studyRequest('asha-bad', { strategy: 'random', asha: { minEpochs: 1 } }),
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.message).toMatch(/asha/);
    const none = await call('/v1/studies', {
      method: 'POST',
      admin: true,
      json: studyRequest('asha-bad', {
        strategy: 'asha',
        asha: { minEpochs: 3 },
        budget: { epochs: 3, maxSeconds: 30 },
      }),
    });
    expect(none.status).toBe(422);
    expect(none.body.error.message).toMatch(/minEpochs/);
  });
});

/**
 * What any asha study must satisfy: pruned trials stopped exactly at a rung with no weights; every stored
 * decision follows the rule over the values that reached the rung before it; each trial's fate matches its
 * decisions; the rung summary in the view counts them; and only a complete trial is promoted.
 */
async function expectAshaInvariants(
  id: string,
  view: StudyView,
  rungEpochs: number[],
  epochs: number,
  eta = 3,
): Promise<void> {
  const trials = (await call(`/v1/studies/${id}/trials`)).body.trials as TrialRecord[];
  const rungs = await studyStub(env.STUDIES, id).rungs();
  expect(
    Object.keys(rungs)
      .map(Number)
      .sort((a, b) => a - b),
  ).toEqual(rungEpochs);
  for (const results of Object.values(rungs)) {
    results.forEach((r, i) =>
      expect(r.decision).toBe(
        ashaDecision(
          r.valAccuracy,
          results.slice(0, i).map((e) => e.valAccuracy),
          eta,
        ),
      ),
    );
  }
  expect(view.rungs).toEqual(
    rungEpochs.map((epoch) => ({
      epoch,
      reported: rungs[String(epoch)]!.length,
      continued: rungs[String(epoch)]!.filter((r) => r.decision === 'continue').length,
    })),
  );
  for (const t of trials) {
    const fate = rungEpochs.map((e) => rungs[String(e)]!.find((r) => r.trial === t.trial)?.decision ?? null);
    if (t.status === 'pruned') {
      expect(rungEpochs).toContain(t.prunedAtEpoch);
      expect(t.history).toHaveLength(t.prunedAtEpoch!);
      expect(t).toMatchObject({ stopReason: 'pruned', weightsKey: null });
      expect(t.final!.valAccuracy).toBe(t.history.at(-1)!.valAccuracy);
      const at = rungEpochs.indexOf(t.prunedAtEpoch!);
      expect(fate.slice(0, at + 1)).toEqual([...Array(at).fill('continue'), 'stop']);
      expect(fate.slice(at + 1).every((d) => d === null)).toBe(true);
    } else if (t.status === 'complete') {
      expect(t.history).toHaveLength(epochs);
      expect(t.weightsKey).toMatch(/^weights\//);
      expect(fate).toEqual(rungEpochs.map(() => 'continue'));
      for (const e of rungEpochs)
        expect(rungs[String(e)]!.find((r) => r.trial === t.trial)!.valAccuracy).toBe(t.history[e - 1]!.valAccuracy);
    }
  }
  // Pruned trials are listed after the complete ones, with the rung they reached; never promoted.
  const statuses = view.leaderboard.map((e) => e.status);
  if (statuses.includes('pruned')) expect(statuses.lastIndexOf('complete')).toBeLessThan(statuses.indexOf('pruned'));
  for (const e of view.leaderboard) if (e.status === 'pruned') expect(rungEpochs).toContain(e.prunedAtEpoch);
  if (view.promotion?.candidate)
    expect(trials.find((t) => t.trial === view.promotion!.candidate!.trial)!.status).toBe('complete');
  expect(view.progress.complete).toBeGreaterThan(0);
  expect(view.promotion!.promoted).toBe(true);
}
