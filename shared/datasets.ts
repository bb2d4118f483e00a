/**
 * Where training data comes from: the embedded digits set, and user datasets stored per immutable
 * version in R2, with the dataset catalog (a Durable Object) naming the current version.
 *
 * Why not KV: a dataset is large, and a reader must see the version the writer just committed. KV
 * caches reads per location for up to 60 s, so a trial elsewhere could read an old meta record whose
 * chunks were already deleted. R2 reads are strongly consistent, and the catalog is a single object:
 * trials read the version their study pinned (an immutable R2 object), never "whatever is current".
 *
 * A version is written completely (data, then its description) before the catalog names it, so a
 * failed or rejected upload leaves no visible dataset behind, and a reader sees the old version or
 * the new one. Superseded versions are deleted by the catalog once no study or session pins them.
 */
import {
  prepareSplit,
  prepareTableSplit,
  stratifiedSplit,
  tableOfDataset,
  type Dataset,
  type Split,
  type TableDataset,
} from '../models/dataset';
import { loadEmbeddedDigits } from '../models/digits-embedded';
import { fitPreprocessing, MISSING_CODE, type TableColumn } from '../models/preprocess';
import { DATASET_LIMITS, DatasetError } from '../models/tabular';
import type { BlobStore } from './storage/blob-store';
import type { DatasetHeadline } from './storage/headlines';
import { datasetObjects } from './storage/keys';
import { TABLE_FORMAT, type DatasetMeta, type DatasetSettings, type RowProvenance } from './dataset-meta';

/** Seed of the train/validation/test split of every dataset; part of a model's provenance. */
export const SPLIT_SEED = 42;
export const EMBEDDED_DATASETS = ['digits'] as const;
export const EMBEDDED_VERSION = 'embedded';
/**
 * Cached splits per isolate, by their size: the newest is always kept, older ones only while the total
 * stays under this. Three splits at the dataset cap would not fit the 128 MB isolate beside a training
 * run (BENCHMARKS.md, "Memory at the dataset caps").
 */
export const SPLIT_CACHE_BYTES = 24 * 1024 * 1024;

export {
  TABLE_FORMAT,
  type DatasetMeta,
  type DatasetSchedule,
  type DatasetSettings,
  type RowProvenance,
} from './dataset-meta';

/** A version pinned by a holder ("study:<id>", "session:<id>"). */
export interface PinnedBy {
  name: string;
  version: string;
}

export interface VersionHolder extends PinnedBy {
  holder: string;
}

/** What the dataset catalog (functions/durable/dataset-catalog.ts) answers; see there for the rules. */
export interface DatasetCatalogApi {
  get(name: string): Promise<DatasetMeta | null>;
  list(): Promise<DatasetMeta[]>;
  commit(meta: DatasetMeta, keepSettings: boolean): Promise<DatasetMeta>;
  /** commit(meta, true) only while `basedOn` is still the current version (null otherwise: nothing changes). */
  commitOnto(meta: DatasetMeta, basedOn: string): Promise<DatasetMeta | null>;
  updateSettings(name: string, settings: DatasetSettings): Promise<DatasetMeta | null>;
  remove(name: string): Promise<DatasetMeta | null>;
  pin(name: string, holder: string): Promise<DatasetMeta | null>;
  release(holder: string): Promise<void>;
  holders(name: string): Promise<VersionHolder[]>;
  versions(name: string): Promise<string[]>;
}

/** Where a stored dataset's versions live and who names the current one. */
export interface DatasetDeps {
  blobs: BlobStore;
  catalog: DatasetCatalogApi;
}

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

export const DEFAULT_SETTINGS: DatasetSettings = { schedule: null, space: {} };

type Stored = Pick<DatasetMeta, 'version' | 'embedded' | 'createdAt' | 'settings'>;

function describe(d: Dataset, stored: Stored): DatasetMeta {
  const s = stratifiedSplit(d, SPLIT_SEED);
  return {
    name: d.name,
    featureNames: d.featureNames,
    classNames: d.classNames,
    classCounts: classCounts(d),
    rows: d.rows,
    features: d.features,
    splitSeed: SPLIT_SEED,
    splitCounts: { train: s.train.length, validation: s.validation.length, test: s.test.length },
    ...stored,
  };
}

