import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/api/app';
import { liveOnlySchedules, runSchedules, type Schedule } from '../../functions/cron';
import { LiveMonitor } from '../../functions/services/live';
import { ServingCache } from '../../functions/services/serving';
import { loadEmbeddedDigits } from '../../models/digits-embedded';
import type { Dataset } from '../../models/dataset';
import { callIn, ROOT_TOKEN } from './access-helpers';

/**
 * Drift in workerd: served inputs are sampled and sketched against the version's training distribution;
 * shifting one feature raises its PSI over the threshold and the cron starts a study whose trigger
 * says drift (the schedule itself is not due).
 */
const MODEL = 'dr-digits';
const SHIFTED = 'px_4_4';
let digits: Dataset;
const app = createApp(new ServingCache(), new LiveMonitor());

async function ok(path: string, init: { method?: string; json?: unknown } = {}) {
  const res = await callIn('open', path, { method: init.method ?? 'GET', token: ROOT_TOKEN, json: init.json, app });
  expect(res.status, `${path}: ${JSON.stringify(res.body).slice(0, 300)}`).toBeLessThan(300);
  return res.body;
}

async function waitStudy(id: string) {
  for (let i = 0; i < 900; i++) {
    const view = await ok(`/v1/studies/${id}`);
    if (view.status === 'complete') return view;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`study ${id} did not complete`);
}

/** Serves `n` digits rows (from `from`), 100 per request, with `shift` applied to each row first. */
async function serve(from: number, n: number, shift: (r: number[]) => number[] = (r) => r, model = MODEL) {
  for (let i = 0; i < n; i += 100) {
    const rows = Array.from({ length: Math.min(100, n - i) }, (_, k) => {
      const r = (from + i + k) % digits.rows;
      return shift(Array.from(digits.x.subarray(r * 64, (r + 1) * 64)));
    });
    await ok(`/v1/models/${model}/predict`, { method: 'POST', json: { instances: rows } });
  }
}

const schedule: Schedule = {
  model: MODEL,
  dataset: 'digits',
  everyHours: 24,
  trials: 1,
  budget: { epochs: 1, maxSeconds: 30 },
  parallelism: 1,
};

async function promoteFirstVersion(model: string, budget: { epochs: number; maxSeconds: number }) {
  const { id } = await ok('/v1/studies', {
    method: 'POST',
    json: { dataset: 'digits', model, trials: 1, seed: 4, parallelism: 1, budget },
  });
  expect((await waitStudy(id)).promotion.promoted).toBe(true);
}

beforeAll(async () => {
  digits = await loadEmbeddedDigits();
  await promoteFirstVersion(MODEL, { epochs: 2, maxSeconds: 30 });
}, 240_000);

describe('drift', () => {
  it('served traffic like the training data stays under the threshold, and the cron starts nothing', async () => {
    await serve(0, 1500);
    const drift = await ok(`/v1/models/${MODEL}/drift`);
    expect(drift.version).toBe(1);
    expect(drift.rows).toBeGreaterThanOrEqual(200);
    expect(drift.rows).toBeLessThan(1500); // sampled, not every row
    expect(drift.maxPsi).not.toBeNull();
    expect(drift.maxPsi).toBeLessThan(0.2);
    expect(drift.drifted).toEqual([]);
    expect(drift.features).toHaveLength(64);
    expect((await runSchedules(env, new Date(), [schedule])).started).toEqual([]);
  });

  it('shifting one feature raises its PSI over 0.2; the cron starts a study whose trigger says drift, once', async () => {
    const j = digits.featureNames.indexOf(SHIFTED);
    expect(j).toBeGreaterThanOrEqual(0);
    await serve(200, 3000, (r) => {
      r[j] = r[j]! > 8 ? 0 : 16;
      return r;
    });
    const drift = await ok(`/v1/models/${MODEL}/drift`);
    const feature = drift.features.find((f: any) => f.feature === SHIFTED);
    expect(feature.psi).toBeGreaterThan(0.2);
    expect(drift.maxPsi).toBe(feature.psi);
    expect(drift.drifted).toContain(SHIFTED);
    const { started } = await runSchedules(env, new Date(), [schedule]);
    expect(started).toHaveLength(1);
    const view = await waitStudy(started[0]!);
    expect(view.spec.origin).toBe('cron');
    expect(view.spec.trigger.kind).toBe('drift');
    expect(view.spec.trigger.detail).toContain(SHIFTED);
    // The window restarted with the study: the same shift does not start another one.
    expect((await ok(`/v1/models/${MODEL}/drift`)).rows).toBe(0);
    expect((await runSchedules(env, new Date(), [schedule])).started).toEqual([]);
  });

  it('a served model that no schedule names is re-tuned on drift too (never on time), with its study settings', async () => {
    const model = 'dr-unscheduled';
    await promoteFirstVersion(model, { epochs: 3, maxSeconds: 40 });
    const live = (await liveOnlySchedules(env, [schedule])).filter((s) => s.model === model);
    expect(live).toEqual([
      expect.objectContaining({
        model,
        dataset: 'digits',
        trials: 1,
        budget: { epochs: 3, maxSeconds: 40 },
        parallelism: 1,
        liveOnly: true,
      }),
    ]);
    // The scheduled model is left to its schedule.
    expect((await liveOnlySchedules(env, [schedule])).map((s) => s.model)).not.toContain(MODEL);
    // Time alone never starts a live-only re-tune, however long ago the last study ended.
    const inTwoYears = new Date(Date.now() + 2 * 365 * 24 * 3600_000);
    expect((await runSchedules(env, inTwoYears, live)).started).toEqual([]);
    const j = digits.featureNames.indexOf(SHIFTED);
    await serve(
      0,
      3000,
      (r) => {
        r[j] = r[j]! > 8 ? 0 : 16;
        return r;
      },
      model,
    );
    const { started } = await runSchedules(env, new Date(), live);
    expect(started).toHaveLength(1);
    const view = await waitStudy(started[0]!);
    expect(view.spec.model).toBe(model);
    expect(view.spec.trigger.kind).toBe('drift');
    expect(view.spec.trials).toBe(1);
    expect(view.spec.budget).toEqual({ epochs: 3, maxSeconds: 40 });
  }, 240_000);
});
