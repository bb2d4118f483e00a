/**
 * Real tables end to end (issue 13): a messy CSV (text categories, NA / ? / empty cells, a boolean, an id
 * column, a constant column, an all-missing column, the label in the middle, a rare class) and the raw
 * Palmer penguins table go upload -> study -> promote -> predict by object, through the preprocessing
 * stored with the model version; the answer for an object equals the full network on a row encoded by
 * hand from the published input schema.
 */
import { applyTemperature } from '../../models/calibration';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { registryStub } from '../../functions/durable/stubs';
import { POINTER_TTL_MS } from '../../functions/services/serving';
import { foldNetwork } from '../../models/fold';
import { Predictor } from '../../models/infer';
import { specOf } from '../../models/network';
import { Rng } from '../../models/random';
import { decodeWeights } from '../../models/weights-codec';
import { KvStore } from '../../shared/storage/kv-store';
import { initBackend } from '../../shared/tf/backend';
import penguinsCsv from '../fixtures/penguins.csv?raw';
import { ADMIN, call, waitForStudy } from './api-helpers';
import { maxAbsDiff, requireWasmSimd } from './fixtures';

const REGIONS = ['north', 'south', 'east', 'west'];
const REGION_EFFECT: Record<string, number> = { north: 1.2, south: -1.2, east: 0, west: 0.4 };

/**
 * Loan applications. `outcome` (the label, in the middle) is approved/declined by income, employment
 * and region, with 3% of labels flipped; the rare class `flagged` is every application through the
 * "kiosk" channel (~4%). Missing cells are written as NA, ? or left empty.
 */