/** A table's description; its input width is that of the preprocessing fitted on its training rows. */
function describeTable(d: TableDataset, stored: Stored): DatasetMeta {
  const s = stratifiedSplit(d, SPLIT_SEED);
  const pre = fitPreprocessing(d.table, d.schema, s.train, { missingMarkers: d.missingMarkers });
  return {
    name: d.name,
    featureNames: d.schema.map((c) => c.name),
    classNames: d.classNames,
    classCounts: classCounts(d),
    rows: d.rows,
    features: d.schema.length,
    splitSeed: SPLIT_SEED,
    splitCounts: { train: s.train.length, validation: s.validation.length, test: s.test.length },
    ...stored,
    format: TABLE_FORMAT,
    label: d.label,
    columns: d.schema,
    dropped: d.dropped,
    missingMarkers: d.missingMarkers,
    inputWidth: pre.width,
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
      settings: DEFAULT_SETTINGS,
    }),
  );
  return embeddedMeta;
}

export async function getDatasetMeta(catalog: DatasetCatalogApi, name: string): Promise<DatasetMeta | null> {
  if (isEmbeddedDataset(name)) return digitsMeta();
  return catalog.get(name);
}

export function headlineOf(m: DatasetMeta): DatasetHeadline {
  return {
    version: m.version,
    rows: m.rows,
    features: m.features,
    classes: m.classNames.length,
    createdAt: m.createdAt,
    scheduled: m.settings.schedule !== null,
  };
}

/** Every dataset (embedded and stored) by name, from the catalog: a new upload is listed at once. */
export async function listDatasets(catalog: DatasetCatalogApi): Promise<{ name: string; headline: DatasetHeadline }[]> {
  const all = [await digitsMeta(), ...(await catalog.list())];
  return all.map((m) => ({ name: m.name, headline: headlineOf(m) })).sort((a, b) => a.name.localeCompare(b.name));
}

