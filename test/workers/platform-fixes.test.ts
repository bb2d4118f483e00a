/**
 * Issue 12 item 8: a guarded RETUNE_SCHEDULES parse, and an evicted Predictor that stays alive while a
 * request still holds it (a lease), freed when the last holder lets go.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SCHEDULES, schedulesFrom } from '../../functions/cron';
import { registryStub } from '../../functions/durable/stubs';
import { ServingCache, type ServingDeps } from '../../functions/services/serving';
import { R2BlobStore } from '../../shared/storage/blob-store';
import { KvStore } from '../../shared/storage/kv-store';
import { startStudy, waitForStudy } from './api-helpers';
import { faithful } from './platform/faithful';
import { resolveConfig } from '../../models/config';
import { train } from '../../models/train';
import { digitsSplit, requireWasmSimd, shrink } from './fixtures';

describe('timings under the platform clock', () => {
  it('per-epoch times and throughput are measured across yields: never 0 although the clock stands still in compute', async () => {
    await requireWasmSimd();
    const split = shrink(await digitsSplit(), 600);
    const result = await train(resolveConfig({ epochs: 3, width: 64, depth: 2 }), split, 4);
    for (const r of result.history) expect(r.ms).toBeGreaterThan(0);
    expect(result.timing.computeMs).toBeGreaterThan(0);
    expect(result.timing.samplesPerSecond).toBeGreaterThan(0);
    expect(Number.isFinite(result.timing.samplesPerSecond)).toBe(true);
  });
});

describe('cron schedules', () => {
  it('RETUNE_SCHEDULES that is not JSON falls back to the defaults instead of throwing', () => {
    expect(schedulesFrom({ RETUNE_SCHEDULES: '[{"model": "x",' })).toEqual(DEFAULT_SCHEDULES);
    expect(schedulesFrom({ RETUNE_SCHEDULES: '{"not": "an array"}' })).toEqual(DEFAULT_SCHEDULES);
  });

  it('RETUNE_SCHEDULES entries have the bounds a dataset schedule has through the API (api/schemas.ts ScheduleSchema)', () => {
    const entry = {
      model: 'm',
      dataset: 'iris',
      everyHours: 24,
      trials: 4,
      budget: { epochs: 3, maxSeconds: 30 },
      parallelism: 2,
    };
    const of = (e: object) => schedulesFrom({ RETUNE_SCHEDULES: JSON.stringify([e]) });
    expect(of(entry)).toEqual([entry]);
    expect(of({ ...entry, everyHours: 24 * 365 + 1 })).toEqual(DEFAULT_SCHEDULES);
    expect(of({ ...entry, budget: { ...entry.budget, maxSeconds: 291 } })).toEqual(DEFAULT_SCHEDULES);
    expect(of({ ...entry, budget: { ...entry.budget, batch: 32 } })).toEqual(DEFAULT_SCHEDULES);
    expect(of({ ...entry, dataset: 'Iris/../x' })).toEqual(DEFAULT_SCHEDULES);
  });
});

describe('serving cache', () => {
  it('an evicted model held by a request keeps its wasm buffers until released, then is freed', async () => {
    const model = 'lease-model';
    await waitForStudy(await startStudy(model, { trials: 1, budget: { epochs: 1, maxSeconds: 30 } }));
    const meta = (await registryStub(env.MODELS, model).current())!;
    const deps: ServingDeps = { models: env.MODELS, store: new KvStore(env.KV), blobs: new R2BlobStore(env.DATASETS) };
    // Versions are cached by (model, version): the same weights under other version numbers are other entries.
    const as = (version: number) => ({ ...meta, version });
    const cache = new ServingCache();
    const rows = 8;
    const x = Float32Array.from({ length: rows * meta.featureNames.length }, (_, i) => (i * 7) % 17);

    const held = await cache.load(deps, as(1));
    let disposed = 0;
    const dispose = held.predictor.dispose.bind(held.predictor);
    held.predictor.dispose = () => {
      disposed += 1;
      dispose();
    };
    const before = held.predictor.predictProba(x, rows);
    // Eight more versions evict version 1 while it is held; the old code freed it a second later.
    for (let v = 2; v <= 9; v++) (await cache.load(deps, as(v))).release();
    const realStart = faithful.realNow();
    while (faithful.realNow() - realStart < 1200) await new Promise((r) => setTimeout(r, 50));
    // New allocations would land in freed buffers.
    for (let v = 10; v <= 17; v++) (await cache.load(deps, as(v))).release();
    expect(disposed).toBe(0);
    expect(held.predictor.predictProba(x, rows)).toEqual(before);
    held.release();
    await new Promise((r) => setTimeout(r, 10));
    expect(disposed).toBe(1);
  });
});
