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
  maxCells: 8_000_000,
  maxNameLength: 64,
} as const;

export class DatasetError extends Error {
  override name = 'DatasetError';
}

/** Grows a Float32Array as rows arrive. */
class FloatBuffer {
  private data = new Float32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  toArray(): Float32Array {
    return this.data.slice(0, this.length);
  }
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
  return {
    name,
    featureNames,
    classNames,
    x,
    y: Int32Array.from(rawLabels, (l) => index.get(l)!),
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
  return finish(name, featureNames, x.toArray(), labels);
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