function loansCsv(rows: number, seed: number): string {
  const rng = new Rng(seed);
  const lines = ['applicant_id,region,income,outcome,employed,country,channel,age,notes'];
  const missing = ['NA', '?', ''];
  for (let r = 0; r < rows; r++) {
    const region = REGIONS[Math.floor(rng.next() * 4)]!;
    const employed = rng.next() < 0.6;
    const income = 45_000 + (employed ? 15_000 : 0) + rng.normal() * 9_000;
    const u = rng.next();
    const channel = u < 0.04 ? 'kiosk' : u < 0.5 ? 'web' : u < 0.8 ? 'branch' : 'phone';
    const z = (income - 55_000) / 8_000 + (employed ? 1 : -1) + REGION_EFFECT[region]!;
    let outcome = z > 0.2 ? 'approved' : 'declined';
    if (rng.next() < 0.03) outcome = outcome === 'approved' ? 'declined' : 'approved';
    if (channel === 'kiosk') outcome = 'flagged';
    const miss = () => missing[Math.floor(rng.next() * 3)]!;
    lines.push(
      [
        `A${String(10_000 + r)}`,
        rng.next() < 0.05 ? 'NA' : region,
        rng.next() < 0.08 ? miss() : income.toFixed(0),
        outcome,
        rng.next() < 0.03 ? '' : employed ? 'yes' : 'no',
        'NZ',
        channel,
        rng.next() < 0.1 ? '?' : String(20 + Math.floor(rng.next() * 45)),
        rng.next() < 0.5 ? 'NA' : '',
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

async function upload(name: string, body: string, query = '') {
  return call(`/v1/datasets/${name}${query}`, {
    method: 'PUT',
    headers: { ...ADMIN, 'content-type': 'text/csv' },
    body,
  });
}

async function study(json: Record<string, unknown>) {
  const res = await call('/v1/studies', { method: 'POST', admin: true, json });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return waitForStudy(res.body.id, 240_000);
}

type SchemaEntry =
  | { column: string; type: 'categorical'; categories: string[]; other: boolean; missingCategory: boolean }
  | { column: string; type: 'numeric' | 'boolean'; imputation: number; missingIndicator: boolean };

/**
 * A row encoded by hand from the published input schema (not through models/preprocess.ts): one-hot per
 * kept category, then other, then missing; numbers (booleans as 0/1) with the median for a missing one
 * and a 0/1 indicator.
 */
function encodeByHand(schema: SchemaEntry[], row: Record<string, string | number | boolean | null>): number[] {
  const out: number[] = [];
  for (const c of schema) {
    const v = row[c.column] ?? null;
    if (c.type === 'categorical') {
      const slots = new Array<number>(c.categories.length + (c.other ? 1 : 0) + (c.missingCategory ? 1 : 0)).fill(0);
      if (v === null) {
        if (c.missingCategory) slots[slots.length - 1] = 1;
      } else {
        const k = c.categories.indexOf(String(v));
        if (k >= 0) slots[k] = 1;
        else if (c.other) slots[c.categories.length] = 1;
      }
      out.push(...slots);
    } else {
      const value = v === null ? c.imputation : c.type === 'boolean' ? (v === true || v === 'yes' ? 1 : 0) : Number(v);
      out.push(value);
      if (c.missingIndicator) out.push(v === null ? 1 : 0);
    }
  }
  return out;
}

/**
 * The served version's full folded network(s) (not the gathered first layer) on dense rows: an ensemble's
 * members averaged by weight, then the version's temperature (issue 14), as serving answers.
 */
async function denseProbabilities(model: string, rows: number[][]): Promise<Float32Array> {
  await initBackend();
  const meta = (await registryStub(env.MODELS, model).current())!;
  const members = meta.members ?? [{ config: meta.config, weightsKey: meta.weightsKey, weight: 1 }];
  const total = members.reduce((a, m) => a + m.weight, 0);
  const mix = new Float32Array(rows.length * meta.classNames.length);
  for (const m of members) {
    const bytes = await new KvStore(env.KV).getBytes(m.weightsKey);
    const predictor = new Predictor(foldNetwork(decodeWeights(bytes!), specOf(m.config), meta.standardisation));
    try {
      const p = predictor.predictProba(Float32Array.from(rows.flat()), rows.length);
      for (let i = 0; i < mix.length; i++) mix[i]! += (m.weight / total) * p[i]!;
    } finally {
      predictor.dispose();
    }
  }
  return applyTemperature(mix, meta.classNames.length, meta.calibration?.temperature ?? 1);
}

const majority = (counts: number[]) => Math.max(...counts) / counts.reduce((a, b) => a + b, 0);

describe('a messy table end to end', () => {
  it('upload reports types and drops; the study trains on the encoded table; predict reads objects', async () => {
    await requireWasmSimd();
    const up = await upload('loans', loansCsv(700, 5), '?label=outcome');
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    expect(up.body).toMatchObject({
      format: 'table-1',
      label: 'outcome',
      classNames: ['approved', 'declined', 'flagged'],
      featureNames: ['region', 'income', 'employed', 'channel', 'age'],
      dropped: [
        { name: 'applicant_id', reason: 'id-like' },
        { name: 'country', reason: 'constant' },
        { name: 'notes', reason: 'all missing' },
      ],
    });
    expect(up.body.columns.map((c: { name: string; type: string }) => `${c.name}:${c.type}`)).toEqual([
      'region:categorical',
      'income:numeric',
      'employed:boolean',
      'channel:categorical',
      'age:numeric',
    ]);
    // region 4 + missing, income + indicator, employed + indicator, channel 4, age + indicator.
    expect(up.body.inputWidth).toBe(5 + 2 + 2 + 4 + 2);
    const rare = up.body.classCounts[2];
    expect(rare).toBeGreaterThanOrEqual(3);
    expect(rare / up.body.rows).toBeLessThan(0.08);
    expect((await call('/v1/datasets/loans')).body.dropped).toEqual(up.body.dropped);

    const view = await study({
      dataset: 'loans',
      trials: 2,
      seed: 11,
      budget: { epochs: 30, maxSeconds: 60 },
      space: {
        depth: 1,
        width: 32,
        optimizer: 'adam',
        learningRate: 0.01,
        batchSize: 32,
        batchNorm: false,
        dropout: 0,
        classWeights: { type: 'categorical', choices: ['none', 'balanced'] },
      },
    });
    // The width prior saw the encoded width, not the 5 raw columns.
    expect(view.spec.data.features).toBe(up.body.inputWidth);
    expect(view.promotion.promoted, JSON.stringify(view.promotion)).toBe(true);
    const baseline = majority(up.body.classCounts);
    expect(view.promotion.candidate.testAccuracy).toBeGreaterThanOrEqual(0.85);
    expect(view.promotion.candidate.testAccuracy).toBeGreaterThan(baseline + 0.25);

    await new Promise((r) => setTimeout(r, POINTER_TTL_MS + 100));
    const meta = await call('/v1/models/loans');
    expect(meta.status).toBe(200);
    // Class-balanced figures beside accuracy: the rare class has its own recall.
    const metrics = meta.body.metrics;
    expect(metrics.testRecall).toHaveLength(3);
    expect(metrics.testRecall[2]).toBeGreaterThan(0.5);
    expect(metrics.testBalancedAccuracy).toBeGreaterThan(0.7);
    expect(metrics.testMacroF1).toBeGreaterThan(0.7);
    // /evaluation rebuilds the test rows through the same preprocessing: its accuracy is the recorded one.
    const evaluation = await call('/v1/models/loans/evaluation');
    expect(evaluation.status, JSON.stringify(evaluation.body)).toBe(200);
    expect(evaluation.body.accuracy).toBe(meta.body.metrics.testAccuracy);
    const schema = meta.body.inputSchema as SchemaEntry[];
    expect(schema.map((c) => c.column)).toEqual(['region', 'income', 'employed', 'channel', 'age']);
    const region = schema[0] as Extract<SchemaEntry, { type: 'categorical' }>;
    expect([...region.categories].sort()).toEqual(REGIONS.slice().sort());
    expect(region.missingCategory).toBe(true);
    const income = schema[1] as Extract<SchemaEntry, { imputation: number }>;
    expect(income).toMatchObject({ type: 'numeric', missingIndicator: true });
    expect(income.imputation).toBeGreaterThan(40_000);

    // An unseen category, a null, a number as a string, a marker, a boolean as true/false.
    const rows: Record<string, string | number | boolean | null>[] = [
      { region: 'north', income: 90_000, employed: 'yes', channel: 'web', age: 40 },
      { region: 'south', income: 30_000, employed: 'no', channel: 'branch', age: 33 },
      { region: 'Atlantis', income: null, employed: true, channel: 'kiosk', age: null },
      { region: null, income: '61000', employed: false, channel: 'phone', age: '?' },
    ];
    const pred = await call('/v1/models/loans/predict', { method: 'POST', json: { instances: rows } });
    expect(pred.status, JSON.stringify(pred.body)).toBe(200);
    const labels = pred.body.predictions.map((p: { label: string }) => p.label);
    expect(labels.slice(0, 3)).toEqual(['approved', 'declined', 'flagged']);

    // The same rows encoded by hand through the full (dense) network: equal within 1e-6.
    const normalised = rows.map((r) => ({
      ...r,
      income: typeof r.income === 'string' ? Number(r.income) : (r.income ?? null),
      age: r.age === '?' ? null : (r.age ?? null),
    }));
    const dense = await denseProbabilities(
      'loans',
      normalised.map((r) => encodeByHand(schema, r)),
    );
    const served = pred.body.predictions.flatMap((p: { probabilities: Record<string, number> }) =>
      ['approved', 'declined', 'flagged'].map((k) => p.probabilities[k]!),
    );
    expect(maxAbsDiff(served, dense)).toBeLessThan(1e-6);

    // Arrays in the schema's column order read the same.
    const byArray = await call('/v1/models/loans/predict', {
      method: 'POST',
      json: { instances: [['north', 90_000, 'yes', 'web', 40]] },
    });
    expect(byArray.status, JSON.stringify(byArray.body)).toBe(200);
    expect(byArray.body.predictions[0].probabilities).toEqual(pred.body.predictions[0].probabilities);

    // A value its column cannot read names the instance and the column; so does an unknown column.
    const bad = await call('/v1/models/loans/predict', {
      method: 'POST',
      json: { instances: [rows[0], { ...rows[1], income: 'lots' }] },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.message).toMatch(/instances\[1\]\.income: "lots" is not a number/);
    const unknown = await call('/v1/models/loans/predict', {
      method: 'POST',
      json: { instances: [{ ...rows[0], colour: 'red' }] },
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.message).toMatch(/instances\[0\]\.colour: unknown column/);

    // A second study: the guard scores the champion through its stored preprocessing on the same rows.
    const again = await study({
      dataset: 'loans',
      trials: 1,
      seed: 12,
      budget: { epochs: 5, maxSeconds: 60 },
      space: { depth: 0, optimizer: 'adam', learningRate: 0.01, batchSize: 32 },
    });
    expect(again.promotion.comparison, JSON.stringify(again.promotion)).toMatchObject({
      comparable: true,
      championVersion: 1,
      rows: up.body.splitCounts.test,
    });
    expect(again.promotion.comparison.championAccuracy).toBeCloseTo(view.promotion.candidate.testAccuracy, 10);
  });
});

describe('the raw Palmer penguins table', () => {
  it('uploads as it is (label first, NA cells, text), trains, promotes and predicts by object', async () => {
    const up = await upload('penguins', penguinsCsv, '?label=species');
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    expect(up.body).toMatchObject({
      rows: 344,
      classNames: ['Adelie', 'Chinstrap', 'Gentoo'],
      featureNames: ['island', 'bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g', 'sex', 'year'],
      dropped: [],
    });
    const view = await study({
      dataset: 'penguins',
      trials: 2,
      seed: 3,
      budget: { epochs: 40, maxSeconds: 60 },
      space: { depth: 1, width: 32, optimizer: 'adam', learningRate: 0.01, batchSize: 16, batchNorm: false },
    });
    expect(view.promotion.promoted, JSON.stringify(view.promotion)).toBe(true);
    expect(view.promotion.candidate.testAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(view.promotion.candidate.testAccuracy).toBeGreaterThan(majority(up.body.classCounts) + 0.4);
    await new Promise((r) => setTimeout(r, POINTER_TTL_MS + 100));
    const pred = await call('/v1/models/penguins/predict', {
      method: 'POST',
      json: {
        instances: [
          // Rows of the table as they are (a Gentoo and a Chinstrap), and one with its measurements missing.
          {
            island: 'Biscoe',
            bill_length_mm: 46.1,
            bill_depth_mm: 13.2,
            flipper_length_mm: 211,
            body_mass_g: 4500,
            sex: 'female',
            year: 2007,
          },
          {
            island: 'Dream',
            bill_length_mm: 46.5,
            bill_depth_mm: 17.9,
            flipper_length_mm: 192,
            body_mass_g: 3500,
            sex: 'female',
            year: 2007,
          },
          {
            island: 'Torgersen',
            bill_length_mm: 'NA',
            bill_depth_mm: null,
            flipper_length_mm: null,
            body_mass_g: null,
            sex: null,
            year: 2007,
          },
        ],
      },
    });
    expect(pred.status, JSON.stringify(pred.body)).toBe(200);
    expect(pred.body.predictions.map((p: { label: string }) => p.label)).toEqual(['Gentoo', 'Chinstrap', 'Adelie']);
  });
});
