/**
 * The champion/challenger guard scores both models on the same test rows (issue 17).
 *
 * (a) is built from crafted models on a crafted dataset, so the comparison lands exactly where the test
 * says: each model is a logistic regression that reads one column and answers "yes" when it is positive,
 * and the columns are written so that, on the test split the deployment derives (seed 42), the champion's
 * column is wrong on exactly the rows listed and the challenger's on none. Both go through
 * promoteThroughGuard, the one path studies and sessions take, against the real registry and KV.
 * (b)-(d) run real, seeded studies on a dataset that is replaced under them.
 */
// The worker's schemas extend zod with .openapi(); models/config must be built after that, as in the worker.
import '@hono/zod-openapi';
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../models/config';
import { stratifiedSplit, type Dataset, type Split } from '../../models/dataset';
import type { NetworkWeights } from '../../models/network';
import { Rng } from '../../models/random';
import { encodeWeights } from '../../models/weights-codec';
import { registryStub } from '../../functions/durable/stubs';
import { loadSplit, SPLIT_SEED } from '../../shared/datasets';
import { R2BlobStore } from '../../shared/storage/blob-store';
import { KvStore } from '../../shared/storage/kv-store';
import { promoteThroughGuard } from '../../shared/study/champion';
import type { Comparison } from '../../shared/study/compare';
import { evaluateTest } from '../../shared/study/evaluate-split';
import type { VersionCandidate } from '../../shared/study/types';
import { initBackend } from '../../shared/tf/backend';
import { ADMIN, call, waitForStudy } from './api-helpers';
import { requireWasmSimd } from './fixtures';

const store = () => new KvStore(env.KV);
const GUARD = { margin: 0, significance: 0.05 };

async function upload(name: string, csv: string): Promise<{ version: string; splitCounts: { test: number } }> {
  const res = await exports.default.fetch(`http://edge.test/v1/datasets/${name}`, {
    method: 'PUT',
    headers: { ...ADMIN, 'content-type': 'text/csv' },
    body: csv,
  });
  const body = (await res.json()) as any;
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body;
}

/** The original row numbers of the test split the deployment derives for these labels. */
function testRowsOf(labels: number[]): number[] {
  const d: Dataset = {
    name: 'labels-only',
    featureNames: ['unused'],
    classNames: ['no', 'yes'],
    x: new Float32Array(labels.length),
    y: Int32Array.from(labels),
    rows: labels.length,
    features: 1,
  };
  return stratifiedSplit(d, SPLIT_SEED).test;
}

const LOGISTIC = resolveConfig({ depth: 0, batchNorm: false });

/**
 * A depth-0 network that answers "yes" exactly when raw column `f` is positive: on standardised input
 * z = (x - m) / s the logits are -4(x) and +4(x) once the standardisation is undone in the weights.
 */
function reader(split: Split, f: number): NetworkWeights {
  const { mean, std } = split.standardisation;
  const kernel = new Float32Array(split.features * 2);
  kernel[f * 2] = -4 * std[f]!;
  kernel[f * 2 + 1] = 4 * std[f]!;
  return {
    hidden: [],
    output: { inputs: split.features, units: 2, kernel, bias: Float32Array.from([-4 * mean[f]!, 4 * mean[f]!]) },
  };
}

/** Promotes a crafted model of `dataset@version` into `model` through the guard, as a study would. */
async function propose(
  model: string,
  id: string,
  dataset: { name: string; version: string },
  split: Split,
  weights: NetworkWeights,
  validationAccuracy: number,
) {
  const weightsKey = `weights/${id}/crafted`;
  await store().put(weightsKey, encodeWeights(weights));
  const correct = evaluateTest(weights, LOGISTIC, split).correct;
  const candidate: VersionCandidate = {
    model,
    studyId: id,
    trial: 0,
    dataset: dataset.name,
    datasetVersion: dataset.version,
    splitSeed: SPLIT_SEED,
    config: LOGISTIC,
    featureNames: split.featureNames,
    classNames: split.classNames,
    standardisation: split.standardisation,
    metrics: {
      validationAccuracy,
      validationLoss: 0.1,
      testAccuracy: correct.reduce((s, v) => s + v, 0) / correct.length,
    },
    threshold: 0.5,
    weightsKey,
  };
  return promoteThroughGuard(
    registryStub(env.MODELS, model),
    store(),
    candidate,
    { dataset: dataset.name, datasetVersion: dataset.version, split, correct },
    GUARD,
  );
}