/** A fresh, sortable version id. */
function newVersion(): string {
  return `${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Bytes of one stored column: float32 numbers, or 16-bit codes padded to a multiple of 4. */
function columnBytes(kind: TableColumn['kind'], rows: number): number {
  return kind === 'number' ? rows * 4 : Math.ceil((rows * 2) / 4) * 4;
}

/** What the data object does not hold: each column's name, kind and (text) dictionary. */
interface TableLayout {
  columns: { name: string; kind: TableColumn['kind']; dictionary?: string[] }[];
}

/**
 * The stored form of a table version (`table-1`): data.bin holds the columns one after the other (numbers
 * as float32 with NaN for missing; text as uint16 codes, 0xffff missing, padded to 4 bytes), then the
 * labels as int32 class indices; table.json holds each column's name, kind and text dictionary. Column
 * order is the schema's.
 */
export function encodeTableData(d: TableDataset): { data: Uint8Array; layout: TableLayout } {
  const rows = d.rows;
  const total = d.table.columns.reduce((n, c) => n + columnBytes(c.kind, rows), 0) + rows * 4;
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of d.table.columns) {
    const src = c.kind === 'number' ? c.values : c.codes;
    bytes.set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength), at);
    at += columnBytes(c.kind, rows);
  }
  bytes.set(new Uint8Array(d.y.buffer, d.y.byteOffset, rows * 4), at);
  return {
    data: bytes,
    layout: {
      columns: d.table.columns.map((c) =>
        c.kind === 'number' ? { name: c.name, kind: c.kind } : { name: c.name, kind: c.kind, dictionary: c.dictionary },
      ),
    },
  };
}

/** The inverse of encodeTableData: views on the one buffer R2 returned (no copy of the table). */
export function decodeTableData(bytes: ArrayBuffer, layout: TableLayout, meta: DatasetMeta): TableDataset {
  const rows = meta.rows;
  let at = 0;
  const columns: TableColumn[] = layout.columns.map((c) => {
    const col: TableColumn =
      c.kind === 'number'
        ? { name: c.name, kind: 'number', values: new Float32Array(bytes, at, rows) }
        : { name: c.name, kind: 'text', codes: new Uint16Array(bytes, at, rows), dictionary: c.dictionary ?? [] };
    at += columnBytes(c.kind, rows);
    return col;
  });
  if (bytes.byteLength !== at + rows * 4) throw new Error(`dataset ${meta.name}@${meta.version}: data is truncated`);
  const y = new Int32Array(bytes, at, rows);
  for (const c of columns)
    if (c.kind === 'text' && c.codes.some((k) => k !== MISSING_CODE && k >= c.dictionary.length))
      throw new Error(`dataset ${meta.name}@${meta.version}: column "${c.name}" has a code outside its dictionary`);
  return {
    name: meta.name,
    table: { rows, columns },
    schema: meta.columns!,
    dropped: meta.dropped ?? [],
    label: meta.label ?? 'label',
    classNames: meta.classNames,
    y,
    rows,
    missingMarkers: meta.missingMarkers ?? [],
  };
}

/**
 * Stores a validated table as a new version: its objects first, then the catalog names it (the commit
 * point). `settings` replaces the dataset's settings; without it they carry over. A numeric Dataset is
 * stored as a table of numeric columns. A table whose one-hot encoding would exceed the cell cap is
 * refused (DatasetError) before anything is written.
 */
export async function saveDataset(
  deps: DatasetDeps,
  input: Dataset | TableDataset,
  settings?: DatasetSettings,
): Promise<DatasetMeta> {
  const d = 'table' in input ? input : tableOfDataset(input);
  const version = newVersion();
  const meta = describeTable(d, {
    version,
    embedded: false,
    createdAt: new Date().toISOString(),
    settings: settings ?? DEFAULT_SETTINGS,
  });
  if (meta.rows * meta.inputWidth! > DATASET_LIMITS.maxCells)
    throw new DatasetError(
      `once categories are one-hot the model would have ${meta.inputWidth} inputs x ${meta.rows} rows, over ${DATASET_LIMITS.maxCells.toLocaleString('en-US')} cells; declare high-cardinality columns "drop" (?types=col:drop) or upload fewer rows`,
    );
  try {
    const { data, layout } = encodeTableData(d);
    await deps.blobs.put(datasetObjects.data(d.name, version), data);
    await deps.blobs.put(datasetObjects.table(d.name, version), JSON.stringify(layout));
    await deps.blobs.put(datasetObjects.meta(d.name, version), JSON.stringify(meta));
    return await deps.catalog.commit(meta, settings === undefined);
  } catch (err) {
    await deps.blobs.deletePrefix(datasetObjects.versionPrefix(d.name, version)).catch(() => {});
    throw err;
  }
}

/** The description of one stored version, straight from R2 (immutable, so never stale). */
export async function readVersionMeta(blobs: BlobStore, name: string, version: string): Promise<DatasetMeta | null> {
  const bytes = await blobs.get(datasetObjects.meta(name, version));
  return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as DatasetMeta) : null;
}

/**
 * One stored version: a table (`table-1`), or a version stored before tables as row-major float32
 * features then int32 labels (read as it always was).
 */
export async function readDataset(
  blobs: BlobStore,
  name: string,
  version: string,
): Promise<({ kind: 'table'; data: TableDataset } | { kind: 'numeric'; data: Dataset }) & { meta: DatasetMeta }> {
  const meta = await readVersionMeta(blobs, name, version);
  if (!meta) throw new UnknownDatasetError(`dataset "${name}" has no version ${version} (deleted or never stored)`);
  const bytes = await blobs.get(datasetObjects.data(name, version));
  if (!bytes) throw new Error(`dataset ${name}@${version}: data is missing`);
  if (meta.format === TABLE_FORMAT) {
    const layout = await blobs.get(datasetObjects.table(name, version));
    if (!layout) throw new Error(`dataset ${name}@${version}: its table layout is missing`);
    const parsed = JSON.parse(new TextDecoder().decode(layout)) as TableLayout;
    return { kind: 'table', meta, data: decodeTableData(bytes, parsed, meta) };
  }
  const expected = meta.rows * (meta.features * 4 + 4);
  if (bytes.byteLength !== expected) throw new Error(`dataset ${name}@${version}: data is missing or truncated`);
  return {
    kind: 'numeric',
    meta,
    data: {
      name,
      featureNames: meta.featureNames,
      classNames: meta.classNames,
      x: new Float32Array(bytes, 0, meta.rows * meta.features),
      y: new Int32Array(bytes, meta.rows * meta.features * 4, meta.rows),
      rows: meta.rows,
      features: meta.features,
    },
  };
}

// Splits are immutable per (name, version); cached per isolate within SPLIT_CACHE_BYTES.
const splits = new Map<string, { split: Promise<Split>; bytes: number }>();

function splitBytes(s: Split): number {
  return [s.train, s.validation, s.test].reduce((n, p) => n + p.x.byteLength + p.y.byteLength, 0);
}

function evictSplits(): void {
  let total = [...splits.values()].reduce((n, e) => n + e.bytes, 0);
  for (const [key, entry] of splits) {
    if (total <= SPLIT_CACHE_BYTES || splits.size === 1) break;
    splits.delete(key);
    total -= entry.bytes;
  }
}

/**
 * The standardised split of a dataset version. Embedded datasets resolve without storage; a stored
 * dataset is read at exactly `version` (the one its study or session pinned) from R2.
 */
export async function loadSplit(name: string, blobs?: BlobStore, version?: string): Promise<Split> {
  const embedded = isEmbeddedDataset(name);
  if (!embedded && (!blobs || !version)) throw new UnknownDatasetError(`unknown dataset "${name}"`);
  const key = `${name}@${embedded ? EMBEDDED_VERSION : version}`;
  const cached = splits.get(key);
  if (cached) {
    // Most recently used last, so eviction takes the least recently used.
    splits.delete(key);
    splits.set(key, cached);
    return cached.split;
  }
  const entry = {
    split: embedded
      ? loadEmbeddedDigits().then((d) => prepareSplit(d, SPLIT_SEED))
      : readDataset(blobs!, name, version!).then((d) =>
          d.kind === 'table' ? prepareTableSplit(d.data, d.meta.splitSeed) : prepareSplit(d.data, d.meta.splitSeed),
        ),
    bytes: 0,
  };
  splits.set(key, entry);
  entry.split.then(
    (s) => {
      entry.bytes = splitBytes(s);
      evictSplits();
    },
    () => splits.delete(key),
  );
  return entry.split;
}

/**
 * Pins the current version of `name` for `holder` and returns it: the holder trains on that version
 * however often the dataset is replaced, and the version stays until the holder releases it.
 */
export async function pinDataset(
  catalog: DatasetCatalogApi,
  name: string,
  holder: string,
): Promise<DatasetMeta | null> {
  if (isEmbeddedDataset(name)) return digitsMeta();
  return catalog.pin(name, holder);
}

export const studyHolder = (studyId: string) => `study:${studyId}`;
export const sessionHolder = (sessionId: string) => `session:${sessionId}`;

/** A cell of an appended row, as a prediction request carried it. */
export type AppendCell = number | string | boolean | null;

/** One reviewed row to append: its cells by column name, its label (a class name) and where it came from. */
export interface AppendRow {
  values: Record<string, AppendCell>;
  label: string;
  reviewId: string;
  labelledAt: string;
}

export interface AppendOutcome {
  meta: DatasetMeta;
  appended: string[];
  /** Rows that cannot be appended to this dataset (a column or the class is not in it), by review id. */
  refused: { reviewId: string; reason: string }[];
}

/** The provenance of every appended row of a version (empty for an uploaded one). */
export async function readProvenance(blobs: BlobStore, name: string, version: string): Promise<RowProvenance[]> {
  const bytes = await blobs.get(datasetObjects.provenance(name, version));
  return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as RowProvenance[]) : [];
}

/** Why a row's cell cannot go into a column, or null when it can. */
function cellProblem(column: TableColumn, cell: AppendCell | undefined): string | null {
  if (cell === undefined) return `no value for column "${column.name}"`;
  if (cell === null) return null;
  if (column.kind === 'number' && (typeof cell !== 'number' || !Number.isFinite(cell)))
    return `column "${column.name}" holds numbers, got ${JSON.stringify(cell).slice(0, 40)}`;
  return null;
}

/**
 * A new version of a stored dataset: the current version's rows followed by `rows`, with the provenance
 * of each appended row (cumulative over earlier appends) beside it. Cells go into the table as an
 * upload's would: numbers into numeric columns, text (a new value extends the column's dictionary),
 * null as missing. The catalog names the version only if the one it was built on is still current, so a
 * concurrent upload or append is never overwritten; null then, and the caller tries again.
 */
export async function appendRows(deps: DatasetDeps, name: string, rows: AppendRow[]): Promise<AppendOutcome | null> {
  const current = await deps.catalog.get(name);
  if (!current) throw new UnknownDatasetError(`unknown dataset "${name}"`);
  const stored = await readDataset(deps.blobs, name, current.version);
  const base = stored.kind === 'table' ? stored.data : tableOfDataset(stored.data);
  const classIndex = new Map(base.classNames.map((n, i) => [n, i]));
  const refused: AppendOutcome['refused'] = [];
  const accepted: AppendRow[] = [];
  for (const r of rows) {
    const problem = base.table.columns.map((c) => cellProblem(c, r.values[c.name])).find((p) => p !== null);
    if (problem) refused.push({ reviewId: r.reviewId, reason: problem });
    else if (!classIndex.has(r.label))
      refused.push({ reviewId: r.reviewId, reason: `class "${r.label}" is not in dataset "${name}"` });
    else accepted.push(r);
  }
  if (accepted.length === 0) return { meta: current, appended: [], refused };
  const total = base.rows + accepted.length;
  const columns: TableColumn[] = base.table.columns.map((c) => {
    if (c.kind === 'number') {
      const values = new Float32Array(total);
      values.set(c.values);
      accepted.forEach(
        (r, i) => (values[base.rows + i] = r.values[c.name] === null ? NaN : (r.values[c.name] as number)),
      );
      return { name: c.name, kind: 'number', values };
    }
    const dictionary = [...c.dictionary];
    const codeOf = new Map(dictionary.map((v, k) => [v, k]));
    const codes = new Uint16Array(total);
    codes.set(c.codes);
    accepted.forEach((r, i) => {
      const cell = r.values[c.name];
      if (cell === null) {
        codes[base.rows + i] = MISSING_CODE;
        return;
      }
      const text = String(cell);
      let code = codeOf.get(text);
      if (code === undefined) {
        code = dictionary.push(text) - 1;
        codeOf.set(text, code);
      }
      codes[base.rows + i] = code;
    });
    if (dictionary.length >= MISSING_CODE)
      throw new DatasetError(`column "${c.name}" would hold too many distinct values`);
    return { name: c.name, kind: 'text', codes, dictionary };
  });
  const y = new Int32Array(total);
  y.set(base.y);
  accepted.forEach((r, i) => (y[base.rows + i] = classIndex.get(r.label)!));
  const table: TableDataset = { ...base, table: { rows: total, columns }, y, rows: total };
  const provenance = [
    ...(await readProvenance(deps.blobs, name, current.version)),
    ...accepted.map((r, i) => ({
      row: base.rows + i,
      source: 'review' as const,
      reviewId: r.reviewId,
      labelledAt: r.labelledAt,
    })),
  ];
  const version = newVersion();
  const appendedAt = new Date().toISOString();
  const meta: DatasetMeta = {
    ...describeTable(table, { version, embedded: false, createdAt: appendedAt, settings: current.settings }),
    provenance: { basedOn: current.version, reviewRows: provenance.length, appendedAt },
  };
  try {
    const { data, layout } = encodeTableData(table);
    await deps.blobs.put(datasetObjects.data(name, version), data);
    await deps.blobs.put(datasetObjects.table(name, version), JSON.stringify(layout));
    await deps.blobs.put(datasetObjects.provenance(name, version), JSON.stringify(provenance));
    await deps.blobs.put(datasetObjects.meta(name, version), JSON.stringify(meta));
    const committed = await deps.catalog.commitOnto(meta, current.version);
    if (!committed) {
      await deps.blobs.deletePrefix(datasetObjects.versionPrefix(name, version)).catch(() => {});
      return null;
    }
    return { meta: committed, appended: accepted.map((r) => r.reviewId), refused };
  } catch (err) {
    await deps.blobs.deletePrefix(datasetObjects.versionPrefix(name, version)).catch(() => {});
    throw err;
  }
}
