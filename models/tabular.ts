/**
 * User datasets: CSV (header row) or JSON in, a validated table out. Cells are read one row at a time
 * into typed columns (numbers as float32, text as 16-bit codes into a dictionary), so a 784-feature x
 * 5,000-row upload never exists as millions of JS strings. Missing markers are resolved here; column
 * types are inferred (or declared) and useless columns dropped with their reason (models/preprocess.ts).
 * Every rejection names the row and column.
 */
import Papa from 'papaparse';
import { MIN_CLASS_ROWS, type TableDataset } from './dataset';
import {
  ColumnBuilder,
  DEFAULT_MISSING_MARKERS,
  inferColumns,
  PreprocessError,
  type ColumnType,
  type RawTable,
} from './preprocess';

export const DATASET_LIMITS = {
  maxRows: 20_000,
  maxFeatures: 1_024,
  maxClasses: 100,
  /**
   * Feature cells (rows x features), and also rows x encoded inputs once categories are one-hot. Sized
   * by measured peak memory (BENCHMARKS.md, "Memory at the dataset caps"): an upload at 8 M cells peaked
   * near 130 MB, over the 128 MB isolate.
   */
  maxCells: 4_000_000,
  maxNameLength: 64,
} as const;

export class DatasetError extends Error {
  override name = 'DatasetError';
}

/** How an upload is read: the label column, declared column types, the missing-value markers. */
export interface UploadOptions {
  label?: string;
  types?: Record<string, ColumnType | 'drop'>;
  /** Cells that mean "missing" (an empty cell always does). Default: NA, N/A, NaN, null, ?. */
  missingMarkers?: readonly string[];
}

export const COLUMN_TYPES = ['numeric', 'categorical', 'boolean', 'drop'] as const;