describe('(a) same dataset: both models scored on the same test rows, McNemar at 0.05', () => {
  // Columns a1, a20 and b all carry the label's sign, except that a1 is flipped on one test row and a20
  // on twenty: a model reading a1 is one row worse than one reading b, a model reading a20 twenty rows.
  const N = 1666;
  const labels = Array.from({ length: N }, (_, r) => r % 2);
  const testRows = testRowsOf(labels);
  const flipped1 = new Set(testRows.slice(0, 1));
  const flipped20 = new Set(testRows.slice(0, 20));
  const lines = ['a1,a20,b,label'];
  for (let r = 0; r < N; r++) {
    const s = (labels[r] ? 1 : -1) * (1 + (r % 7) * 0.1);
    lines.push(`${flipped1.has(r) ? -s : s},${flipped20.has(r) ? -s : s},${s},${labels[r] ? 'yes' : 'no'}`);
  }

  it('a challenger better by one row (0.4 pt) is not promoted; one better by twenty rows is', async () => {
    await requireWasmSimd();
    const meta = await upload('guard-rows', lines.join('\n'));
    expect(meta.splitCounts.test).toBe(250);
    const dataset = { name: 'guard-rows', version: meta.version };
    const split = await loadSplit(dataset.name, new R2BlobStore(env.DATASETS), dataset.version);
    expect(split.test.rows).toBe(250);

    // One row: the champion reads a1, the challenger b.
    const first = await propose('guard-one', 'guard-one-champ', dataset, split, reader(split, 0), 0.99);
    expect(first).toMatchObject({ promoted: true, version: 1, reason: 'no current champion', comparison: null });
    const one = await propose('guard-one', 'guard-one-chall', dataset, split, reader(split, 2), 0.99);
    expect(one.promoted).toBe(false);
    expect(one.comparison).toEqual({
      comparable: true,
      championVersion: 1,
      split: 'test',
      dataset: 'guard-rows',
      datasetVersion: meta.version,
      rows: 250,
      championAccuracy: 249 / 250,
      challengerAccuracy: 1,
      discordant: { championOnly: 0, challengerOnly: 1 },
      pValue: 1,
    } satisfies Comparison);
    expect(one.guard).toEqual(GUARD);
    expect(one.reason).toMatch(/not significantly at 0\.05/);
    expect((await registryStub(env.MODELS, 'guard-one').current())!.version).toBe(1);

    // Twenty rows: the champion reads a20. p = 2 / 2^20.
    await propose('guard-clear', 'guard-clear-champ', dataset, split, reader(split, 1), 0.99);
    const clear = await propose('guard-clear', 'guard-clear-chall', dataset, split, reader(split, 2), 0.95);
    expect(clear).toMatchObject({ promoted: true, version: 2 });
    expect(clear.comparison).toMatchObject({
      comparable: true,
      championVersion: 1,
      rows: 250,
      championAccuracy: 230 / 250,
      challengerAccuracy: 1,
      discordant: { championOnly: 0, challengerOnly: 20 },
    });
    expect((clear.comparison as Comparison).pValue).toBeCloseTo(2 / 2 ** 20, 15);
    const v2 = (await registryStub(env.MODELS, 'guard-clear').current())!;
    expect(v2.version).toBe(2);
    expect(v2.promotedBy).toEqual({ reason: clear.reason, comparison: clear.comparison, explicit: false });
  });

  it('the registry refuses evidence about another champion than its current one', async () => {
    await initBackend();
    const registry = registryStub(env.MODELS, 'guard-one');
    const champion = (await registry.current())!;
    const candidate: VersionCandidate = { ...champion, studyId: 'guard-stale' };
    const stale = await registry.promote(candidate, GUARD, {
      comparable: true,
      championVersion: champion.version + 5,
      split: 'test',
      dataset: champion.dataset,
      datasetVersion: champion.datasetVersion,
      rows: 1,
      championAccuracy: 0,
      challengerAccuracy: 1,
      discordant: { championOnly: 0, challengerOnly: 1 },
      pValue: 1e-9,
    });
    expect(stale).toEqual({
      ok: false,
      error: { code: 'conflict', message: expect.stringMatching(/stale evidence: .*the champion is v1/) },
    });
    // "There is no champion" is stale too when there is one.
    expect(await registry.promote(candidate, GUARD, null)).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect((await registry.state()).versions).toEqual([1]);
  });
  it('a champion that changes while it is scored is scored again: the decision is about the current one', async () => {
    await requireWasmSimd();
    const meta = await upload('guard-race-rows', lines.join('\n'));
    const dataset = { name: 'guard-race-rows', version: meta.version };
    const split = await loadSplit(dataset.name, new R2BlobStore(env.DATASETS), dataset.version);
    // v1 reads a20 (20 rows wrong); v2 reads a1 (1 row wrong) and beats it.
    await propose('guard-race', 'guard-race-v1', dataset, split, reader(split, 1), 0.9);
    expect(await propose('guard-race', 'guard-race-v2', dataset, split, reader(split, 0), 0.9)).toMatchObject({
      promoted: true,
      version: 2,
    });
    // The real registry, with a rollback to v1 landing right after the caller read the champion (v2).
    const registry = registryStub(env.MODELS, 'guard-race');
    let reads = 0;
    const racing = {
      current: async () => {
        const champion = await registry.current();
        if (reads++ === 0) expect(await registry.rollback(1)).toMatchObject({ ok: true });
        return champion;
      },
      promote: (...args: Parameters<typeof registry.promote>) => registry.promote(...args),
    };
    const weights = reader(split, 2);
    const weightsKey = 'weights/guard-race-v3/crafted';
    await store().put(weightsKey, encodeWeights(weights));
    const correct = evaluateTest(weights, LOGISTIC, split).correct;
    const v2 = (await registry.version(2))!;
    const outcome = await promoteThroughGuard(
      racing,
      store(),
      { ...v2, studyId: 'guard-race-v3', weightsKey, metrics: { ...v2.metrics, testAccuracy: 1 } },
      { dataset: dataset.name, datasetVersion: dataset.version, split, correct },
      GUARD,
    );
    expect(reads).toBe(2);
    // Scored against v2 (one row) it would have been refused; against v1, the champion now, it wins by twenty.
    expect(outcome).toMatchObject({
      promoted: true,
      version: 3,
      comparison: { championVersion: 1, discordant: { championOnly: 0, challengerOnly: 20 } },
    });
  });
});

