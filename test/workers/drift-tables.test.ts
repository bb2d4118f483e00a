import { env } from 'cloudflare:workers';
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/api/app';
import { registryStub } from '../../functions/durable/stubs';
import { LiveMonitor } from '../../functions/services/live';
import { ServingCache } from '../../functions/services/serving';
import worker from '../../functions/worker';
import penguinsCsv from '../fixtures/penguins.csv?raw';
import { callIn, ROOT_TOKEN } from './access-helpers';

/**
 * Drift of a table model in workerd: served objects are sampled and binned per input column as the
 * model reads them (numeric columns by training deciles plus a missing bin, categorical and boolean ones
 * by category with (other), (missing) and (unseen)) against the raw training rows of the table it was
 * trained on. Shifting one categorical column raises its PSI alone over 0.2, and the worker's scheduled
 * handler starts a study whose trigger says drift.
 */
const MODEL = 'dt-penguins';
const SHIFTED = 'island';
const live = new LiveMonitor();
const app = createApp(new ServingCache(), live);
const space = { depth: 1, width: 16, optimizer: 'adam', learningRate: 0.01, batchSize: 16, batchNorm: false };

const [header, ...lines] = penguinsCsv.trim().split('\n');
const columns = header!.split(',');
/** The penguins as a caller sends them: objects by column (the label left out), NA cells as written. */
const rows = lines.map((line) => {
  const cells = line.split(',');
  return Object.fromEntries(
    columns.flatMap((c, i) => (c === 'species' ? [] : [[c, /^\d/.test(cells[i]!) ? Number(cells[i]) : cells[i]!]])),
  );
});

async function ok(path: string, init: { method?: string; json?: unknown; body?: string; type?: string } = {}) {
  const res = await callIn('open', path, {
    method: init.method ?? 'GET',
    token: ROOT_TOKEN,
    json: init.json,
    body: init.body,
    headers: init.type ? { 'content-type': init.type } : {},
    app,
  });
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

/** Serves `n` penguins (cycling through the table), 100 per request, each changed by `shift` first. */
async function serve(n: number, shift: (r: Record<string, unknown>, i: number) => Record<string, unknown>) {
  for (let i = 0; i < n; i += 100) {
    const instances = Array.from({ length: Math.min(100, n - i) }, (_, k) =>
      shift({ ...rows[(i + k) % rows.length]! }, i + k),
    );
    await ok(`/v1/models/${MODEL}/predict`, { method: 'POST', json: { instances } });
  }
  // What this isolate sampled but has not handed over yet.
  await live.flushIfDue(env, MODEL, true);
}

/** The worker's own scheduled handler (RETUNE_SCHEDULES emptied: only the dataset's schedule counts). */
async function cron(): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(
    createScheduledController({ cron: '0 */6 * * *', scheduledTime: Date.now() }),
    { ...env, RETUNE_SCHEDULES: '[]' },
    ctx,
  );
  await waitOnExecutionContext(ctx);
}

beforeAll(async () => {
  await ok(`/v1/datasets/${MODEL}?label=species`, { method: 'PUT', body: penguinsCsv, type: 'text/csv' });
  await ok(`/v1/datasets/${MODEL}/settings`, {
    method: 'PUT',
    json: { schedule: { everyHours: 24, trials: 1, budget: { epochs: 3, maxSeconds: 30 }, parallelism: 1 }, space },
  });
  const { id } = await ok('/v1/studies', {
    method: 'POST',
    json: { dataset: MODEL, trials: 1, seed: 4, parallelism: 1, budget: { epochs: 5, maxSeconds: 30 }, space },
  });
  expect((await waitStudy(id)).promotion.promoted).toBe(true);
}, 240_000);

describe('drift of a table model', () => {
  it('traffic like the training table stays under the threshold on every column; the cron starts nothing', async () => {
    await serve(2000, (r) => r);
    const drift = await ok(`/v1/models/${MODEL}/drift`);
    expect(drift.rows).toBeGreaterThanOrEqual(200);
    expect(drift.rows).toBeLessThan(2000);
    expect(drift.features.map((f: any) => [f.feature, f.kind])).toEqual([
      ['island', 'categorical'],
      ['bill_length_mm', 'numeric'],
      ['bill_depth_mm', 'numeric'],
      ['flipper_length_mm', 'numeric'],
      ['body_mass_g', 'numeric'],
      ['sex', 'categorical'],
      ['year', 'numeric'],
    ]);
    const island = drift.features[0];
    expect(island.bins).toEqual(['Biscoe', 'Dream', 'Torgersen', '(other)', '(missing)', '(unseen)']);
    expect(island.served.reduce((a: number, b: number) => a + b, 0)).toBe(drift.rows);
    // The NA cells of the table are counted as missing, on both sides.
    const sex = drift.features[5];
    expect(sex.expected[sex.bins.indexOf('(missing)')]).toBeGreaterThan(0);
    expect(sex.served[sex.bins.indexOf('(missing)')]).toBeGreaterThan(0);
    expect(drift.maxPsi).toBeLessThan(0.2);
    expect(drift.drifted).toEqual([]);
    await cron();
    expect((await registryStub(env.MODELS, MODEL).state()).activeStudy).toBeNull();
  });

  it('shifting one categorical column raises its PSI alone over 0.2; the cron starts a study whose trigger says drift', async () => {
    // Four in five penguins now come from Torgersen (about one in seven did in training).
    await serve(3000, (r, i) => ({ ...r, [SHIFTED]: i % 5 === 0 ? r[SHIFTED] : 'Torgersen' }));
    const drift = await ok(`/v1/models/${MODEL}/drift`);
    const island = drift.features.find((f: any) => f.feature === SHIFTED);
    expect(island.kind).toBe('categorical');
    expect(island.psi).toBeGreaterThan(0.2);
    expect(drift.drifted).toEqual([SHIFTED]);
    for (const f of drift.features) if (f.feature !== SHIFTED) expect(f.psi, f.feature).toBeLessThan(0.2);
    await cron();
    const active = (await registryStub(env.MODELS, MODEL).state()).activeStudy;
    expect(active).not.toBeNull();
    const view = await waitStudy(active!.id);
    expect(view.spec.origin).toBe('cron');
    expect(view.spec.trigger.kind).toBe('drift');
    expect(view.spec.trigger.detail).toContain(SHIFTED);
  });
});
