/**
 * Tabular classification data: the in-memory form, a seeded stratified split, and the feature
 * standardisation that travels with every model.
 */
import {
  DEFAULT_MISSING_MARKERS,
  encodeTable,
  fitPreprocessing,
  slotNames,
  standardisedSlots,
  type ColumnSchema,
  type DroppedColumn,
  type Preprocessing,
  type RawTable,
} from './preprocess';
import { Rng } from './random';

export interface Dataset {
  name: string;
  featureNames: string[];
  classNames: string[];
  /** Row-major, rows x features. */
  x: Float32Array;
  /** Class index per row. */
  y: Int32Array;
  rows: number;
  features: number;
}

/** One part of a split: row-major features and class indices. */
export interface Part {
  x: Float32Array;
  y: Int32Array;
  rows: number;
}

export interface Standardisation {
  mean: number[];
  /** Standard deviation on the training split; 1 for a constant feature so it maps to 0. */
  std: number[];
}

/**
 * A table as uploaded and stored: its kept input columns (typed, markers resolved), the schema they are
 * read with, the columns dropped (with why), and the labels as class indices.
 */
export interface TableDataset {
  name: string;
  table: RawTable;
  schema: ColumnSchema[];
  dropped: DroppedColumn[];
  /** The label column's name (as uploaded). */
  label: string;
  classNames: string[];
  y: Int32Array;
  rows: number;
  missingMarkers: string[];
}

export interface Split {
  /** Names of the model's inputs: the features, or for a table the encoded slots ("island=Dream"). */
  featureNames: string[];
  classNames: string[];
  features: number;
  classes: number;
  train: Part;
  validation: Part;
  test: Part;
  standardisation: Standardisation;
  seed: number;
  /**
   * A table's preprocessing, fitted on its training rows (the model's inputs are its encoded slots), and
   * its test rows as uploaded, which another version's preprocessing reads (the promotion guard).
   */
  table?: { preprocessing: Preprocessing; test: RawTable };
}

export interface SplitFractions {
  train: number;
  validation: number;
  test: number;
}

export const DEFAULT_FRACTIONS: SplitFractions = { train: 0.7, validation: 0.15, test: 0.15 };

function take(data: Dataset, rows: number[]): Part {
  const x = new Float32Array(rows.length * data.features);
  const y = new Int32Array(rows.length);
  rows.forEach((row, i) => {
    x.set(data.x.subarray(row * data.features, (row + 1) * data.features), i * data.features);
    y[i] = data.y[row]!;
  });
  return { x, y, rows: rows.length };
}

/**
 * The accuracy of always answering the most frequent class of `y` (ties: the lowest index): the bar a
 * model must clear to have learnt anything from the features.
 */
export function majorityBaseline(y: Int32Array, classes: number): { accuracy: number; classIndex: number } {
  const counts = new Array<number>(classes).fill(0);
  for (const c of y) counts[c]! += 1;
  let best = 0;
  for (let k = 1; k < classes; k++) if (counts[k]! > counts[best]!) best = k;
  return { accuracy: y.length ? counts[best]! / y.length : 0, classIndex: best };
}

/** A class needs this many rows so that training, validation and test each get at least one. */
export const MIN_CLASS_ROWS = 3;

/**
 * Per class, shuffles its rows with the seed and deals them out by the fractions, so every part keeps
 * the class proportions. A class with at least MIN_CLASS_ROWS rows has at least one row in each part
 * (rounding alone would leave a 3-row class out of validation and test). Rows within a part are then
 * shuffled so classes interleave.
 */
export function stratifiedSplit(
  data: Pick<Dataset, 'classNames' | 'rows' | 'y'>,
  seed: number,
  fractions = DEFAULT_FRACTIONS,
): { train: number[]; validation: number[]; test: number[] } {
  const rng = new Rng(seed);
  const byClass: number[][] = data.classNames.map(() => []);
  for (let i = 0; i < data.rows; i++) byClass[data.y[i]!]!.push(i);
  const out = { train: [] as number[], validation: [] as number[], test: [] as number[] };
  const total = fractions.train + fractions.validation + fractions.test;
  for (const rows of byClass) {
    rng.shuffle(rows);
    const atLeastOne = rows.length >= MIN_CLASS_ROWS ? 1 : 0;
    const nVal = Math.max(atLeastOne, Math.round((rows.length * fractions.validation) / total));
    const nTest = Math.max(atLeastOne, Math.round((rows.length * fractions.test) / total));
    out.validation.push(...rows.slice(0, nVal));
    out.test.push(...rows.slice(nVal, nVal + nTest));
    out.train.push(...rows.slice(nVal + nTest));
  }
  rng.shuffle(out.train);
  rng.shuffle(out.validation);
  rng.shuffle(out.test);
  return out;
}