/** `col:type,col:type` or a JSON object { "col": "type" } (for names with commas or colons). */
export function parseTypes(text: string): Record<string, ColumnType | 'drop'> {
  const out: Record<string, ColumnType | 'drop'> = {};
  let pairs: [string, unknown][];
  if (text.trim().startsWith('{')) {
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch {
      throw new DatasetError('types: not valid JSON');
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
      throw new DatasetError('types: expected an object { "column": "numeric" | "categorical" | "boolean" | "drop" }');
    pairs = Object.entries(obj);
  } else
    pairs = text
      .split(',')
      .filter((p) => p.trim() !== '')
      .map((p) => {
        const at = p.lastIndexOf(':');
        if (at <= 0) throw new DatasetError(`types: "${p.slice(0, 64)}" is not column:type`);
        return [p.slice(0, at).trim(), p.slice(at + 1).trim()];
      });
  for (const [name, type] of pairs) {
    if (!(COLUMN_TYPES as readonly unknown[]).includes(type))
      throw new DatasetError(
        `types: column "${name.slice(0, 64)}": ${JSON.stringify(type)?.slice(0, 40)} is not one of ${COLUMN_TYPES.join(', ')}`,
      );
    out[name] = type as ColumnType | 'drop';
  }
  return out;
}

/** The markers in effect: the empty cell plus the given ones (default: NA, N/A, NaN, null, ?). */
function markersOf(options: UploadOptions): string[] {
  const given = options.missingMarkers ?? DEFAULT_MISSING_MARKERS;
  return ['', ...given.map((m) => m.trim()).filter((m) => m !== '')].filter((m, i, a) => a.indexOf(m) === i);
}

/** Class names in a stable order: numerically when every label is an integer, else lexicographically. */
function orderClasses(labels: Set<string>): string[] {
  const all = [...labels];
  if (all.every((l) => /^-?\d+$/.test(l))) return all.sort((a, b) => Number(a) - Number(b));
  return all.sort();
}

/**
 * The validated dataset: classes from the labels (>= 2, every class >= MIN_CLASS_ROWS rows), column
 * types inferred or declared, constant / all-missing / id-like columns dropped with their reason.
 */
function finish(
  name: string,
  labelName: string,
  table: RawTable,
  rawLabels: string[],
  options: UploadOptions,
  markers: string[],
): TableDataset {
  if (rawLabels.length === 0) throw new DatasetError('the dataset has no rows');
  const counts = new Map<string, number>();
  for (const l of rawLabels) counts.set(l, (counts.get(l) ?? 0) + 1);
  const classNames = orderClasses(new Set(counts.keys()));
  if (classNames.length < 2)
    throw new DatasetError(`need at least 2 classes, found ${classNames.length} (${classNames.join(', ')})`);
  if (classNames.length > DATASET_LIMITS.maxClasses)
    throw new DatasetError(`at most ${DATASET_LIMITS.maxClasses} classes, found ${classNames.length}`);
  const scarce = classNames.find((c) => counts.get(c)! < MIN_CLASS_ROWS);
  if (scarce !== undefined) {
    const n = counts.get(scarce)!;
    throw new DatasetError(
      `class "${scarce}" has ${n} row${n === 1 ? '' : 's'}; every class needs at least ${MIN_CLASS_ROWS} (one each for training, validation and test)`,
    );
  }
  let inferred;
  try {
    inferred = inferColumns(table, options.types ?? {});
  } catch (err) {
    if (err instanceof PreprocessError) throw new DatasetError(err.message);
    throw err;
  }
  const { schema, dropped } = inferred;
  if (schema.length === 0)
    throw new DatasetError(
      `no usable feature column: every one was dropped (${dropped.map((d) => `"${d.name}": ${d.reason}`).join(', ')})`,
    );
  const keep = new Set(schema.map((c) => c.name));
  const index = new Map(classNames.map((c, i) => [c, i]));
  return {
    name,
    table: { rows: table.rows, columns: table.columns.filter((c) => keep.has(c.name)) },
    schema,
    dropped,
    label: labelName,
    classNames,
    y: Int32Array.from(rawLabels, (l) => index.get(l)!),
    rows: rawLabels.length,
    missingMarkers: markers,
  };
}

function checkColumns(names: string[], labelName: string, options: UploadOptions): void {
  if (names.length === 0) throw new DatasetError('no feature columns');
  if (names.length > DATASET_LIMITS.maxFeatures)
    throw new DatasetError(`at most ${DATASET_LIMITS.maxFeatures} features, found ${names.length}`);
  const seen = new Set<string>([labelName]);
  names.forEach((n, i) => {
    if (n === '') throw new DatasetError(`column ${i + 1} has an empty name`);
    if (seen.has(n)) throw new DatasetError(`column "${n}" appears twice`);
    seen.add(n);
  });
  for (const t of Object.keys(options.types ?? {})) {
    if (t === labelName) throw new DatasetError(`types: "${t}" is the label column`);
    if (!names.includes(t)) throw new DatasetError(`types: no column "${t.slice(0, 64)}" in the table`);
  }
}

/** Builders for the feature columns; declared categorical/boolean columns are text from the start. */
function builders(names: string[], options: UploadOptions): ColumnBuilder[] {
  return names.map((n) => {
    const want = options.types?.[n];
    return new ColumnBuilder(n, want === 'categorical' || want === 'boolean');
  });
}

function checkCells(row: number, features: number): void {
  if (row > DATASET_LIMITS.maxRows) throw new DatasetError(`at most ${DATASET_LIMITS.maxRows} rows`);
  if (row * features > DATASET_LIMITS.maxCells)
    throw new DatasetError(
      `at most ${DATASET_LIMITS.maxCells.toLocaleString('en-US')} feature cells (rows x features); row ${row} with ${features} features exceeds it`,
    );
}

/** A declared-numeric column gets a value that is no number: said at once, with the row. */
function pushCell(b: ColumnBuilder, cell: string | null, row: number, declared: ColumnType | 'drop' | undefined): void {
  b.push(cell);
  if (declared === 'numeric' && b.isText)
    throw new DatasetError(
      `row ${row}, column "${b.name}": "${(cell ?? '').slice(0, 40)}" is not a number (declared numeric)`,
    );
}

/**
 * CSV with a header row. The label is the last column unless `options.label` names another. Handles
 * quoted fields, CRLF, a UTF-8 BOM and a trailing newline. Rows are numbered from 1 after the header.
 */
export function parseCsvDataset(name: string, text: string, options: UploadOptions = {}): TableDataset {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const markers = markersOf(options);
  const missing = new Set(markers);
  let header: string[] | null = null;
  let labelAt = -1;
  let columns: ColumnBuilder[] = [];
  let declared: (ColumnType | 'drop' | undefined)[] = [];
  const labels: string[] = [];
  let row = 0;
  let failure: DatasetError | null = null;
  Papa.parse<string[]>(body, {
    skipEmptyLines: 'greedy',
    step: (result, parser) => {
      try {
        const cells = result.data;
        if (!header) {
          header = cells.map((c) => c.trim());
          labelAt = options.label === undefined ? header.length - 1 : header.indexOf(options.label);
          if (labelAt < 0)
            throw new DatasetError(
              `label column "${options.label}" is not in the header (${header.slice(0, 10).join(', ')}${header.length > 10 ? ', …' : ''})`,
            );
          if (header.length < 2)
            throw new DatasetError('the header needs at least one feature column and a label column');
          const names = header.filter((_, i) => i !== labelAt);
          checkColumns(names, header[labelAt]!, options);
          columns = builders(names, options);
          declared = names.map((n) => options.types?.[n]);
          return;
        }
        row += 1;
        checkCells(row, columns.length);
        if (cells.length !== header.length)
          throw new DatasetError(`row ${row} has ${cells.length} columns, the header has ${header.length}`);
        for (let i = 0, f = 0; i < cells.length; i++) {
          if (i === labelAt) continue;
          const t = cells[i]!.trim();
          pushCell(columns[f]!, missing.has(t) ? null : t, row, declared[f]);
          f++;
        }
        const label = cells[labelAt]!.trim();
        if (missing.has(label)) throw new DatasetError(`row ${row}, column "${header[labelAt]}": missing label`);
        labels.push(label);
      } catch (err) {
        failure = err instanceof DatasetError ? err : new DatasetError(String(err));
        parser.abort();
      }
    },
  });
  if (failure) throw failure;
  if (!header) throw new DatasetError('the CSV is empty');
  const table: RawTable = { rows: labels.length, columns: columns.map((b) => b.finish()) };
  return finish(name, (header as string[])[labelAt]!, table, labels, options, markers);
}

/** The JSON value of one cell as text; null for a missing one. */
function jsonCell(v: unknown, row: number, column: string): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new DatasetError(`row ${row}, column "${column}": ${v} is not finite`);
    return String(v);
  }
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'boolean') return String(v);
  throw new DatasetError(
    `row ${row}, column "${column}": ${JSON.stringify(v)?.slice(0, 40)} is not a number, string, boolean or null`,
  );
}

