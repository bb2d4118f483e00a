import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSplit } from '../../shared/datasets';
import type { Split } from '../../models/dataset';
import { registryStub } from '../../functions/durable/stubs';
import { call, startStudy, waitForStudy } from './api-helpers';
import { requireWasmSimd } from './fixtures';

const MODEL = 'eval-digits';
let split: Split;

beforeAll(async () => {
  await requireWasmSimd();
  split = await loadSplit('digits');
  await waitForStudy(await startStudy(MODEL, { trials: 2, budget: { epochs: 4, maxSeconds: 30 } }));
}, 120_000);

const sum = (m: number[][]) => m.flat().reduce((a, b) => a + b, 0);
const diagonal = (m: number[][]) => m.reduce((a, row, i) => a + row[i]!, 0);

describe('GET /v1/models/:name/evaluation', () => {
  it('covers every test row once and reproduces the test accuracy recorded at promotion', async () => {
    const meta = (await registryStub(env.MODELS, MODEL).current())!;
    expect(meta).not.toBeNull();
    const res = await call(`/v1/models/${MODEL}/evaluation`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const ev = res.body;
    expect(ev).toMatchObject({
      model: MODEL,
      version: meta.version,
      dataset: 'digits',
      split: 'test',
      rows: split.test.rows,
      classNames: split.classNames,
    });
    expect(ev.confusion).toHaveLength(split.classes);
    for (const row of ev.confusion) expect(row).toHaveLength(split.classes);
    expect(sum(ev.confusion)).toBe(split.test.rows);
    // Row sums are the class counts of the test split: rows are indexed by the actual class.
    const counts = new Array(split.classes).fill(0);
    for (const y of split.test.y) counts[y]++;
    expect(ev.confusion.map((row: number[]) => row.reduce((a, b) => a + b, 0))).toEqual(counts);
    expect(diagonal(ev.confusion) / sum(ev.confusion)).toBe(meta.metrics.testAccuracy);
    expect(ev.accuracy).toBe(meta.metrics.testAccuracy);
  });

  it('agrees cell by cell with the labels /predict gives for the same test rows', async () => {
    const { mean, std } = split.standardisation;
    const f = split.features;
    // Float32 raw rows: exactly the inputs the evaluation feeds the predictor.
    const raw = split.test.x.map((v, i) => v * std[i % f]! + mean[i % f]!);
    const rows = Array.from({ length: split.test.rows }, (_, r) => Array.from(raw.subarray(r * f, (r + 1) * f)));
    const pred = await call(`/v1/models/${MODEL}/predict`, { method: 'POST', json: { instances: rows } });
    expect(pred.status).toBe(200);
    const expected = Array.from({ length: split.classes }, () => new Array(split.classes).fill(0));
    pred.body.predictions.forEach(
      (p: { classIndex: number }, r: number) => expected[split.test.y[r]!]![p.classIndex]++,
    );
    const ev = await call(`/v1/models/${MODEL}/evaluation`);
    expect(ev.body.confusion).toEqual(expected);
  });

  it('is listed in /openapi.json; unknown models are 404 in the error shape', async () => {
    const doc = await call('/openapi.json');
    expect(doc.body.paths['/v1/models/{name}/evaluation']?.get?.responses?.['200']).toBeDefined();
    const missing = await call('/v1/models/no-such-model/evaluation');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    const invalid = await call('/v1/models/Bad.Name/evaluation');
    expect(invalid.status).toBe(422);
  });
});