/** Mean and standard deviation per feature of a row-major block. */
export function computeStandardisation(x: Float32Array, rows: number, features: number): Standardisation {
  const mean = new Float64Array(features);
  const sq = new Float64Array(features);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < features; f++) mean[f]! += x[r * features + f]!;
  }
  for (let f = 0; f < features; f++) mean[f]! /= rows;
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < features; f++) {
      const d = x[r * features + f]! - mean[f]!;
      sq[f]! += d * d;
    }
  }
  const std = Array.from(sq, (s) => {
    const sd = Math.sqrt(s / rows);
    return sd > 1e-12 ? sd : 1;
  });
  return { mean: Array.from(mean), std };
}

/** Returns a standardised copy: (x - mean) / std per feature. */
export function standardise(x: Float32Array, s: Standardisation): Float32Array {
  const features = s.mean.length;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const f = i % features;
    out[i] = (x[i]! - s.mean[f]!) / s.std[f]!;
  }
  return out;
}

function standardiseInPlace(x: Float32Array, s: Standardisation): Float32Array {
  const features = s.mean.length;
  for (let i = 0; i < x.length; i++) {
    const f = i % features;
    x[i] = (x[i]! - s.mean[f]!) / s.std[f]!;
  }
  return x;
}

/**
 * Splits a dataset and standardises every part with statistics of the training part alone, so no
 * information from validation or test rows leaks into training.
 */
export function prepareSplit(data: Dataset, seed: number, fractions = DEFAULT_FRACTIONS): Split {
  const idx = stratifiedSplit(data, seed, fractions);
  const rawTrain = take(data, idx.train);
  const standardisation = computeStandardisation(rawTrain.x, rawTrain.rows, data.features);
  // The parts are fresh copies: standardised in place, so the table is never held three times.
  const part = (p: Part): Part => ({ ...p, x: standardiseInPlace(p.x, standardisation) });
  return {
    featureNames: data.featureNames,
    classNames: data.classNames,
    features: data.features,
    classes: data.classNames.length,
    train: part(rawTrain),
    validation: part(take(data, idx.validation)),
    test: part(take(data, idx.test)),
    standardisation,
    seed,
  };
}

/** What a request names a model's inputs by: a table's input columns, else the split's features. */
export function inputNames(split: Split): string[] {
  return split.table ? split.table.preprocessing.columns.map((c) => c.column) : split.featureNames;
}

/** The rows `rows` of a table, in that order (the test rows the guard reads a champion's inputs from). */
export function tableRows(t: RawTable, rows: readonly number[]): RawTable {
  return {
    rows: rows.length,
    columns: t.columns.map((c) =>
      c.kind === 'number'
        ? { ...c, values: Float32Array.from(rows, (r) => c.values[r]!) }
        : { ...c, codes: Uint16Array.from(rows, (r) => c.codes[r]!) },
    ),
  };
}

export class TableEncodingError extends Error {
  override name = 'TableEncodingError';
}

/**
 * The split of a table: the preprocessing is fitted on the training rows alone (medians, categories),
 * every part is encoded with it, and the numeric slots are standardised with the training rows'
 * statistics; one-hot and missing-indicator slots are left as 0/1 (mean 0, scale 1 in the folded layer).
 */
export function prepareTableSplit(data: TableDataset, seed: number, fractions = DEFAULT_FRACTIONS): Split {
  const idx = stratifiedSplit(data, seed, fractions);
  const preprocessing = fitPreprocessing(data.table, data.schema, idx.train, { missingMarkers: data.missingMarkers });
  const encode = (rows: number[]): Part => {
    const e = encodeTable(preprocessing, data.table, rows);
    if (!e.ok) throw new TableEncodingError(e.reason);
    return { x: e.x, y: Int32Array.from(rows, (r) => data.y[r]!), rows: rows.length };
  };
  const train = encode(idx.train);
  const width = preprocessing.width;
  const standardisation = computeStandardisation(train.x, train.rows, width);
  standardisedSlots(preprocessing).forEach((scaled, k) => {
    if (scaled) return;
    standardisation.mean[k] = 0;
    standardisation.std[k] = 1;
  });
  const part = (p: Part): Part => ({ ...p, x: standardiseInPlace(p.x, standardisation) });
  return {
    featureNames: slotNames(preprocessing),
    classNames: data.classNames,
    features: width,
    classes: data.classNames.length,
    train: part(train),
    validation: part(encode(idx.validation)),
    test: part(encode(idx.test)),
    standardisation,
    seed,
    table: { preprocessing, test: tableRows(data.table, idx.test) },
  };
}

/** A numeric dataset as a table (every column numeric, nothing dropped): one stored form for both. */
export function tableOfDataset(d: Dataset, label = 'label'): TableDataset {
  const columns = d.featureNames.map((name, f) => ({
    name,
    kind: 'number' as const,
    values: Float32Array.from({ length: d.rows }, (_, r) => d.x[r * d.features + f]!),
  }));
  return {
    name: d.name,
    table: { rows: d.rows, columns },
    schema: d.featureNames.map((name) => ({ name, type: 'numeric' as const, source: 'declared' as const })),
    dropped: [],
    label,
    classNames: d.classNames,
    y: d.y,
    rows: d.rows,
    missingMarkers: [...DEFAULT_MISSING_MARKERS],
  };
}
