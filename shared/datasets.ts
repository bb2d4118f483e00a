/**
 * Where training data comes from: the embedded digits set, and user datasets stored in KV.
 *
 * A stored dataset is a set of immutable chunks (features and labels of a run of rows) plus one meta
 * record that names them. The meta record is written last, so a failed or rejected upload leaves no
 * visible dataset behind, and a reader sees the old version or the new one.
 */
import { prepareSplit, stratifiedSplit, type Dataset, type Split } from '../models/dataset';
import { loadEmbeddedDigits } from '../models/digits-embedded';
import type { Store } from './storage/store';
import { getJson, listAll, putJson } from './storage/store';

/** Seed of the train/validation/test split of every dataset; part of a model's provenance. */
export const SPLIT_SEED = 42;
export const EMBEDDED_DATASETS = ['digits'] as const;
export const EMBEDDED_VERSION = 'embedded';
/** Each chunk stays far below KV's 25 MiB value limit and bounds the memory of one read. */
const CHUNK_BYTES = 4 * 1024 * 1024;
const MAX_CACHED_SPLITS = 3;

export interface DatasetSettings {
  /** Re-tuning schedule honoured by the cron; null = not scheduled. */
  schedule: {
    everyHours: number;
    trials: number;
    budget: { epochs: number; maxSeconds: number };
    parallelism: number;
  } | null;
  /** Search-space overrides used by studies on this dataset that bring none of their own. */
  space: Record<string, unknown>;
}

export interface DatasetMeta {
  name: string;
  version: string;
  embedded: boolean;
  featureNames: string[];
  classNames: string[];
  classCounts: number[];
  rows: number;
  features: number;
  splitSeed: number;
  splitCounts: { train: number; validation: number; test: number };
  createdAt: string;
  chunks: { key: string; rows: number }[];
  settings: DatasetSettings;
}

/** Headline kept in KV list metadata so listings need no per-dataset reads. */
export interface DatasetHeadline {
  version: string;
  rows: number;
  features: number;
  classes: number;
  createdAt: string;
  scheduled: boolean;
  [key: string]: unknown;
}

const metaKey = (name: string) => `dataset/${name}`;
const META_PREFIX = 'dataset/';
const chunkKey = (name: string, version: string, i: number) =>
  `datasetchunk/${name}/${version}/${String(i).padStart(4, '0')}`;

export function isEmbeddedDataset(name: string): boolean {
  return (EMBEDDED_DATASETS as readonly string[]).includes(name);
}

export class UnknownDatasetError extends Error {
  override name = 'UnknownDatasetError';
}

function classCounts(d: Pick<Dataset, 'y' | 'classNames'>): number[] {
  const counts = new Array<number>(d.classNames.length).fill(0);
  for (const c of d.y) counts[c]! += 1;
  return counts;
}

function splitCounts(d: Dataset): DatasetMeta['splitCounts'] {
  const s = stratifiedSplit(d, SPLIT_SEED);
  return { train: s.train.length, validation: s.validation.length, test: s.test.length };
}

const DEFAULT_SETTINGS: DatasetSettings = { schedule: null, space: {} };

function describe(
  d: Dataset,
  stored: Pick<DatasetMeta, 'version' | 'embedded' | 'createdAt' | 'chunks' | 'settings'>,
): DatasetMeta {
  return {
    name: d.name,
    featureNames: d.featureNames,
    classNames: d.classNames,
    classCounts: classCounts(d),
    rows: d.rows,
    features: d.features,
    splitSeed: SPLIT_SEED,
    splitCounts: splitCounts(d),
    ...stored,
  };
}

// The embedded set never changes, so its description is computed once per isolate.
let embeddedMeta: Promise<DatasetMeta> | undefined;
function digitsMeta(): Promise<DatasetMeta> {
  embeddedMeta ??= loadEmbeddedDigits().then((d) =>
    describe(d, {
      version: EMBEDDED_VERSION,
      embedded: true,
      createdAt: '1998-07-01T00:00:00.000Z',
      chunks: [],
      settings: DEFAULT_SETTINGS,
    }),
  );
  return embeddedMeta;
}

export async function getDatasetMeta(store: Store, name: string): Promise<DatasetMeta | null> {
  if (isEmbeddedDataset(name)) return digitsMeta();
  return getJson<DatasetMeta>(store, metaKey(name));
}

export async function listDatasets(store: Store): Promise<{ name: string; headline: DatasetHeadline }[]> {
  const digits = await digitsMeta();
  const stored = await listAll<DatasetHeadline>(store, META_PREFIX);
  return [
    { name: digits.name, headline: headlineOf(digits) },
    ...stored.filter((k) => k.metadata).map((k) => ({ name: k.name.slice(META_PREFIX.length), headline: k.metadata! })),
  ].sort((a, b) => a.name.localeCompare(b.name));
}

