/**
 * User datasets: CSV (header row) or JSON in, a validated Dataset out. Rows are streamed into typed
 * arrays one at a time, so a 784-feature x 5,000-row upload never exists as millions of JS strings.
 * Every rejection names the row and column.
 */
import Papa from 'papaparse';
import { MIN_CLASS_ROWS, type Dataset } from './dataset';

export const DATASET_LIMITS = {
  maxRows: 20_000,
  maxFeatures: 1_024,
  maxClasses: 100,
  /**
   * Feature cells (rows x features). Sized by measured peak memory (BENCHMARKS.md, "Memory at the
   * dataset caps"): an upload at 8 M cells peaked near 130 MB, over the 128 MB isolate.
   */
  maxCells: 4_000_000,
  maxNameLength: 64,
} as const;

export class DatasetError extends Error {
  override name = 'DatasetError';
}

/**
 * Collects floats as rows arrive, in fixed-size blocks: no doubling (which holds up to 3x the data
 * while it copies) and no trailing slack.
 */
class FloatBuffer {
  private static readonly BLOCK = 1 << 16;
  private blocks: Float32Array[] = [];
  private block = new Float32Array(FloatBuffer.BLOCK);
  private at = 0;
  length = 0;
  push(v: number): void {
    if (this.at === FloatBuffer.BLOCK) {
      this.blocks.push(this.block);
      this.block = new Float32Array(FloatBuffer.BLOCK);
      this.at = 0;
    }
    this.block[this.at++] = v;
    this.length++;
  }
  /**
   * The values, in a buffer with `extraBytes` spare at its end (for the labels, so the stored form of
   * the table needs no further copy). Blocks are let go as they are copied.
   */
  finish(extraBytes: number): Float32Array {
    const out = new Float32Array(new ArrayBuffer(this.length * 4 + extraBytes), 0, this.length);
    let offset = 0;
    for (let i = 0; i < this.blocks.length; i++) {
      out.set(this.blocks[i]!, offset);
      offset += FloatBuffer.BLOCK;
      this.blocks[i] = EMPTY;
    }
    out.set(this.block.subarray(0, this.at), offset);
    this.blocks = [];
    this.block = EMPTY;
    return out;
  }
}
const EMPTY = new Float32Array(0);

/** Labels as class indices, placed right after the features in x's buffer when it has room for them. */
function labelArray(x: Float32Array, rows: number): Int32Array {
  const room = x.buffer.byteLength - x.byteOffset - x.byteLength;
  return room >= rows * 4 ? new Int32Array(x.buffer, x.byteOffset + x.byteLength, rows) : new Int32Array(rows);
}

/** Class names in a stable order: numerically when every label is an integer, else lexicographically. */
function orderClasses(labels: Set<string>): string[] {
  const all = [...labels];
  if (all.every((l) => /^-?\d+$/.test(l))) return all.sort((a, b) => Number(a) - Number(b));
  return all.sort();
}

function finish(name: string, featureNames: string[], x: Float32Array, rawLabels: string[]): Dataset {
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
  const index = new Map(classNames.map((c, i) => [c, i]));
  const y = labelArray(x, rawLabels.length);
  rawLabels.forEach((l, i) => (y[i] = index.get(l)!));
  return {
    name,
    featureNames,
    classNames,
    x,
    y,
    rows: rawLabels.length,
    features: featureNames.length,
  };
}

function checkFeatureNames(names: string[]): void {
  if (names.length === 0) throw new DatasetError('no feature columns');
  if (names.length > DATASET_LIMITS.maxFeatures)
    throw new DatasetError(`at most ${DATASET_LIMITS.maxFeatures} features, found ${names.length}`);
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (n === '') throw new DatasetError(`column ${i + 1} has an empty name`);
    if (seen.has(n)) throw new DatasetError(`column "${n}" appears twice`);
    seen.add(n);
  });
}

/** Numbers as a CSV writes them; stricter than Number(), which reads '' as 0 and '0x10' as 16. */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function cellValue(cell: string, row: number, column: string): number {
  const t = cell.trim();
  if (t === '') throw new DatasetError(`row ${row}, column "${column}": missing value`);
  if (!NUMBER.test(t)) throw new DatasetError(`row ${row}, column "${column}": "${t.slice(0, 40)}" is not a number`);
  const v = Number(t);
  if (!Number.isFinite(v)) throw new DatasetError(`row ${row}, column "${column}": ${t.slice(0, 40)} is not finite`);
  return v;
}

