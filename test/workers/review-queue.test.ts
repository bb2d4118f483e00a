import { env } from 'cloudflare:workers';
import {
  createExecutionContext,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { monitorStub } from '../../functions/durable/stubs';
import { AUDIT_RATE, AUDIT_SEED } from '../../functions/services/live';
import { loadEmbeddedDigits } from '../../models/digits-embedded';
import type { Dataset, TableDataset } from '../../models/dataset';
import { loadSplit, readDataset, readProvenance } from '../../shared/datasets';
import { inAuditSample, inputKey } from '../../shared/monitor/sampling';
import { R2BlobStore } from '../../shared/storage/blob-store';
import { createApp } from '../../functions/api/app';
import { callIn, createKey, envIn, ROOT_TOKEN } from './access-helpers';

/**
 * The review queue in workerd: flagged predictions and the audit sample are queued off the response
 * path, once per request; reviewers label them (the `review` scope); labelled rows become a new dataset
 * version with provenance, and the next study trains on it.
 */
const MODEL = 'rq-digits';
let digits: Dataset;
let v1Rows = 0;

/** Columns the upload kept (constant pixels are dropped): rows are sent as objects by column name. */
let kept: string[] = [];
const row = (i: number): Record<string, number> =>
  Object.fromEntries(kept.map((n) => [n, digits.x[i * 64 + digits.featureNames.indexOf(n)]!]));
const cells = (i: number) => Array.from(digits.x.subarray(i * 64, (i + 1) * 64));
const truth = (i: number) => digits.classNames[digits.y[i]!]!;

async function root(path: string, init: { method?: string; json?: unknown; body?: string; type?: string } = {}) {
  const res = await callIn('open', path, {
    method: init.method ?? 'GET',
    token: ROOT_TOKEN,
    json: init.json,
    body: init.body,
    headers: init.type ? { 'content-type': init.type } : {},
  });
  expect(res.status, `${init.method ?? 'GET'} ${path}: ${JSON.stringify(res.body).slice(0, 300)}`).toBeLessThan(300);
  return res.body;
}

async function waitStudy(id: string) {
  for (let i = 0; i < 900; i++) {
    const view = await root(`/v1/studies/${id}`);
    if (view.status === 'complete') return view;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`study ${id} did not complete`);
}

async function allPending(kind?: 'flagged' | 'audit') {
  const items: any[] = [];
  let after: string | null = null;
  do {
    const page: any = await root(
      `/v1/models/${MODEL}/reviews?limit=7${kind ? `&kind=${kind}` : ''}${after ? `&after=${after}` : ''}`,
    );
    items.push(...page.reviews);
    after = page.next;
  } while (after !== null);
  return items;
}

beforeAll(async () => {
  digits = await loadEmbeddedDigits();
  // The digits table uploaded as a stored dataset, so reviewed rows can be appended to it.
  const lines = [[...digits.featureNames, 'label'].join(',')];
  for (let i = 0; i < digits.rows; i++) lines.push([...cells(i), truth(i)].join(','));
  const meta = await root(`/v1/datasets/${MODEL}`, { method: 'PUT', body: `${lines.join('\n')}\n`, type: 'text/csv' });
  v1Rows = meta.rows;
  kept = meta.featureNames;
  const study = await root('/v1/studies', {
    method: 'POST',
    json: { dataset: MODEL, model: MODEL, trials: 2, seed: 5, parallelism: 2, budget: { epochs: 3, maxSeconds: 30 } },
  });
  expect((await waitStudy(study.id)).promotion.promoted).toBe(true);
}, 240_000);

describe('review queue', () => {
  it('flagged predictions land in the queue exactly once per request, deduplicated, after the response', async () => {
    // threshold 1 flags every prediction below certainty (a float32 confidence can round to exactly 1):
    // 10 requests x 4 distinct rows.
    const pinned = await root(`/v1/models/${MODEL}/versions/1/predict`, {
      method: 'POST',
      json: { instances: Array.from({ length: 200 }, (_, i) => row(100 + i)) },
    });
    const unsure = pinned.predictions.flatMap((p: any, i: number) => (p.confidence < 1 ? [100 + i] : []));
    const sent: number[] = [];
    for (let r = 0; r < 10; r++) {
      const idx = [0, 1, 2, 3].map((k) => unsure[r * 4 + k]!);
      sent.push(...idx);
      const res = await callIn('open', `/v1/models/${MODEL}/predict`, {
        method: 'POST',
        json: { instances: idx.map(row), threshold: 1 },
      });
      expect(res.status).toBe(200);
      expect(res.body.predictions.every((p: any) => p.review)).toBe(true);
    }
    // The same row again (another request): seen twice, still one item.
    await callIn('open', `/v1/models/${MODEL}/predict`, {
      method: 'POST',
      json: { instances: [row(100)], threshold: 1 },
    });
    const flagged = await allPending('flagged');
    expect(flagged).toHaveLength(40);
    expect(new Set(flagged.map((f) => f.id)).size).toBe(40);
    expect(flagged.map((f) => inputKey(f.input)).sort()).toEqual(sent.map((i) => inputKey(row(i))).sort());
    expect(flagged.find((f) => inputKey(f.input) === inputKey(row(sent[0]!))).seen).toBe(2);
    for (const f of flagged) {
      expect(f).toMatchObject({ model: MODEL, version: 1, kind: 'flagged', status: 'pending', label: null });
      expect(Object.keys(f.predicted.probabilities)).toHaveLength(10);
      expect(Date.parse(f.createdAt)).toBeGreaterThan(0);
    }

    // A retried hand-over of the same request id adds nothing.
    const monitor = monitorStub(env.MONITORS, MODEL);
    const item = {
      kind: 'flagged' as const,
      version: 1,
      input: row(900),
      inputKey: inputKey(row(900)),
      label: '0',
      confidence: 0.3,
      probabilities: { '0': 0.3 },
    };
    expect(await monitor.log({ model: MODEL, requestId: 'req-1', items: [item], skipped: 0 })).toEqual({
      added: 1,
      duplicates: 0,
      dropped: 0,
    });
    expect(await monitor.log({ model: MODEL, requestId: 'req-1', items: [item], skipped: 0 })).toEqual({
      added: 0,
      duplicates: 0,
      dropped: 0,
    });
    const again = (await allPending('flagged')).filter((f) => inputKey(f.input) === inputKey(row(900)));
    expect(again).toHaveLength(1);
    expect(again[0].seen).toBe(1);
    expect((await root(`/v1/reviews/${again[0].id}`, { method: 'DELETE' })).status).toBe('discarded');
  });

  it("the response never waits for the queue: predict answers while the model's monitor object is held", async () => {
    // A row not sent before, below certainty (flagged at threshold 1).
    const probe = await root(`/v1/models/${MODEL}/versions/1/predict`, {
      method: 'POST',
      json: { instances: Array.from({ length: 50 }, (_, i) => row(1700 + i)) },
    });
    const i = 1700 + probe.predictions.findIndex((p: any) => p.confidence < 1);
    const key = inputKey(row(i));
    const queued = async () => (await allPending('flagged')).filter((f) => inputKey(f.input) === key);
    expect(await queued()).toHaveLength(0);

    const ctx = createExecutionContext();
    const app = createApp();
    // blockConcurrencyWhile holds every other event to the monitor object, the queue write included: a route
    // that awaited the write would never answer (and the block would time out and fail the test).
    const answered = await runInDurableObject(env.MONITORS.get(env.MONITORS.idFromName(MODEL)), (_o, state) => {
      let out: { status: number; body: any } | null = null;
      return state
        .blockConcurrencyWhile(async () => {
          const res = await app.fetch(
            new Request(`http://edge.test/v1/models/${MODEL}/predict`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ instances: [row(i)], threshold: 1 }),
            }),
            envIn('open'),
            ctx,
          );
          out = { status: res.status, body: await res.json() };
        })
        .then(() => out!);
    });
    expect(answered.status).toBe(200);
    expect(answered.body.predictions[0].review).toBe(true);
    // Released, the hand-over completes: the row is queued once.
    await waitOnExecutionContext(ctx);
    expect(await queued()).toHaveLength(1);
  });

  it('confident predictions go to the queue only through the seeded audit sample, kept apart', async () => {
    const idx = Array.from({ length: 600 }, (_, i) => 1000 + i);
    for (let i = 0; i < idx.length; i += 50) {
      const res = await callIn('open', `/v1/models/${MODEL}/predict`, {
        method: 'POST',
        json: { instances: idx.slice(i, i + 50).map(row), threshold: 0 },
      });
      expect(res.body.predictions.some((p: any) => p.review)).toBe(false);
    }
    const expected = idx
      .map((i) => inputKey(row(i)))
      .filter((k) => inAuditSample(AUDIT_SEED, AUDIT_RATE, `${MODEL}\u0000${k}`));
    expect(expected.length).toBeGreaterThan(0);
    const audit = await allPending('audit');
    expect(audit.map((a) => inputKey(a.input)).sort()).toEqual(expected.sort());
    expect(audit.every((a) => a.kind === 'audit' && a.predicted.confidence >= 0)).toBe(true);
    // Kept apart: the flagged listing has none of them.
    const flaggedKeys = new Set((await allPending('flagged')).map((f) => inputKey(f.input)));
    expect(expected.some((k) => flaggedKeys.has(k))).toBe(false);
  });

  it('reviewers label once with a class of the version; 401/403/409/422 otherwise; each action is audited', async () => {
    const [a, b, c] = await allPending('flagged');
    const reviewer = await createKey({ scopes: ['review'], name: 'rq-reviewer' });
    const reader = await createKey({ scopes: ['read', 'predict'], name: 'rq-reader' });
    const other = await createKey({ scopes: ['review'], models: ['someone-else'], name: 'rq-other' });
    const label = (id: string, token: string | null, json: unknown = { label: '3' }) =>
      callIn('keys', `/v1/reviews/${id}`, { method: 'POST', token, json });
    expect((await label(a.id, null)).status).toBe(401);
    expect((await label(a.id, reader.token)).status).toBe(403);
    expect((await label(a.id, other.token)).status).toBe(403);
    const bad = await label(a.id, reviewer.token, { label: 'eleven' });
    expect(bad.status).toBe(422);
    expect(bad.body.error.message).toContain('not a class');
    expect((await label(a.id, reviewer.token, { label: 3 })).status).toBe(422);
    expect((await label('rq-digits.nothex', reviewer.token)).status).toBe(422);
    expect((await label('rq-digits.0123456789abcdef01234567', reviewer.token)).status).toBe(404);
    const ok = await label(a.id, reviewer.token, { label: truth(sentIndex(a)) });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      id: a.id,
      status: 'labelled',
      label: truth(sentIndex(a)),
      labelledBy: reviewer.id,
    });
    expect((await label(a.id, reviewer.token)).status).toBe(409);
    // Discard: gone from the pending list, and cannot be labelled afterwards.
    expect((await callIn('keys', `/v1/reviews/${b.id}`, { method: 'DELETE', token: reviewer.token })).status).toBe(200);
    expect((await label(b.id, reviewer.token)).status).toBe(409);
    const pending = (await allPending()).map((p) => p.id);
    expect(pending).not.toContain(a.id);
    expect(pending).not.toContain(b.id);
    expect(pending).toContain(c.id);
    const audit = (await root('/v1/audit?limit=200')).entries as any[];
    expect(
      audit.find((e) => e.action === 'POST /v1/reviews/:id' && e.keyId === reviewer.id && e.status === 200),
    ).toMatchObject({
      target: `/v1/reviews/${a.id}`,
    });
    expect(audit.find((e) => e.action === 'DELETE /v1/reviews/:id' && e.keyId === reviewer.id)).toBeDefined();
  });

  it('labelling 30 makes a dataset version with 30 more rows and provenance; the next study trains on it', async () => {
    const before = await root(`/v1/datasets/${MODEL}`);
    const pending = await allPending('flagged');
    const toLabel = pending.slice(0, 30);
    const labelledIds: string[] = [];
    for (const item of toLabel) {
      const res = await root(`/v1/reviews/${item.id}`, { method: 'POST', json: { label: truth(sentIndex(item)) } });
      labelledIds.push(res.id);
    }
    // The monitor appends a few seconds after the last label (its alarm); run it now.
    const monitor = env.MONITORS.get(env.MONITORS.idFromName(MODEL));
    await runDurableObjectAlarm(monitor);
    const after = await root(`/v1/datasets/${MODEL}`);
    // The label from the previous test was appended too.
    const expectedIds = [...(await labelledBefore()), ...labelledIds];
    expect(after.version).not.toBe(before.version);
    expect(after.rows).toBe(v1Rows + expectedIds.length);
    expect(after.provenance).toMatchObject({ basedOn: before.version, reviewRows: expectedIds.length });
    const provenance = await readProvenance(new R2BlobStore(env.DATASETS), MODEL, after.version);
    expect(provenance.map((p) => p.reviewId).sort()).toEqual(expectedIds.sort());
    expect(provenance.every((p) => p.source === 'review' && p.row >= v1Rows && Date.parse(p.labelledAt) > 0)).toBe(
      true,
    );
    // The appended rows hold the reviewed inputs with their labels.
    const item = toLabel[0];
    const p = provenance.find((x) => x.reviewId === item.id)!;
    const stored = await readDataset(new R2BlobStore(env.DATASETS), MODEL, after.version);
    expect(stored.kind).toBe('table');
    const table = stored.data as TableDataset;
    expect(
      Object.fromEntries(table.table.columns.map((c) => [c.name, c.kind === 'number' ? c.values[p.row] : null])),
    ).toEqual(item.input);
    expect(after.classNames[table.y[p.row]!]).toBe(truth(sentIndex(item)));
    // Items name the version their row went into.
    const labelled = await monitorStub(env.MONITORS, MODEL).get(item.id);
    expect(labelled!.appendedTo).toBe(after.version);

    // The next study pins and trains on the appended version.
    const study = await root('/v1/studies', {
      method: 'POST',
      json: { dataset: MODEL, model: MODEL, trials: 1, seed: 9, parallelism: 1, budget: { epochs: 1, maxSeconds: 30 } },
    });
    const view = await waitStudy(study.id);
    expect(view.spec.datasetVersion).toBe(after.version);
    expect(view.spec.trigger).toEqual({ kind: 'api', detail: null });
    const split = await loadSplit(MODEL, new R2BlobStore(env.DATASETS), after.version);
    expect(split.train.rows + split.validation.rows + split.test.rows).toBe(v1Rows + expectedIds.length);
    // Quality of v1 on the reviewed labels (flagged only; the audit sample apart).
    const quality = await root(`/v1/models/${MODEL}/quality`);
    const v1 = quality.versions.find((q: any) => q.version === 1);
    const correct = toLabel.filter((i: any) => i.predicted.label === truth(sentIndex(i))).length;
    expect(v1.flagged.labelled).toBe(expectedIds.length);
    expect(v1.flagged.correct).toBeGreaterThanOrEqual(correct);
    expect(v1.audit.labelled).toBe(0);
  });
});

/** The digits row index of a queued input (the tests send rows of the embedded set). */
function sentIndex(item: { input: Record<string, number> }): number {
  const key = inputKey(item.input);
  for (let i = 0; i < digits.rows; i++) if (inputKey(row(i)) === key) return i;
  throw new Error('not a digits row');
}

async function labelledBefore(): Promise<string[]> {
  const items = await monitorStub(env.MONITORS, MODEL).labelledSince(null);
  return items.filter((i) => i.labelledBy !== 'root').map((i) => i.id);
}
