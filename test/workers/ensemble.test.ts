/**
 * Issue 14: after a study, greedy ensemble selection over its complete trials; the ensemble, when it beats
 * the best trial on validation, goes through the promotion guard as a version listing its members, and
 * serving averages the members' folded predictors. Every promoted version is temperature-scaled on
 * validation, and `confidence` / `review` use the scaled probabilities. All through the real Queue, Durable
 * Objects and KV; the expected probabilities are rebuilt here from the study's own trial records.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyTemperature, temperedNll } from '../../models/calibration';
import type { Split } from '../../models/dataset';
import { foldNetwork } from '../../models/fold';
import { EnsemblePredictor, mixMembers, Predictor } from '../../models/infer';
import { initialWeights, specOf } from '../../models/network';
import { resolveConfig } from '../../models/config';
import { decodeWeights, encodeWeights } from '../../models/weights-codec';
import { registryStub, studyStub } from '../../functions/durable/stubs';
import { ServingCache } from '../../functions/services/serving';
import { loadSplit } from '../../shared/datasets';
import { KvStore } from '../../shared/storage/kv-store';
import { MemoryStore } from '../../shared/storage/memory-store';
import { rawRows } from '../../shared/study/evaluate-split';
import type { ModelVersion, TrialRecord } from '../../shared/study/types';
import { call, startStudy, waitForStudy } from './api-helpers';
import { maxAbsDiff, requireWasmSimd } from './fixtures';
import { trackWasmHeap } from './wasm-heap';

let split: Split;
let raw: Float32Array;
const ROWS = 40;

beforeAll(async () => {
  await requireWasmSimd();
  split = await loadSplit('digits');
  raw = rawRows(split, split.test).slice(0, ROWS * split.features);
});

const instances = () =>
  Array.from({ length: ROWS }, (_, r) => Array.from(raw.subarray(r * split.features, (r + 1) * split.features)));

/** The served probabilities of the first ROWS test rows, in class order. */
async function served(model: string) {
  const res = await call(`/v1/models/${model}/predict`, { method: 'POST', json: { instances: instances() } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const preds = res.body.predictions as {
    classIndex: number;
    confidence: number;
    review: boolean;
    probabilities: Record<string, number>;
  }[];
  return {
    version: res.body.version as number,
    preds,
    probs: preds.flatMap((p) => split.classNames.map((c) => p.probabilities[c]!)),
  };
}

/** One trial's folded network on the rows, from its record's weights in KV (not from the version's metadata). */
async function trialProbs(record: TrialRecord, x = raw, rows = ROWS): Promise<Float32Array> {
  const bytes = await new KvStore(env.KV).getBytes(record.weightsKey!);
  const p = new Predictor(foldNetwork(decodeWeights(bytes!), specOf(record.config), split.standardisation));
  try {
    return p.predictProba(x, rows);
  } finally {
    p.dispose();
  }
}

function expectCalibratedAnswers(
  answers: Awaited<ReturnType<typeof served>>,
  expected: Float32Array,
  untempered: Float32Array,
  threshold: number,
) {
  expect(maxAbsDiff(answers.probs, expected)).toBeLessThan(1e-5);
  // The temperature changes what is served: some confidence moves visibly.
  expect(maxAbsDiff(answers.probs, untempered)).toBeGreaterThan(1e-3);
  answers.preds.forEach((p, r) => {
    const row = expected.subarray(r * split.classes, (r + 1) * split.classes);
    expect(Math.abs(p.confidence - Math.max(...row))).toBeLessThan(1e-5);
    expect(p.review).toBe(p.confidence < threshold);
  });
}

describe('ensemble selection after a study, promoted through the guard and served', () => {
  it('promotes the ensemble as a version whose members are listed, and serves their average, temperature-scaled', async () => {
    const model = 'ens-digits';
    // Small, short trials: individually weak, so averaging several helps on validation.
    const id = await startStudy(model, {
      trials: 8,
      parallelism: 2,
      seed: 11,
      budget: { epochs: 2, maxSeconds: 60 },
      space: { depth: 1, width: 16, batchSize: 64 },
    });
    const view = await waitForStudy(id, 150_000);
    const ens = view.promotion.ensemble;
    expect(view.promotion.promoted, JSON.stringify(view.promotion)).toBe(true);
    expect(ens.chosen, ens.reason).toBe(true);
    expect(ens.members.length).toBeGreaterThan(1);
    expect(ens.valAccuracy).toBeGreaterThan(ens.bestSingle.valAccuracy);
    expect(ens.bestSingle.trial).toBe(view.best.trial);
    expect(view.promotion.candidate.trial).toBe(view.best.trial);

    const meta = await call(`/v1/models/${model}`);
    expect(meta.status).toBe(200);
    const records = new Map(
      (await studyStub(env.STUDIES, id).records()).map((r): [number, TrialRecord] => [r.trial, r]),
    );
    const byTrial = (xs: { trial: number; weight: number }[]) =>
      [...xs].sort((a, b) => a.trial - b.trial).map((m) => [m.trial, m.weight]);
    expect(byTrial(meta.body.members)).toEqual(byTrial(ens.members));
    for (const m of meta.body.members) {
      expect(records.get(m.trial)!.status).toBe('complete');
      expect(m.hyperparameters).toEqual(records.get(m.trial)!.config);
    }
    expect(meta.body.metrics.validationAccuracy).toBe(ens.valAccuracy);
    const { temperature } = meta.body.calibration;
    expect(temperature).not.toBe(1);
    expect(meta.body.calibration.eceAfter).toBeLessThanOrEqual(meta.body.calibration.eceBefore);

    // Expected: the members' folded networks averaged by their weights, then the temperature.
    const total = ens.members.reduce((a: number, m: { weight: number }) => a + m.weight, 0);
    const mix = new Float32Array(ROWS * split.classes);
    for (const m of ens.members as { trial: number; weight: number }[]) {
      const p = await trialProbs(records.get(m.trial)!);
      for (let i = 0; i < mix.length; i++) mix[i]! += (m.weight / total) * p[i]!;
    }
    const answers = await served(model);
    expect(answers.version).toBe(view.promotion.version);
    expectCalibratedAnswers(answers, applyTemperature(mix, split.classes, temperature), mix, meta.body.threshold);
    // The best trial alone answers differently: the ensemble is really what is served.
    expect(maxAbsDiff(mix, await trialProbs(records.get(view.best.trial)!))).toBeGreaterThan(1e-3);

    // /evaluation scores the served ensemble: it reproduces the test accuracy recorded at promotion.
    const evaluation = await call(`/v1/models/${model}/evaluation`);
    expect(evaluation.status).toBe(200);
    expect(evaluation.body.accuracy).toBe(meta.body.metrics.testAccuracy);
  });

  it('a single-network version is calibrated too: confidence and review come from the scaled probabilities', async () => {
    const model = 'calib-single';
    const id = await startStudy(model, { trials: 1, seed: 4, budget: { epochs: 3, maxSeconds: 60 } });
    const view = await waitForStudy(id);
    expect(view.promotion.promoted).toBe(true);
    expect(view.promotion.ensemble).toBeUndefined();
    const meta = await call(`/v1/models/${model}`);
    expect(meta.body.members).toBeNull();
    const { temperature, test } = meta.body.calibration;
    expect(temperature).not.toBe(1);
    expect(test.before).toHaveLength(15);
    expect(test.after.reduce((a: number, b: { rows: number }) => a + b.rows, 0)).toBe(split.test.rows);
    const record = (await studyStub(env.STUDIES, id).records())[0]!;
    // T was fitted on validation: it lowers the validation NLL (what it minimises; ECE is only reported).
    const val = await trialProbs(record, rawRows(split, split.validation), split.validation.rows);
    const nll = (t: number) => temperedNll(val, split.validation.y, split.classes, t);
    expect(nll(temperature)).toBeLessThan(nll(1));
    for (const t of [temperature * 0.9, temperature * 1.1]) expect(nll(temperature)).toBeLessThanOrEqual(nll(t));
    const plain = await trialProbs(record);
    expectCalibratedAnswers(
      await served(model),
      applyTemperature(plain, split.classes, temperature),
      plain,
      meta.body.threshold,
    );
  });
});

describe('EnsemblePredictor (one heap path for every member)', () => {
  it('equals the weighted average of its members run alone (float32-exact), tempered, across chunks; frees every heap byte', () => {
    const nets = [
      { depth: 2, width: 64, activation: 'relu' as const },
      { depth: 1, width: 200, activation: 'tanh' as const },
      { depth: 0, width: 16, activation: 'elu' as const },
    ].map((c, i) =>
      foldNetwork(
        initialWeights(resolveConfig(c), split.features, split.classes, 50 + i),
        specOf(resolveConfig(c)),
        split.standardisation,
      ),
    );
    const weights = [3, 1, 2];
    const rows = split.test.rows; // more than one 256-row chunk
    const x = rawRows(split, split.test).slice(0, rows * split.features);
    // The backend's first kernel calls allocate state it keeps for good (64 bytes): not ours to count, so
    // they happen before the tracker starts (this test can run first, e.g. alone with -t).
    const warm = new Predictor(nets[0]!);
    warm.predictProba(x.subarray(0, split.features), 1);
    warm.dispose();
    const heap = trackWasmHeap();
    try {
      const alone = nets.map((net) => {
        const p = new Predictor(net);
        try {
          return p.predictProba(x, rows);
        } finally {
          p.dispose();
        }
      });
      const expected = applyTemperature(
        mixMembers(
          alone.map((p, i) => ({ run: () => p.slice(), weight: weights[i]! })),
          split.classes,
          1,
        ),
        split.classes,
        0.7,
      );
      const ensemble = new EnsemblePredictor(
        nets.map((net, i) => ({ net, weight: weights[i]! })),
        0.7,
      );
      expect(heap.outstanding()).toBeGreaterThan(0);
      const got = ensemble.predictProba(x, rows);
      expect(maxAbsDiff(got, expected)).toBe(0);
      // Each row is independent of the batch it came in.
      expect(
        maxAbsDiff(
          ensemble.predictProba(x.subarray(260 * split.features, 261 * split.features), 1),
          got.subarray(260 * split.classes, 261 * split.classes),
        ),
      ).toBe(0);
      ensemble.dispose();
      expect(heap.outstanding()).toBe(0);
    } finally {
      heap.stop();
    }
  });
});

describe('serving cache with ensembles', () => {
  const config = resolveConfig({ depth: 2, width: 64 });
  /** An ensemble version of `n` untrained members (weights in a memory store), calibrated. */
  async function version(store: MemoryStore, v: number, n: number): Promise<ModelVersion> {
    const members = [];
    for (let i = 0; i < n; i++) {
      const key = `w/${v}/${i}`;
      await store.put(key, encodeWeights(initialWeights(config, split.features, split.classes, 100 * v + i)));
      members.push({ trial: i, weight: i + 1, config, weightsKey: key, validationAccuracy: 0.5 });
    }
    return {
      ...{ model: 'cache-ens', version: v, createdAt: '', studyId: 's', trial: 0, dataset: 'digits' },
      ...{ datasetVersion: 'embedded', splitSeed: 42, config, featureNames: split.featureNames },
      ...{ classNames: split.classNames, standardisation: split.standardisation, threshold: 0.5 },
      metrics: { validationAccuracy: 0.5, validationLoss: 1, testAccuracy: 0.5 },
      weightsKey: members[0]!.weightsKey,
      members,
      calibration: {
        temperature: 1.7,
        eceBefore: 0,
        eceAfter: 0,
        test: { eceBefore: 0, eceAfter: 0, before: [], after: [] },
      },
    };
  }

  it('loads all members, evicts by memory as well as count, and frees every wasm-heap byte it took', async () => {
    const store = new MemoryStore();
    const metas = [await version(store, 1, 5), await version(store, 2, 5), await version(store, 3, 3)];
    const heap = trackWasmHeap();
    try {
      // A budget that holds one 5-member ensemble, not two.
      const probe = new ServingCache();
      const deps = { models: env.MODELS, store, blobs: null as never };
      const first = await probe.load(deps, metas[0]!);
      const oneEnsemble = first.predictor.heapBytes;
      first.release();
      const third = await probe.load(deps, metas[2]!);
      const threeMembers = third.predictor.heapBytes;
      third.release();
      expect(threeMembers).toBeLessThan(oneEnsemble);
      expect(heap.outstanding()).toBeGreaterThanOrEqual(oneEnsemble / 2);

      const cache = new ServingCache(Date.now, oneEnsemble * 2);
      for (const meta of metas) {
        const lease = await cache.load(deps, meta);
        const p = lease.predictor.predictProba(raw.subarray(0, 3 * split.features), 3);
        for (let r = 0; r < 3; r++) {
          const row = p.subarray(r * split.classes, (r + 1) * split.classes);
          expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        }
        lease.release();
      }
      // Two 5-member ensembles fit the budget; v3's 3 more members do not, so the least recently used (v1) went.
      expect(cache.loadedSummary()).toEqual({ models: 2, bytes: oneEnsemble + threeMembers });
      (await cache.load(deps, metas[0]!)).release();
      expect(cache.loadedSummary()).toEqual({ models: 2, bytes: oneEnsemble + threeMembers });

      // What one single-network version really takes on the heap (the tracker sees our _malloc calls).
      const meter = new ServingCache();
      const singleMeta = async (v: number) => ({
        ...(await version(store, v, 1)),
        members: undefined,
        calibration: undefined,
      });
      const before = heap.outstanding();
      (await meter.load(deps, await singleMeta(9))).release();
      const single = heap.outstanding() - before;
      expect(single).toBeGreaterThan(0);
      // Evict every ensemble by loading single versions past MAX_LOADED: each evicted one frees every byte,
      // so what remains on the heap is exactly the single versions still held.
      for (const c of [probe, cache]) for (let v = 10; v < 19; v++) (await c.load(deps, await singleMeta(v))).release();
      await new Promise((r) => setTimeout(r, 0));
      const held = [probe, cache, meter].reduce((a, c) => a + c.loadedSummary().models, 0);
      expect(heap.outstanding()).toBe(held * single);
    } finally {
      heap.stop();
    }
  });

  it('a version with one unreadable member is not served (no partial ensemble), and nothing leaks', async () => {
    const store = new MemoryStore();
    const meta = await version(store, 1, 3);
    await store.put(meta.members![2]!.weightsKey, new Uint8Array([1, 2, 3]));
    const heap = trackWasmHeap();
    try {
      const cache = new ServingCache();
      await expect(cache.load({ models: env.MODELS, store, blobs: null as never }, meta)).rejects.toThrow();
      expect(heap.outstanding()).toBe(0);
    } finally {
      heap.stop();
    }
  });

  it('the registry keeps the members on the version (what GET /v1/models/:name lists)', async () => {
    const current = (await registryStub(env.MODELS, 'ens-digits').current())!;
    expect(current.members!.length).toBeGreaterThan(1);
    for (const m of current.members!) expect(m.weightsKey).toMatch(/./);
  });
});
