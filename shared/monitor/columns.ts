/**
 * Drift sketches per input column: the bins a column's values fall into, and the training rows' counts
 * per bin (the expected distribution PSI compares served counts with).
 *
 *   numeric     cut at the training values' deciles (psi.ts); a table's numeric column has one more bin
 *               for missing values, so "more missing than in training" is drift too.
 *   categorical one bin per training category (the most frequent MAX_CATEGORY_BINS), then (other): a
 *               category seen in training without its own bin, (missing) and (unseen): a category no
 *               training row had. Unseen values are what a one-hot model reads as nothing (or `other`),
 *               so a flood of them is the shift most worth seeing.
 *   boolean     false, true, (missing), (unseen).
 *
 * A served value is read the way the model reads it (models/preprocess.ts): the version's missing
 * markers, a string trimmed, a category looked up as written and then in its canonical form ("1.50" is
 * the category "1.5"). Empty bins on either side are floored in psi(), so PSI stays finite.
 */
import {
  canonicalText,
  float32Text,
  MISSING_CODE,
  readBoolean,
  readNumber,
  type InputColumn,
  type RawTable,
  type TableColumn,
} from '../../models/preprocess';
import { histogram, quantileEdges, binOf } from './psi';

export type ColumnKind = 'numeric' | 'categorical' | 'boolean';

/** Categories with their own bin; the rest of a long tail shares (other). */
export const MAX_CATEGORY_BINS = 64;
/** Tail categories remembered (to tell "rare in training" from "unseen"); beyond it the tail counts as unseen. */
export const MAX_TAIL_CATEGORIES = 4096;
export const OTHER_BIN = '(other)';
export const MISSING_BIN = '(missing)';
export const UNSEEN_BIN = '(unseen)';

export interface ColumnSketch {
  feature: string;
  kind: ColumnKind;
  /** numeric: inner cut points (edges.length + 1 value bins); empty for categories. */
  edges: number[];
  /** numeric: whether a missing bin follows the value bins (table columns). */
  missingBin: boolean;
  /** categorical/boolean: categories with their own bin, in bin order; (other), (missing), (unseen) follow. */
  categories: string[];
  /** Training categories without their own bin (they count as (other)). */
  tail: string[];
  /** Training rows per bin. */
  counts: number[];
}

export function binCount(s: Pick<ColumnSketch, 'kind' | 'edges' | 'missingBin' | 'categories'>): number {
  return s.kind === 'numeric' ? s.edges.length + 1 + (s.missingBin ? 1 : 0) : s.categories.length + 3;
}

/** A human name per bin: "<= 3.5", "(3.5, 7]", "> 7", "(missing)"; categories by name. */
export function binLabels(s: ColumnSketch): string[] {
  if (s.kind !== 'numeric') return [...s.categories, OTHER_BIN, MISSING_BIN, UNSEEN_BIN];
  const e = s.edges.map((v) => float32Text(v));
  const values =
    e.length === 0 ? ['all'] : [`<= ${e[0]}`, ...e.slice(1).map((v, i) => `(${e[i]}, ${v}]`), `> ${e[e.length - 1]}`];
  return s.missingBin ? [...values, MISSING_BIN] : values;
}

/** A plain numeric feature (no missing values possible): decile bins of the training values. */
export function numericSketch(feature: string, values: ArrayLike<number>, missingBin = false): ColumnSketch {
  const present = Array.from(values).filter((v) => !Number.isNaN(v));
  const edges = quantileEdges(present);
  const counts = histogram(edges, present);
  if (missingBin) counts.push(values.length - present.length);
  return { feature, kind: 'numeric', edges, missingBin, categories: [], tail: [], counts };
}

/**
 * Category bins from training texts (null = missing): the most frequent first (ties by name, so the
 * layout is a pure function of the training rows).
 */
export function categorySketch(
  feature: string,
  kind: 'categorical' | 'boolean',
  texts: (string | null)[],
): ColumnSketch {
  const freq = new Map<string, number>();
  let missing = 0;
  for (const t of texts) {
    if (t === null) missing++;
    else freq.set(t, (freq.get(t) ?? 0) + 1);
  }
  let categories: string[];
  let tail: string[] = [];
  if (kind === 'boolean') categories = ['false', 'true'];
  else {
    const ranked = [...freq].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([c]) => c);
    categories = ranked.slice(0, MAX_CATEGORY_BINS);
    tail = ranked.slice(MAX_CATEGORY_BINS, MAX_CATEGORY_BINS + MAX_TAIL_CATEGORIES);
  }
  const sketch: ColumnSketch = { feature, kind, edges: [], missingBin: false, categories, tail, counts: [] };
  const counts = new Array<number>(binCount(sketch)).fill(0);
  const index = categoryIndex(sketch);
  for (const [t, n] of freq) counts[categoryBin(sketch, index, t)]! += n;
  counts[categories.length + 1]! += missing;
  sketch.counts = counts;
  return sketch;
}

