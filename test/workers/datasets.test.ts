import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../models/random';
import { runSchedules } from '../../functions/cron';
import { POINTER_TTL_MS } from '../../functions/services/serving';
import type { TrialRecord } from '../../shared/study/types';
import { ADMIN, call, waitForStudy } from './api-helpers';

/** Three well-separated classes with string labels; "income" is in the thousands, "ratio" below 1. */
function threeClassCsv(rows: number, seed = 1): string {
  const rng = new Rng(seed);
  const centres: Record<string, number[]> = {
    bronze: [20, 30_000, 0.2, 5],
    silver: [40, 60_000, 0.5, 2],
    gold: [60, 90_000, 0.8, 8],
  };
  const lines = ['age,income,ratio,visits,tier'];
  for (let i = 0; i < rows; i++) {
    const tier = Object.keys(centres)[i % 3]!;
    const c = centres[tier]!;
    const v = [
      c[0]! + rng.normal() * 4,
      c[1]! + rng.normal() * 6_000,
      c[2]! + rng.normal() * 0.06,
      Math.max(0, Math.round(c[3]! + rng.normal())),
    ];
    lines.push(`${v[0]!.toFixed(1)},${v[1]!.toFixed(0)},${v[2]!.toFixed(3)},${v[3]},${tier}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

async function upload(name: string, body: string, type = 'text/csv', query = '') {
  const res = await exports.default.fetch(`http://edge.test/v1/datasets/${name}${query}`, {
    method: 'PUT',
    headers: { ...ADMIN, 'content-type': type },
    body,
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function study(json: Record<string, unknown>) {
  const res = await call('/v1/studies', { method: 'POST', admin: true, json });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return waitForStudy(res.body.id, 180_000);
}

/** The R2 objects of every stored version of `name`. */
async function objectsOf(name: string): Promise<string[]> {
  return (await env.DATASETS.list({ prefix: `datasets/${name}/` })).objects.map((o) => o.key);
}

async function eventually(check: () => Promise<void>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const versionsIn = (objects: string[]) => [...new Set(objects.map((k) => k.split('/')[2]))];

describe('user datasets end to end', () => {
  it('unscaled, string-labelled 3-class CSV: upload -> study -> promote -> predict by feature name', async () => {
    const up = await upload('tiers', threeClassCsv(240));
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    expect(up.body).toMatchObject({
      name: 'tiers',
      rows: 240,
      features: 4,
      featureNames: ['age', 'income', 'ratio', 'visits'],
      classNames: ['bronze', 'gold', 'silver'],
      classCounts: [80, 80, 80],
    });
    expect(up.body.splitCounts.train + up.body.splitCounts.validation + up.body.splitCounts.test).toBe(240);
    const got = await call('/v1/datasets/tiers');
    expect(got.body).not.toHaveProperty('rows_data');
    expect(got.body.version).toBe(up.body.version);

    const view = await study({ dataset: 'tiers', trials: 3, seed: 3, budget: { epochs: 15, maxSeconds: 30 } });
    expect(view.promotion.promoted).toBe(true);
    // Standardisation is part of the model: the income column in the thousands does not hurt.
    expect(view.promotion.candidate.testAccuracy).toBeGreaterThanOrEqual(0.9);
    await new Promise((r) => setTimeout(r, POINTER_TTL_MS + 100));
    const meta = await call('/v1/models/tiers');
    expect(meta.body.standardisation.mean[1]).toBeGreaterThan(10_000);

    const pred = await call('/v1/models/tiers/predict', {
      method: 'POST',
      json: {
        instances: [
          { visits: 8, ratio: 0.79, income: 91_000, age: 61 },
          { income: 29_000, age: 19, visits: 5, ratio: 0.21 },
        ],
      },
    });
    expect(pred.status, JSON.stringify(pred.body)).toBe(200);
    expect(pred.body.predictions.map((p: { label: string }) => p.label)).toEqual(['gold', 'bronze']);
  });

  it('a synthetic 784-feature, 10-class, 5,000-row set uploads, trains and serves', async () => {
    const rng = new Rng(9);
    const protos = Array.from({ length: 10 }, () => Array.from({ length: 784 }, () => (rng.next() < 0.2 ? 200 : 0)));
    const lines = [[...Array.from({ length: 784 }, (_, i) => `p${i}`), 'digit'].join(',')];
    for (let r = 0; r < 5000; r++) {
      const k = r % 10;
      lines.push(
        [...protos[k]!.map((v) => Math.min(255, Math.max(0, Math.round(v + rng.normal() * 40)))), k].join(','),
      );
    }
    const body = lines.join('\n');
    expect(body.length).toBeGreaterThan(4_000_000);
    const up = await upload('wide', body);
    expect(up.status, JSON.stringify(up.body).slice(0, 300)).toBe(201);
    expect(up.body).toMatchObject({ rows: 5000, features: 784 });
    // One version: its table and its description.
    expect((await objectsOf('wide')).map((k) => k.split('/').pop())).toEqual(['data.bin', 'meta.json', 'table.json']);

    const view = await study({
      dataset: 'wide',
      trials: 1,
      seed: 1,
      budget: { epochs: 2, maxSeconds: 60 },
      space: { depth: 1, width: 32, optimizer: 'adam', learningRate: 0.003, batchSize: 64, batchNorm: true },
    });
    expect(view.progress.complete).toBe(1);
    expect(view.promotion.candidate.testAccuracy).toBeGreaterThan(0.9);
    await new Promise((r) => setTimeout(r, POINTER_TTL_MS + 100));
    const pred = await call('/v1/models/wide/predict', { method: 'POST', json: { instances: [protos[7]] } });
    expect(pred.status).toBe(200);
    expect(pred.body.predictions[0].label).toBe('7');
  });
});

describe('dataset rejections leave nothing behind', () => {
  const good = threeClassCsv(30);
  const cases: [string, string, string, string, number, RegExp][] = [
    ['ragged row', 'bad-ragged', 'a,b,label\n1,2,x\n3,y\n', 'text/csv', 422, /row 2 has 2 columns/],
    [
      'declared numeric with text',
      'bad-text',
      'a,b,label\n1,2,x\n3,abc,y\n4,5,x\n6,7,y\n',
      'text/csv',
      422,
      /row 2, column "b": "abc" is not a number \(declared numeric\)/,
    ],
    ['unknown type', 'bad-types', good, 'text/csv', 422, /types: column "b": "text" is not one of/],
    [
      'every column dropped',
      'bad-dropped',
      'a,b,label\n1,k,x\n2,k,y\n3,k,x\n4,k,y\n5,k,x\n6,k,y\n',
      'text/csv',
      422,
      /no usable feature column: every one was dropped \("a": id-like, "b": constant\)/,
    ],
    ['one class', 'bad-oneclass', 'a,label\n1,x\n2,x\n', 'text/csv', 422, /at least 2 classes/],
    ['class with one row', 'bad-scarce', 'a,label\n1,x\n2,x\n3,x\n4,y\n', 'text/csv', 422, /class "y" has 1 row;/],
    [
      'class with two rows',
      'bad-scarce2',
      'a,label\n1,x\n2,x\n3,x\n4,y\n5,y\n',
      'text/csv',
      422,
      /class "y" has 2 rows; every class needs at least 3 \(one each for training, validation and test\)/,
    ],
    [
      'too many features',
      'bad-wide',
      `${Array.from({ length: 1100 }, (_, i) => `f${i}`).join(',')},label\n`,
      'text/csv',
      422,
      /at most 1024 features/,
    ],
    [
      'too many classes',
      'bad-classes',
      `a,label\n${Array.from({ length: 202 }, (_, i) => `${i},c${i >> 1}`).join('\n')}\n`,
      'text/csv',
      422,
      /at most 100 classes/,
    ],
    [
      'too many rows',
      'bad-long',
      `a,label\n${Array.from({ length: 20_001 }, (_, i) => `${i},${i % 2}`).join('\n')}\n`,
      'text/csv',
      422,
      /at most 20000 rows/,
    ],
    ['unknown label column', 'bad-label', good, 'text/csv', 422, /label column "nope"/],
    ['wrong content type', 'bad-type', good, 'text/plain', 415, /content type "text\/plain" is not accepted/],
    ['malformed JSON', 'bad-json', '{"features": [', 'application/json', 400, /JSON/],
    [
      'JSON ragged',
      'bad-jsonrag',
      JSON.stringify({ features: ['a', 'b'], rows: [[1, 2], [3]], labels: ['x', 'y'] }),
      'application/json',
      422,
      /row 2 has 1 values/,
    ],
  ];
  for (const [what, name, body, type, status, message] of cases) {
    it(`${what} -> ${status}, no dataset, no objects`, async () => {
      const query: Record<string, string> = {
        'unknown label column': '?label=nope',
        'declared numeric with text': '?types=b:numeric',
        'unknown type': '?types=b:text',
      };
      const res = await upload(name, body, type, query[what] ?? '');
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.body.error.message).toMatch(message);
      expect((await call(`/v1/datasets/${name}`)).status).toBe(404);
      expect(await objectsOf(name)).toEqual([]);
    });
  }

  it('a body over the limit is refused before parsing', async () => {
    const res = await upload('bad-huge', 'a,label\n' + '1,x\n'.repeat(9_000_000));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
    expect(await objectsOf('bad-huge')).toEqual([]);
  });

  it('names must be safe; the embedded dataset cannot be replaced or deleted', async () => {
    expect((await upload('Bad.Name', good)).status).toBe(422);
    expect((await upload('digits', good)).status).toBe(409);
    expect((await call('/v1/datasets/digits', { method: 'DELETE', admin: true })).status).toBe(409);
  });
});

describe('listing, deletion, settings, schedules and warm start', () => {
  it('lists datasets, refuses DELETE while a study runs, deletes afterwards; a replacement leaves the running study on its pinned version', async () => {
    expect((await upload('deletable', threeClassCsv(60, 2))).status).toBe(201);
    const list = await call('/v1/datasets');
    expect(list.body.datasets.map((d: { name: string }) => d.name)).toEqual(
      expect.arrayContaining(['digits', 'deletable']),
    );
    const started = await call('/v1/studies', {
      method: 'POST',
      admin: true,
      json: { dataset: 'deletable', trials: 2, seed: 1, budget: { epochs: 3, maxSeconds: 30 } },
    });
    expect(started.status).toBe(202);
    const refused = await call('/v1/datasets/deletable', { method: 'DELETE', admin: true });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/is running/);
    const pinned = (await call(`/v1/studies/${started.body.id}`)).body.spec.datasetVersion;
    // Replacing is allowed: the running study keeps the version it pinned, both versions stay stored.
    const replaced = await upload('deletable', threeClassCsv(60, 3));
    expect(replaced.status).toBe(201);
    expect(replaced.body.version).not.toBe(pinned);
    expect((await call('/v1/datasets/deletable')).body.version).toBe(replaced.body.version);
    const view = await waitForStudy(started.body.id);
    expect(view.spec.datasetVersion).toBe(pinned);
    expect(view.progress.complete).toBe(2);
    // The study releases its pin as it ends: then the superseded version goes, the current one stays.
    await eventually(async () => expect(versionsIn(await objectsOf('deletable'))).toEqual([replaced.body.version]));
    expect((await call('/v1/datasets/deletable', { method: 'DELETE', admin: true })).status).toBe(204);
    expect((await call('/v1/datasets/deletable')).status).toBe(404);
    expect(await objectsOf('deletable')).toEqual([]);
  });

  it('a dataset schedule and space overrides are honoured by the cron', async () => {
    expect((await upload('scheduled', threeClassCsv(90, 4))).status).toBe(201);
    const settings = {
      schedule: { everyHours: 6, trials: 2, budget: { epochs: 2, maxSeconds: 30 }, parallelism: 2 },
      space: { optimizer: 'sgd', learningRate: 0.05 },
    };
    const put = await call('/v1/datasets/scheduled/settings', { method: 'PUT', admin: true, json: settings });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.settings).toEqual(settings);
    const { started } = await runSchedules(env);
    const mine = [];
    for (const id of started) if (id.startsWith('scheduled-')) mine.push(id);
    expect(mine).toHaveLength(1);
    const view = await waitForStudy(mine[0]!);
    expect(view.spec).toMatchObject({ dataset: 'scheduled', origin: 'cron', space: settings.space });
    const trials = (await call(`/v1/studies/${view.id}/trials`)).body.trials as TrialRecord[];
    for (const t of trials) expect(t.config).toMatchObject({ optimizer: 'sgd', learningRate: 0.05 });
  });

  it('warm start evaluates the best configurations of another dataset first', async () => {
    expect((await upload('warm-a', threeClassCsv(120, 5))).status).toBe(201);
    expect((await upload('warm-b', threeClassCsv(120, 6))).status).toBe(201);
    const a = await study({ dataset: 'warm-a', trials: 4, seed: 11, budget: { epochs: 3, maxSeconds: 30 } });
    const b = await study({
      dataset: 'warm-b',
      trials: 5,
      seed: 12,
      warmStartFrom: 'warm-a',
      budget: { epochs: 3, maxSeconds: 30 },
    });
    const best = a.leaderboard
      .filter((e: { status: string }) => e.status === 'complete')
      .slice(0, 3)
      .map((e: { params: unknown }) => e.params);
    const trials = (await call(`/v1/studies/${b.id}/trials`)).body.trials as TrialRecord[];
    expect(trials.slice(0, best.length).map((t) => t.source)).toEqual(best.map(() => 'enqueued'));
    expect(trials.slice(0, best.length).map((t) => t.params)).toEqual(best);
    expect(trials.slice(best.length).every((t) => t.source === 'random')).toBe(true);
    expect(b.spec.warmStart.from).toBe('warm-a');
    const unknown = await call('/v1/studies', {
      method: 'POST',
      admin: true,
      json: { dataset: 'warm-b', warmStartFrom: 'nobody-here' },
    });
    expect(unknown.status).toBe(404);
  });
});

describe('small data', () => {
  it('two classes of 3 rows: each class in every part, trials complete (no 0/0 "diverged")', async () => {
    const csv = 'a,b,label\n0.1,1,x\n0.2,1.1,x\n0.15,0.9,x\n2.1,-1,y\n1.9,-1.2,y\n2.2,-0.8,y\n';
    const up = await upload('tiny', csv);
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    expect(up.body.splitCounts).toEqual({ train: 2, validation: 2, test: 2 });
    const view = await study({ dataset: 'tiny', trials: 2, seed: 2, budget: { epochs: 3, maxSeconds: 30 } });
    expect(view.progress).toMatchObject({ complete: 2, diverged: 0, failed: 0 });
  });
});

describe('majority-class baseline', () => {
  it('a model no better than always answering the majority class is not promoted, and the study says why', async () => {
    // The feature (parity) is independent of the class (every fifth row): nothing to learn, 80% are "common".
    const lines = ['a,label', ...Array.from({ length: 100 }, (_, i) => `${i % 2},${i % 5 === 0 ? 'rare' : 'common'}`)];
    const up = await upload('baseline-only', `${lines.join('\n')}\n`);
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    const view = await study({ dataset: 'baseline-only', trials: 2, seed: 4, budget: { epochs: 3, maxSeconds: 30 } });
    expect(view.progress.complete).toBe(2);
    expect(view.promotion.promoted).toBe(false);
    expect(view.promotion.reason).toMatch(
      /no better than the majority-class baseline 0\.8\d* \(always answering "common"\)/,
    );
    expect((await call('/v1/models/baseline-only')).status).toBe(503);
  });
});