/** Two numeric columns and a yes/no label; the label follows column `signal` (with `noise` of labels flipped). */
function tableCsv(columns: [string, string], signal: 0 | 1, noise: number, seed: number, rows = 600): string {
  const rng = new Rng(seed);
  const lines = [`${columns[0]},${columns[1]},label`];
  for (let r = 0; r < rows; r++) {
    const v = [rng.normal(), rng.normal()];
    let yes = v[signal]! > 0;
    if (rng.next() < noise) yes = !yes;
    lines.push(`${v[0]!.toFixed(4)},${v[1]!.toFixed(4)},${yes ? 'yes' : 'no'}`);
  }
  return lines.join('\n');
}

async function study(dataset: string, seed: number) {
  const res = await call('/v1/studies', {
    method: 'POST',
    admin: true,
    json: {
      dataset,
      trials: 2,
      seed,
      parallelism: 2,
      budget: { epochs: 12, maxSeconds: 30 },
      space: { depth: 1, width: 16, optimizer: 'adam', learningRate: 0.01, batchSize: 32, batchNorm: false },
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return waitForStudy(res.body.id, 180_000);
}

describe('(b)-(d) a dataset replaced under its model', () => {
  it('a harder version promotes the challenger that beats the champion on the new rows; a new schema is not comparable', async () => {
    await requireWasmSimd();
    // v1: the label is the sign of a (clean). The champion learns to read a.
    await upload('guard-shift', tableCsv(['a', 'b'], 0, 0, 1));
    const first = await study('guard-shift', 11);
    expect(first.promotion).toMatchObject({ promoted: true, version: 1, comparison: null });
    const championVal = first.promotion.candidate.valAccuracy;
    expect(championVal).toBeGreaterThan(0.95);

    // v2, harder: the label follows b, 15% of labels flipped; a is noise now.
    const v2 = await upload('guard-shift', tableCsv(['a', 'b'], 1, 0.15, 2));
    const second = await study('guard-shift', 12);
    const p = second.promotion;
    // (b) promoted although its validation accuracy is below the champion's old figure (the old guard's test).
    expect(p.candidate.valAccuracy).toBeLessThan(championVal);
    expect(p.champion).toEqual({ version: 1, valAccuracy: championVal });
    expect(p).toMatchObject({ promoted: true, version: 2 });
    // (d) the evidence, on v2's test rows.
    expect(p.comparison).toMatchObject({
      comparable: true,
      championVersion: 1,
      split: 'test',
      dataset: 'guard-shift',
      datasetVersion: v2.version,
      rows: v2.splitCounts.test,
    });
    const c = p.comparison as Comparison;
    expect(c.challengerAccuracy).toBe(p.candidate.testAccuracy);
    expect(c.challengerAccuracy).toBeGreaterThan(c.championAccuracy);
    expect(c.discordant.challengerOnly).toBeGreaterThan(c.discordant.championOnly);
    expect(c.challengerAccuracy - c.championAccuracy).toBeCloseTo(
      (c.discordant.challengerOnly - c.discordant.championOnly) / c.rows,
      12,
    );
    expect(c.pValue).toBeLessThan(0.05);
    expect(p.guard).toEqual({ margin: 0, significance: 0.05 });

    // (c) v3 renames a column: the champion (reads a, b) cannot read it.
    await upload('guard-shift', tableCsv(['x', 'b'], 1, 0.15, 3));
    const third = await study('guard-shift', 13);
    expect(third.promotion).toMatchObject({
      promoted: false,
      version: null,
      comparison: { comparable: false, championVersion: 2, dataset: 'guard-shift' },
    });
    expect(third.promotion.comparison.reason).toMatch(/"a"/);
    expect(third.promotion.reason).toMatch(/not comparable/);
    expect(third.promotion.advice).toContain(`POST /v1/studies/${third.id}/promote`);
    expect((await registryStub(env.MODELS, 'guard-shift').current())!.version).toBe(2);

    // The explicit way forward: admin only, through the registry, recorded as explicit, once.
    const promote = (init: { admin?: boolean } = {}) =>
      call(`/v1/studies/${third.id}/promote`, { method: 'POST', json: {}, ...init });
    expect((await promote()).status).toBe(401);
    const explicit = await promote({ admin: true });
    expect(explicit.status, JSON.stringify(explicit.body)).toBe(200);
    expect(explicit.body).toMatchObject({
      promoted: true,
      explicit: true,
      version: 3,
      comparison: { comparable: false, championVersion: 2 },
    });
    expect(explicit.body).not.toHaveProperty('advice');
    expect((await promote({ admin: true })).body).toEqual(explicit.body);
    expect((await call(`/v1/studies/${second.id}/promote`, { method: 'POST', admin: true, json: {} })).status).toBe(
      409,
    );
    expect((await call(`/v1/studies/${third.id}`)).body.promotion).toEqual(explicit.body);

    // (d) the versions listing carries each version's evidence.
    const versions = (await call('/v1/models/guard-shift/versions')).body;
    expect(versions.current).toBe(3);
    expect(versions.versions.map((v: any) => v.promotedBy.comparison?.comparable ?? null)).toEqual([null, true, false]);
    expect(versions.versions[1].promotedBy).toEqual({ reason: p.reason, comparison: p.comparison, explicit: false });
    expect(versions.versions[2].promotedBy.explicit).toBe(true);
    expect(versions.history.at(-1)).toMatchObject({ action: 'promote', from: 2, to: 3, explicit: true });
  });
});

describe('the significance setting', () => {
  it('is a probability above 0 (422 otherwise) and is recorded in the spec, 0.05 by default', async () => {
    for (const significance of [0, -0.1, 1.5, 'high'])
      expect((await call('/v1/studies', { method: 'POST', admin: true, json: { significance } })).status).toBe(422);
    const res = await call('/v1/studies', {
      method: 'POST',
      admin: true,
      json: { model: 'guard-settings', trials: 1, budget: { epochs: 1, maxSeconds: 30 } },
    });
    expect(res.status).toBe(202);
    const view = await waitForStudy(res.body.id);
    expect(view.spec).toMatchObject({ margin: 0, significance: 0.05 });
    expect(view.promotion.guard).toEqual({ margin: 0, significance: 0.05 });
  });
});