/** category text -> bin (tail categories -> the (other) bin). */
export function categoryIndex(s: ColumnSketch): Map<string, number> {
  const m = new Map<string, number>();
  s.categories.forEach((c, i) => m.set(c, i));
  for (const c of s.tail) m.set(c, s.categories.length);
  return m;
}

function categoryBin(s: ColumnSketch, index: Map<string, number>, text: string): number {
  if (s.kind === 'boolean') {
    const b = readBoolean(text);
    return b === null ? s.categories.length + 2 : b;
  }
  return index.get(text) ?? index.get(canonicalText(text)) ?? s.categories.length + 2;
}

/** A stored column's cell as text (numbers in their canonical form); null = missing. */
function cellText(col: TableColumn, row: number): string | null {
  if (col.kind === 'number') {
    const v = col.values[row]!;
    return Number.isNaN(v) ? null : float32Text(v);
  }
  const code = col.codes[row]!;
  return code === MISSING_CODE ? null : col.dictionary[code]!;
}

/** The sketch of one input column of a table version, from its training rows `train` of the stored table. */
export function tableColumnSketch(input: InputColumn, col: TableColumn, train: ArrayLike<number>): ColumnSketch {
  if (input.type === 'numeric') {
    const values = new Float64Array(train.length);
    for (let i = 0; i < train.length; i++) {
      const r = train[i]!;
      if (col.kind === 'number') values[i] = col.values[r]!;
      else {
        const t = cellText(col, r);
        values[i] = t === null ? NaN : (readNumber(t) ?? NaN);
      }
    }
    return numericSketch(input.column, values, true);
  }
  return categorySketch(
    input.column,
    input.type,
    Array.from({ length: train.length }, (_, i) => cellText(col, train[i]!)),
  );
}

/** Sketches of every input column of a table version (in its input order), from the stored table. */
export function tableSketches(columns: InputColumn[], table: RawTable, train: ArrayLike<number>): ColumnSketch[] {
  return columns.map((c) => {
    const col = table.columns.find((t) => t.name === c.column);
    if (!col) throw new Error(`the training table has no column "${c.column}"`);
    return tableColumnSketch(c, col, train);
  });
}

/**
 * Bins one served table instance: `instance` is an object by column name or an array in the sketches'
 * order; adds 1 to each column's bin in `counts`. Values are read as the model reads them.
 */
export class InstanceBinner {
  private readonly indexes: Map<string, number>[];
  private readonly missing: Set<string>;

  constructor(
    private readonly sketches: ColumnSketch[],
    missingMarkers: readonly string[],
  ) {
    this.indexes = sketches.map(categoryIndex);
    this.missing = new Set(missingMarkers);
  }

  /** The bin of value `raw` in column j. */
  bin(j: number, raw: unknown): number {
    const s = this.sketches[j]!;
    const text =
      raw === null || raw === undefined
        ? null
        : typeof raw === 'string'
          ? raw.trim()
          : typeof raw === 'number' || typeof raw === 'boolean'
            ? String(raw)
            : null;
    const isMissing = text === null || this.missing.has(text);
    if (s.kind === 'numeric') {
      const valueBins = s.edges.length + 1;
      if (isMissing) return s.missingBin ? valueBins : binOf(s.edges, NaN);
      const v = typeof raw === 'number' ? raw : readNumber(text);
      // An unreadable number fails the request before it is served, so this only guards odd input.
      if (v === null) return s.missingBin ? valueBins : 0;
      return binOf(s.edges, v);
    }
    if (isMissing) return s.categories.length + 1;
    return categoryBin(s, this.indexes[j]!, text);
  }

  add(instance: unknown, counts: number[][]): void {
    const arr = Array.isArray(instance) ? (instance as unknown[]) : null;
    const obj = !arr && instance !== null && typeof instance === 'object' ? (instance as Record<string, unknown>) : {};
    this.sketches.forEach((s, j) => {
      counts[j]![this.bin(j, arr ? arr[j] : obj[s.feature])]! += 1;
    });
  }
}
