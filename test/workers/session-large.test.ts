import { env } from 'cloudflare:workers';
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { registryStub } from '../../functions/durable/stubs';
import type { TrainingSession } from '../../functions/durable/training-session';
import { resolveConfig } from '../../models/config';
import { Rng } from '../../models/random';
import { sessionFloats, trainSlice, type SessionState } from '../../models/session-trainer';
import { encodeWeights } from '../../models/weights-codec';
import { loadSplit } from '../../shared/datasets';
import { R2BlobStore } from '../../shared/storage/blob-store';
import { call } from './api-helpers';
import { requireWasmSimd } from './fixtures';

/** Durable Object storage (SQLite-backed) takes at most 2 MB per key and value. */
const DO_VALUE_LIMIT = 2_000_000;
const FEATURES = 784;
const CLASSES = 3;
const ROWS = 150;
const CONFIG = {
  depth: 3,
  width: 1024,
  optimizer: 'adam',
  batchNorm: true,
  learningRate: 0.001,
  batchSize: 64,
  epochs: 2,
} as const;

const objectOf = (id: string) => env.SESSIONS.get(env.SESSIONS.idFromName(id));

/** Three classes, each lighting up its own band of the 784 inputs, plus noise: learnable in one epoch. */
function syntheticRows(): { features: string[]; rows: number[][]; labels: string[] } {
  const rng = new Rng(784);
  const rows: number[][] = [];
  const labels: string[] = [];
  for (let r = 0; r < ROWS; r++) {
    const c = r % CLASSES;
    const band = Math.floor(FEATURES / CLASSES);
    rows.push(
      Array.from({ length: FEATURES }, (_, f) => {
        const signal = Math.floor(f / band) === c ? 1 : 0;
        return Math.round((signal + 0.5 * rng.normal()) * 1000) / 1000;
      }),
    );
    labels.push(`class-${c}`);
  }
  return { features: Array.from({ length: FEATURES }, (_, f) => `px${f}`), rows, labels };
}

/** Every stored key and value of the object, sized as stored (typed arrays by bytes, the rest as JSON). */
async function storedSizes(id: string): Promise<{ key: string; bytes: number }[]> {
  return runInDurableObject(objectOf(id), async (_instance, state) => {
    const out: { key: string; bytes: number }[] = [];
    for (const [key, value] of await state.storage.list()) {
      const bytes = ArrayBuffer.isView(value)
        ? value.byteLength
        : new TextEncoder().encode(JSON.stringify(value)).length;
      out.push({ key, bytes: bytes + key.length });
    }
    return out;
  });
}

/** The session state as the object reads it back from storage. */
function storedState(id: string): Promise<SessionState> {
  return runInDurableObject(objectOf(id), async (instance: TrainingSession) =>
    (instance as unknown as { loadState(): SessionState }).loadState(),
  );
}