/**
 * CSV with a header row. The label is the last column unless `labelColumn` names another.
 * Handles quoted fields, CRLF, a UTF-8 BOM and a trailing newline. Rows are numbered from 1 after the header.
 */
export function parseCsvDataset(name: string, text: string, labelColumn?: string): Dataset {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let header: string[] | null = null;
  let labelAt = -1;
  let featureNames: string[] = [];
  const x = new FloatBuffer();
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
          labelAt = labelColumn === undefined ? header.length - 1 : header.indexOf(labelColumn);
          if (labelAt < 0)
            throw new DatasetError(
              `label column "${labelColumn}" is not in the header (${header.slice(0, 10).join(', ')}${header.length > 10 ? ', …' : ''})`,
            );
          if (header.length < 2)
            throw new DatasetError('the header needs at least one feature column and a label column');
          featureNames = header.filter((_, i) => i !== labelAt);
          checkFeatureNames(featureNames);
          return;
        }
        row += 1;
        if (row > DATASET_LIMITS.maxRows) throw new DatasetError(`at most ${DATASET_LIMITS.maxRows} rows`);
        if (row * featureNames.length > DATASET_LIMITS.maxCells)
          throw new DatasetError(
            `at most ${DATASET_LIMITS.maxCells.toLocaleString('en-US')} feature cells (rows x features); row ${row} with ${featureNames.length} features exceeds it`,
          );
        if (cells.length !== header.length)
          throw new DatasetError(`row ${row} has ${cells.length} columns, the header has ${header.length}`);
        for (let i = 0; i < cells.length; i++) {
          if (i === labelAt) continue;
          x.push(cellValue(cells[i]!, row, header[i]!));
        }
        const label = cells[labelAt]!.trim();
        if (label === '') throw new DatasetError(`row ${row}, column "${header[labelAt]}": missing label`);
        labels.push(label);
      } catch (err) {
        failure = err instanceof DatasetError ? err : new DatasetError(String(err));
        parser.abort();
      }
    },
  });
  if (failure) throw failure;
  if (!header) throw new DatasetError('the CSV is empty');
  return finish(name, featureNames, x.finish(labels.length * 4), labels);
}

/** JSON form: { "features": [names], "rows": [[numbers]], "labels": [string | integer] }. */
export function parseJsonDataset(name: string, input: unknown): Dataset {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new DatasetError('expected an object { features, rows, labels }');
  const { features, rows, labels, ...rest } = input as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length) throw new DatasetError(`unknown field "${extra[0]}"`);
  if (!Array.isArray(features) || !features.every((f) => typeof f === 'string'))
    throw new DatasetError('features must be an array of column names');
  if (!Array.isArray(rows)) throw new DatasetError('rows must be an array of arrays of numbers');
  if (!Array.isArray(labels)) throw new DatasetError('labels must be an array');
  const names = (features as string[]).map((f) => f.trim());
  checkFeatureNames(names);
  if (rows.length > DATASET_LIMITS.maxRows) throw new DatasetError(`at most ${DATASET_LIMITS.maxRows} rows`);
  if (labels.length !== rows.length) throw new DatasetError(`${rows.length} rows but ${labels.length} labels`);
  if (rows.length * names.length > DATASET_LIMITS.maxCells)
    throw new DatasetError(
      `at most ${DATASET_LIMITS.maxCells.toLocaleString('en-US')} feature cells (rows x features), got ${rows.length * names.length}`,
    );
  const x = new Float32Array(rows.length * names.length);
  rows.forEach((r, i) => {
    if (!Array.isArray(r)) throw new DatasetError(`row ${i + 1} is not an array`);
    if (r.length !== names.length)
      throw new DatasetError(`row ${i + 1} has ${r.length} values, there are ${names.length} features`);
    r.forEach((v, j) => {
      if (v === null || v === undefined) throw new DatasetError(`row ${i + 1}, column "${names[j]}": missing value`);
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new DatasetError(
          `row ${i + 1}, column "${names[j]}": ${JSON.stringify(v)?.slice(0, 40)} is not a finite number`,
        );
      x[i * names.length + j] = v;
    });
  });
  const strLabels = labels.map((l, i) => {
    if (typeof l === 'string' && l.trim() !== '') return l.trim();
    if (typeof l === 'number' && Number.isInteger(l)) return String(l);
    throw new DatasetError(`label of row ${i + 1}: ${JSON.stringify(l)?.slice(0, 40)} is not a string or an integer`);
  });
  return finish(name, names, x, strLabels);
}
