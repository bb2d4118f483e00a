import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/api/app';
import { LiveMonitor } from '../../functions/services/live';
import { QUALITY_TTL_MS } from '../../functions/services/quality-snapshots';
import { ServingCache } from '../../functions/services/serving';
import { loadEmbeddedDigits } from '../../models/digits-embedded';
import type { Dataset } from '../../models/dataset';
import { callIn, ROOT_TOKEN } from './access-helpers';

/**
 * A model's metadata (GET /v1/models/:name) carries the live quality of its versions: the same figures
 * as /quality (reviewed accuracy with the audit sample apart, confidence histogram, agreement), from a
 * per-isolate snapshot at most QUALITY_TTL_MS old that is refreshed after the response, so the metadata
 * read does not go to the model's monitor each time.
 */
const MODEL = 'mq-digits';
let clock = Date.now();
const live = new LiveMonitor(() => clock);
const app = createApp(new ServingCache(), live);
let digits: Dataset;

async function ok(path: string, init: { method?: string; json?: unknown } = {}) {
  const res = await callIn('open', path, { method: init.method ?? 'GET', token: ROOT_TOKEN, json: init.json, app });
  expect(res.status, `${path}: ${JSON.stringify(res.body).slice(0, 300)}`).toBeLessThan(300);
  return res.body;
}

const cells = (i: number) => Array.from(digits.x.subarray(i * 64, (i + 1) * 64));
const withoutAsOf = ({ asOf: _asOf, ...rest }: any) => rest;

beforeAll(async () => {
  digits = await loadEmbeddedDigits();
  const { id } = await ok('/v1/studies', {
    method: 'POST',
    json: {
      dataset: 'digits',
      model: MODEL,
      trials: 1,
      seed: 6,
      parallelism: 1,
      budget: { epochs: 2, maxSeconds: 30 },
    },
  });
  for (let i = 0; i < 900; i++) {
    const view = await ok(`/v1/studies/${id}`);
    if (view.status === 'complete') return expect(view.promotion.promoted).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('study did not complete');
}, 240_000);

describe("live quality in a model's metadata", () => {
  it('shows what /quality shows, from a snapshot refreshed after the response once it is 10 s old', async () => {
    // Every prediction under threshold 1 is flagged (40 distinct rows in 4 requests).
    for (let r = 0; r < 4; r++)
      await ok(`/v1/models/${MODEL}/predict`, {
        method: 'POST',
        json: { instances: Array.from({ length: 10 }, (_, k) => cells(200 + r * 10 + k)), threshold: 1 },
      });
    await live.flushIfDue(env, MODEL, true);
    const pending = (await ok(`/v1/models/${MODEL}/reviews?limit=100`)).reviews as any[];
    expect(pending.length).toBeGreaterThanOrEqual(8);
    // Four labelled as predicted, two with another class.
    const other = (l: string) => digits.classNames.find((c) => c !== l)!;
    for (const [k, item] of pending.slice(0, 6).entries())
      await ok(`/v1/reviews/${item.id}`, {
        method: 'POST',
        json: { label: k < 4 ? item.predicted.label : other(item.predicted.label) },
      });

    let meta = await ok(`/v1/models/${MODEL}`);
    // With no snapshot yet the read waits for the monitor a short while; a slow one leaves null for once.
    for (let i = 0; i < 20 && meta.live === null; i++) meta = await ok(`/v1/models/${MODEL}`);
    const quality = await ok(`/v1/models/${MODEL}/quality`);
    expect(withoutAsOf(meta.live)).toEqual(quality);
    const v1 = meta.live.versions.find((v: any) => v.version === 1);
    expect(v1.flagged).toEqual({ labelled: 6, correct: 4, accuracy: 4 / 6 });
    expect(v1.audit.labelled).toBe(0);
    expect(v1.served).toBe(40);
    expect(v1.confidence.reduce((a: number, b: number) => a + b, 0)).toBe(40);
    const firstAsOf = meta.live.asOf;

    // A seventh label: the monitor has it at once; the metadata keeps its snapshot while it is fresh.
    await ok(`/v1/reviews/${pending[6].id}`, { method: 'POST', json: { label: pending[6].predicted.label } });
    expect((await ok(`/v1/models/${MODEL}/quality`)).versions[0].flagged.labelled).toBe(7);
    clock += QUALITY_TTL_MS - 1;
    meta = await ok(`/v1/models/${MODEL}`);
    expect(meta.live.asOf).toBe(firstAsOf);
    expect(meta.live.versions[0].flagged.labelled).toBe(6);

    // Past the TTL: this read still answers the old snapshot and refreshes it after the response.
    clock += 2;
    meta = await ok(`/v1/models/${MODEL}`);
    expect(meta.live.versions[0].flagged.labelled).toBe(6);
    meta = await ok(`/v1/models/${MODEL}`);
    expect(meta.live.versions[0].flagged).toEqual({ labelled: 7, correct: 5, accuracy: 5 / 7 });
    expect(Date.parse(meta.live.asOf)).toBe(clock);
    expect(withoutAsOf(meta.live)).toEqual(await ok(`/v1/models/${MODEL}/quality`));
  });
});