function headlineOf(m: DatasetMeta): DatasetHeadline {
  return {
    version: m.version,
    rows: m.rows,
    features: m.features,
    classes: m.classNames.length,
    createdAt: m.createdAt,
    scheduled: m.settings.schedule !== null,
  };
}

/** Stores a validated dataset: chunks first, then the meta record (the commit point). */
export async function saveDataset(store: Store, d: Dataset, settings?: DatasetSettings): Promise<DatasetMeta> {
  const previous = await getJson<DatasetMeta>(store, metaKey(d.name));
  const version = `${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
  const rowBytes = d.features * 4 + 4;
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / rowBytes));
  const chunks: DatasetMeta['chunks'] = [];
  try {
    for (let start = 0, i = 0; start < d.rows; start += rowsPerChunk, i++) {
      const rows = Math.min(rowsPerChunk, d.rows - start);
      const bytes = new Uint8Array(rows * rowBytes);
      bytes.set(new Uint8Array(d.x.buffer, d.x.byteOffset + start * d.features * 4, rows * d.features * 4), 0);
      bytes.set(new Uint8Array(d.y.buffer, d.y.byteOffset + start * 4, rows * 4), rows * d.features * 4);
      const key = chunkKey(d.name, version, i);
      await store.put(key, bytes);
      chunks.push({ key, rows });
    }
  } catch (err) {
    await Promise.allSettled(chunks.map((c) => store.delete(c.key)));
    throw err;
  }
  const meta = describe(d, {
    version,
    embedded: false,
    createdAt: new Date().toISOString(),
    chunks,
    settings: settings ?? previous?.settings ?? DEFAULT_SETTINGS,
  });
  await putJson(store, metaKey(d.name), meta, { metadata: headlineOf(meta) });
  if (previous) await Promise.allSettled(previous.chunks.map((c) => store.delete(c.key)));
  return meta;
}

export async function updateSettings(store: Store, meta: DatasetMeta, settings: DatasetSettings): Promise<DatasetMeta> {
  const next = { ...meta, settings };
  await putJson(store, metaKey(meta.name), next, { metadata: headlineOf(next) });
  return next;
}

/** Removes the meta record first (the dataset disappears at once), then its chunks. */
export async function deleteDataset(store: Store, meta: DatasetMeta): Promise<void> {
  await store.delete(metaKey(meta.name));
  await Promise.allSettled(meta.chunks.map((c) => store.delete(c.key)));
}

async function readDataset(store: Store, meta: DatasetMeta): Promise<Dataset> {
  const x = new Float32Array(meta.rows * meta.features);
  const y = new Int32Array(meta.rows);
  let at = 0;
  for (const chunk of meta.chunks) {
    const bytes = await store.getBytes(chunk.key);
    const expected = chunk.rows * (meta.features * 4 + 4);
    if (!bytes || bytes.byteLength !== expected)
      throw new Error(`dataset ${meta.name}@${meta.version}: chunk ${chunk.key} is missing or truncated`);
    x.set(new Float32Array(bytes, 0, chunk.rows * meta.features), at * meta.features);
    y.set(new Int32Array(bytes, chunk.rows * meta.features * 4, chunk.rows), at);
    at += chunk.rows;
  }
  return {
    name: meta.name,
    featureNames: meta.featureNames,
    classNames: meta.classNames,
    x,
    y,
    rows: meta.rows,
    features: meta.features,
  };
}

// Splits are immutable per (name, version); a few stay cached per isolate (they can be tens of MB).
const splits = new Map<string, Promise<Split>>();

/**
 * The standardised split of a dataset version. Without a store only embedded datasets resolve; with
 * one, a stored dataset's current version (or the given one, as recorded by a study) is read from KV.
 */
export async function loadSplit(name: string, store?: Store, version?: string): Promise<Split> {
  let meta: DatasetMeta | null;
  if (isEmbeddedDataset(name)) meta = await digitsMeta();
  else if (!store) throw new UnknownDatasetError(`unknown dataset "${name}"`);
  else meta = await getDatasetMeta(store, name);
  if (!meta) throw new UnknownDatasetError(`unknown dataset "${name}"`);
  if (version && meta.version !== version)
    throw new UnknownDatasetError(`dataset "${name}" version ${version} was replaced by ${meta.version}`);
  const key = `${name}@${meta.version}`;
  let split = splits.get(key);
  if (!split) {
    const m = meta;
    split = (m.embedded ? loadEmbeddedDigits() : readDataset(store!, m)).then((d) => prepareSplit(d, m.splitSeed));
    split.catch(() => splits.delete(key));
    splits.set(key, split);
    while (splits.size > MAX_CACHED_SPLITS) splits.delete(splits.keys().next().value!);
  }
  return split;
}