/**
 * JSON form: { "features": [names], "rows": [[number | string | boolean | null]], "labels": [string |
 * integer], "label"?: name, "schema"?: { column: type }, "missing"?: [markers] }.
 */
export function parseJsonDataset(name: string, input: unknown, options: UploadOptions = {}): TableDataset {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new DatasetError('expected an object { features, rows, labels }');
  const { features, rows, labels, label, schema, missing: markersIn, ...rest } = input as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length) throw new DatasetError(`unknown field "${extra[0]}"`);
  if (!Array.isArray(features) || !features.every((f) => typeof f === 'string'))
    throw new DatasetError('features must be an array of column names');
  if (!Array.isArray(rows)) throw new DatasetError('rows must be an array of arrays');
  if (!Array.isArray(labels)) throw new DatasetError('labels must be an array');
  if (label !== undefined && typeof label !== 'string') throw new DatasetError('label must be a column name');
  if (markersIn !== undefined && !(Array.isArray(markersIn) && markersIn.every((m) => typeof m === 'string')))
    throw new DatasetError('missing must be an array of strings');
  const opts: UploadOptions = {
    ...options,
    ...(schema !== undefined ? { types: parseTypes(JSON.stringify(schema)) } : {}),
    ...(markersIn !== undefined ? { missingMarkers: markersIn as string[] } : {}),
  };
  const labelName = (label as string | undefined) ?? options.label ?? 'label';
  const names = (features as string[]).map((f) => f.trim());
  checkColumns(names, labelName, opts);
  if (rows.length > DATASET_LIMITS.maxRows) throw new DatasetError(`at most ${DATASET_LIMITS.maxRows} rows`);
  if (labels.length !== rows.length) throw new DatasetError(`${rows.length} rows but ${labels.length} labels`);
  if (rows.length * names.length > DATASET_LIMITS.maxCells)
    throw new DatasetError(
      `at most ${DATASET_LIMITS.maxCells.toLocaleString('en-US')} feature cells (rows x features), got ${rows.length * names.length}`,
    );
  const markers = markersOf(opts);
  const missing = new Set(markers);
  const columns = builders(names, opts);
  const declared = names.map((n) => opts.types?.[n]);
  rows.forEach((r, i) => {
    if (!Array.isArray(r)) throw new DatasetError(`row ${i + 1} is not an array`);
    if (r.length !== names.length)
      throw new DatasetError(`row ${i + 1} has ${r.length} values, there are ${names.length} features`);
    r.forEach((v, j) => {
      const t = jsonCell(v, i + 1, names[j]!);
      pushCell(columns[j]!, t === null || missing.has(t) ? null : t, i + 1, declared[j]);
    });
  });
  const strLabels = labels.map((l, i) => {
    if (typeof l === 'string' && !missing.has(l.trim())) return l.trim();
    if (typeof l === 'number' && Number.isInteger(l)) return String(l);
    throw new DatasetError(`label of row ${i + 1}: ${JSON.stringify(l)?.slice(0, 40)} is not a string or an integer`);
  });
  const table: RawTable = { rows: rows.length, columns: columns.map((b) => b.finish()) };
  return finish(name, labelName, table, strLabels, opts, markers);
}