/** Bit-for-bit equality of two large arrays (vitest's deep equality takes minutes on millions of floats). */
function sameBits(a: ArrayBufferView, b: ArrayBufferView): boolean {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Array lengths of a state's weights and moments: the shapes compared before the bits. */
function floatsOf(s: SessionState): number[] {
  return [encodeWeights(s.weights).length, ...s.optimizer.slots.map((a) => a.length)];
}

async function slice(id: string): Promise<any> {
  expect(await runDurableObjectAlarm(objectOf(id))).toBe(true);
  return (await call(`/v1/sessions/${id}`)).body;
}

describe('a large session (784 features, width 1024, depth 3) under the 2 MB Durable Object value limit', () => {
  it('persists in chunks under 2 MB, resumes mid-epoch after evictions exactly where it stopped, and promotes', async () => {
    await requireWasmSimd();
    const upload = await call('/v1/datasets/synth784', { method: 'PUT', admin: true, json: syntheticRows() });
    expect(upload.status, JSON.stringify(upload.body)).toBeLessThan(300);
    const parameters = sessionFloats(resolveConfig(CONFIG), FEATURES, CLASSES);
    expect(parameters).toBeGreaterThan(2_900_000);

    // targetMs 1: every slice trains exactly one mini-batch (at least one always runs), so slices end mid-epoch.
    const started = await call('/v1/sessions', {
      method: 'POST',
      admin: true,
      json: {
        dataset: 'synth784',
        model: 'panda-large',
        config: CONFIG,
        seed: 11,
        slice: { epochs: 1, targetMs: 1, intervalMs: 3_600_000 },
      },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const id = started.body.id as string;

    const first = await slice(id);
    expect(first).toMatchObject({ status: 'running', epoch: 0, rowsDone: 64, failure: null });
    expect(first.pace).toMatchObject({ source: 'io-boundary', last: { batches: 1 } });
    expect(first.pace.last.ms).toBeGreaterThan(0);

    // Stored: the weights (BN moving statistics included) and both Adam moments (one float per trainable
    // parameter each), every value under 2 MB.
    const trainable = parameters - 2 * CONFIG.depth * CONFIG.width;
    const sizes = await storedSizes(id);
    const largest = Math.max(...sizes.map((s) => s.bytes));
    const total = sizes.reduce((n, s) => n + s.bytes, 0);
    console.log(
      JSON.stringify({
        parameters,
        values: sizes.length,
        largestValue: largest,
        storedBytes: total,
        slice1: first.pace,
      }),
    );
    expect(largest).toBeLessThan(DO_VALUE_LIMIT);
    expect(total).toBeGreaterThan(4 * (parameters + 2 * trainable));

    // Evicted mid-epoch: the next slice continues from storage exactly as an uninterrupted one would.
    const before = await storedState(id);
    expect(before.cursor).toMatchObject({ rowsDone: 64 });
    expect(before.optimizer.step).toBe(1);
    const split = await loadSplit('synth784', new R2BlobStore(env.DATASETS), started.body.datasetVersion);
    const expected = trainSlice(structuredClone(before), split, { batches: 1 }).state;
    await evictDurableObject(objectOf(id));
    const second = await slice(id);
    expect(second).toMatchObject({ status: 'running', epoch: 1, rowsDone: 0 });
    expect(second.curve).toHaveLength(1);
    const after = await storedState(id);
    expect(after.optimizer.step).toBe(2);
    expect(floatsOf(after)).toEqual(floatsOf(expected));
    expect(sameBits(encodeWeights(after.weights), encodeWeights(expected.weights))).toBe(true);
    after.optimizer.slots.forEach((slot, i) => expect(sameBits(slot, expected.optimizer.slots[i]!)).toBe(true));

    // The remaining batches, with an eviction before each: 105 training rows are 2 batches per epoch.
    const views = [];
    for (let i = 0; i < 2; i++) {
      await evictDurableObject(objectOf(id));
      views.push(await slice(id));
    }
    expect(views.map((v) => [v.epoch, v.rowsDone])).toEqual([
      [1, 64],
      [2, 0],
    ]);
    const done = views.at(-1);
    expect(done.status).toBe('complete');
    expect(done.curve.map((r: { epoch: number }) => r.epoch)).toEqual([1, 2]);
    expect(await runDurableObjectAlarm(objectOf(id))).toBe(false);
    expect(Math.max(...(await storedSizes(id)).map((s) => s.bytes))).toBeLessThan(DO_VALUE_LIMIT);

    const promoted = await call(`/v1/sessions/${id}/promote`, { method: 'POST', admin: true, json: {} });
    expect(promoted.status, JSON.stringify(promoted.body)).toBe(200);
    expect(promoted.body).toMatchObject({ promoted: true, version: 1 });
    const champion = (await registryStub(env.MODELS, 'panda-large').current())!;
    expect(champion).toMatchObject({ studyId: id, trial: 2, dataset: 'synth784' });
    expect(champion.metrics.testAccuracy).toBeGreaterThan(0.9);
    // Served from the promoted weights: the first row is of class 0.
    const served = await call('/v1/models/panda-large/predict', {
      method: 'POST',
      json: { instances: [syntheticRows().rows[0]] },
    });
    expect(served.status, JSON.stringify(served.body)).toBe(200);
    console.log(JSON.stringify(served.body).slice(0, 300));
  });
});
