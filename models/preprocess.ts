/**
 * Real tables: column types, missing values and categorical encoding, as pure functions.
 *
 *   inferColumns   raw string cells -> a type per column (numeric, boolean, categorical) or a drop with
 *                  its reason (constant, all missing, id-like), overridable per column.
 *   fitPreprocessing  on the training rows only: per numeric column its median (imputation) and whether
 *                  it needs a missing indicator; per categorical column the categories kept (seen at
 *                  least minCount times, at most topK), an `other` slot and a `missing` slot when the
 *                  training rows had any.
 *   encodeTable    a version's preprocessing applied to a raw table -> the encoded input matrix, or
 *                  `{ ok: false, reason }` when the table cannot be read with it (a column is gone or
 *                  changed type). One function for training, evaluation and a champion scored on a
 *                  challenger's rows.
 *   encodeRecord   one request object -> its encoded row; a value that cannot be read names
 *                  `instances[i].column`.
 *   FirstLayer     the encoded input times the first weight matrix without building the one-hot
 *                  vector: a categorical value is one gathered kernel row, so the cost of a prediction
 *                  does not grow with the number of categories.
 *
 * Encoded layout, column by column in schema order: numeric/boolean -> [value] (+ [missing indicator]);
 * categorical -> one slot per kept category, then `other` if present, then `missing` if present. A value
 * with no slot (an unseen category when no training row fell into `other`, a missing value when training
 * had none) encodes as all zeros, which contributes nothing: the model's answer without that column's
 * evidence. Numeric slots are standardised by the model (folded into its first layer); one-hot and
 * indicator slots are not (mean 0, scale 1), so a rare category does not become a huge input.
 */

export const DEFAULT_MISSING_MARKERS = ['', 'NA', 'N/A', 'NaN', 'null', '?'] as const;
/** A category needs this many training rows to get its own slot; rarer ones share `other`. */
export const DEFAULT_MIN_COUNT = 3;
/** At most this many categories per column get their own slot (the most frequent ones). */
export const DEFAULT_TOP_K = 32;

export type ColumnType = 'numeric' | 'boolean' | 'categorical';
export type DropReason = 'constant' | 'all missing' | 'id-like' | 'requested';

export interface ColumnSchema {
  name: string;
  type: ColumnType;
  /** How the type was decided. */
  source: 'inferred' | 'declared';
}

export interface DroppedColumn {
  name: string;
  reason: DropReason;
}

export type NumericInput = {
  column: string;
  type: 'numeric' | 'boolean';
  /** Median of the training rows; replaces a missing value. */
  median: number;
  /** Whether a 0/1 "was missing" input follows the value (the training rows had a missing value). */
  missingIndicator: boolean;
};

export type CategoricalInput = {
  column: string;
  type: 'categorical';
  /** Categories with their own slot, most frequent first. */
  categories: string[];
  /** A slot for categories without their own (rare in training); unseen values go there too. */
  other: boolean;
  /** A slot for missing values (training rows had some). */
  missing: boolean;
};

export type InputColumn = NumericInput | CategoricalInput;

/** The preprocessing of one model version: stored with it, shown as its input schema, applied at predict. */
export interface Preprocessing {
  columns: InputColumn[];
  /** Encoded input width (the first layer's inputs). */
  width: number;
  missingMarkers: string[];
}

/** A table as uploaded: per column, its cells as trimmed strings (missing markers still in place). */
export interface RawTable {
  columns: string[];
  cells: string[][];
  rows: number;
}

export class PreprocessError extends Error {
  override name = 'PreprocessError';
}

const BOOLEAN_PAIRS: [string, string][] = [
  ['false', 'true'],
  ['no', 'yes'],
  ['n', 'y'],
];
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function isMissing(cell: string, markers: ReadonlySet<string>): boolean {
  return markers.has(cell);
}

function readNumber(cell: string): number | null {
  if (!NUMBER.test(cell)) return null;
  const v = Number(cell);
  return Number.isFinite(v) ? v : null;
}

/** 0/1 for a boolean cell (case-insensitive true/false, yes/no, y/n), else null. */
export function readBoolean(cell: string): number | null {
  const c = cell.toLowerCase();
  for (const [f, t] of BOOLEAN_PAIRS) {
    if (c === f) return 0;
    if (c === t) return 1;
  }
  return null;
}

/**
 * A type per column from its cells: all present cells numbers -> numeric; all booleans of one pair ->
 * boolean; otherwise categorical. Dropped: no present cell (all missing), one distinct value and no
 * missing one (constant), or id-like: text unique on every row, or integers unique on every row that
 * form a consecutive run (a row number). `declared` overrides the inference per column ('drop' drops).
 */
export function inferColumns(
  table: RawTable,
  declared: Record<string, ColumnType | 'drop'> = {},
  markers: readonly string[] = DEFAULT_MISSING_MARKERS,
): { schema: ColumnSchema[]; dropped: DroppedColumn[] } {
  const missing = new Set(markers);
  const schema: ColumnSchema[] = [];
  const dropped: DroppedColumn[] = [];
  for (const name of Object.keys(declared))
    if (!table.columns.includes(name)) throw new PreprocessError(`types: no column "${name}" in the table`);
  table.columns.forEach((name, c) => {
    const cells = table.cells[c]!;
    const want = declared[name];
    if (want === 'drop') return dropped.push({ name, reason: 'requested' });
    const present = cells.filter((v) => !isMissing(v, missing));
    if (want) {
      if (want === 'numeric') {
        const bad = present.find((v) => readNumber(v) === null);
        if (bad !== undefined)
          throw new PreprocessError(`column "${name}" is declared numeric but has the value "${bad.slice(0, 40)}"`);
      }
      if (want === 'boolean') {
        const bad = present.find((v) => readBoolean(v) === null);
        if (bad !== undefined)
          throw new PreprocessError(`column "${name}" is declared boolean but has the value "${bad.slice(0, 40)}"`);
      }
      return schema.push({ name, type: want, source: 'declared' });
    }
    if (present.length === 0) return dropped.push({ name, reason: 'all missing' });
    const distinct = new Set(present);
    if (distinct.size === 1 && present.length === cells.length) return dropped.push({ name, reason: 'constant' });
    const numbers = present.map(readNumber);
    if (numbers.every((v) => v !== null)) {
      const values = numbers as number[];
      const unique = new Set(values).size === cells.length;
      if (unique && values.every(Number.isInteger)) {
        const min = Math.min(...values);
        const max = Math.max(...values);
        if (max - min + 1 === cells.length) return dropped.push({ name, reason: 'id-like' });
      }
      return schema.push({ name, type: 'numeric', source: 'inferred' });
    }
    const lower = new Set(present.map((v) => v.toLowerCase()));
    if (BOOLEAN_PAIRS.some(([f, t]) => [...lower].every((v) => v === f || v === t)))
      return schema.push({ name, type: 'boolean', source: 'inferred' });
    if (distinct.size === cells.length && cells.length > 1) return dropped.push({ name, reason: 'id-like' });
    return schema.push({ name, type: 'categorical', source: 'inferred' });
  });
  return { schema, dropped };
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = values.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function numericValue(type: 'numeric' | 'boolean', cell: string): number | null {
  return type === 'boolean' ? readBoolean(cell) : readNumber(cell);
}

/** Fits the preprocessing on the training rows `train` (row indices) of the table. */
export function fitPreprocessing(
  table: RawTable,
  schema: ColumnSchema[],
  train: ArrayLike<number>,
  options: { minCount?: number; topK?: number; missingMarkers?: readonly string[] } = {},
): Preprocessing {
  const minCount = options.minCount ?? DEFAULT_MIN_COUNT;
  const topK = options.topK ?? DEFAULT_TOP_K;
  const markers = options.missingMarkers ?? DEFAULT_MISSING_MARKERS;
  const missing = new Set(markers);
  const columns: InputColumn[] = schema.map((col) => {
    const cells = table.cells[table.columns.indexOf(col.name)]!;
    let missingSeen = false;
    if (col.type !== 'categorical') {
      const values: number[] = [];
      for (let i = 0; i < train.length; i++) {
        const cell = cells[train[i]!]!;
        if (isMissing(cell, missing)) missingSeen = true;
        else values.push(numericValue(col.type, cell)!);
      }
      return { column: col.name, type: col.type, median: median(values), missingIndicator: missingSeen };
    }
    const counts = new Map<string, number>();
    for (let i = 0; i < train.length; i++) {
      const cell = cells[train[i]!]!;
      if (isMissing(cell, missing)) missingSeen = true;
      else counts.set(cell, (counts.get(cell) ?? 0) + 1);
    }
    // Most frequent first, ties by name, so the layout is a pure function of the training rows.
    const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const categories = ranked.filter(([, n]) => n >= minCount).slice(0, topK);
    const kept = new Set(categories.map(([c]) => c));
    return {
      column: col.name,
      type: 'categorical',
      categories: categories.map(([c]) => c),
      other: ranked.some(([c]) => !kept.has(c)),
      missing: missingSeen,
    };
  });
  return { columns, width: columns.reduce((n, c) => n + slotsOf(c), 0), missingMarkers: [...markers] };
}

export function slotsOf(c: InputColumn): number {
  return c.type === 'categorical'
    ? c.categories.length + (c.other ? 1 : 0) + (c.missing ? 1 : 0)
    : 1 + (c.missingIndicator ? 1 : 0);
}

/** Per encoded slot: whether the model standardises it (numeric values) or takes it as is (0/1 slots). */
export function standardisedSlots(pre: Preprocessing): boolean[] {
  return pre.columns.flatMap((c) =>
    c.type === 'categorical'
      ? new Array<boolean>(slotsOf(c)).fill(false)
      : [true, ...(c.missingIndicator ? [false] : [])],
  );
}

/**
 * Where one cell goes: for numeric/boolean columns the value (null = missing) and for categorical
 * columns the slot offset within the column (-1 = no slot: all zeros). `error` when it cannot be read.
 */
type Cell = { value: number | null } | { slot: number } | { error: string };

function cellOf(c: InputColumn, raw: string | number | boolean | null | undefined, missing: ReadonlySet<string>): Cell {
  const text = raw === null || raw === undefined ? null : typeof raw === 'string' ? raw.trim() : String(raw);
  const absent = text === null || isMissing(text, missing);
  if (c.type !== 'categorical') {
    if (absent) return { value: null };
    const v = c.type === 'boolean' ? readBoolean(text) : readNumber(text);
    if (v === null)
      return {
        error: `${JSON.stringify(raw)?.slice(0, 40)} is not ${c.type === 'boolean' ? 'a boolean' : 'a number'}`,
      };
    return { value: v };
  }
  if (absent) return { slot: c.missing ? c.categories.length + (c.other ? 1 : 0) : -1 };
  const k = c.categories.indexOf(text);
  if (k >= 0) return { slot: k };
  return { slot: c.other ? c.categories.length : -1 };
}

function writeCell(c: InputColumn, cell: Cell, out: Float32Array, at: number): void {
  if ('value' in cell) {
    out[at] = cell.value ?? (c as NumericInput).median;
    if ((c as NumericInput).missingIndicator) out[at + 1] = cell.value === null ? 1 : 0;
  } else if ('slot' in cell) {
    const n = slotsOf(c);
    for (let k = 0; k < n; k++) out[at + k] = 0;
    if (cell.slot >= 0) out[at + cell.slot] = 1;
  }
}

/**
 * A version's preprocessing applied to the rows `rows` of a raw table: the encoded row-major matrix,
 * or why the table cannot be read with it (a column it needs is missing, or holds values it cannot read).
 */
export function encodeTable(
  pre: Preprocessing,
  table: RawTable,
  rows: ArrayLike<number>,
): { ok: true; x: Float32Array; width: number } | { ok: false; reason: string } {
  const missing = new Set(pre.missingMarkers);
  const gone = pre.columns.filter((c) => !table.columns.includes(c.column)).map((c) => c.column);
  if (gone.length) return { ok: false, reason: `the table has no column ${gone.map((g) => `"${g}"`).join(', ')}` };
  const x = new Float32Array(rows.length * pre.width);
  let at = 0;
  for (const c of pre.columns) {
    const cells = table.cells[table.columns.indexOf(c.column)]!;
    for (let i = 0; i < rows.length; i++) {
      const cell = cellOf(c, cells[rows[i]!]!, missing);
      if ('error' in cell) return { ok: false, reason: `column "${c.column}", row ${rows[i]! + 1}: ${cell.error}` };
      writeCell(c, cell, x, i * pre.width + at);
    }
    at += slotsOf(c);
  }
  return { ok: true, x, width: pre.width };
}

export type RecordValue = string | number | boolean | null;

/** One request object -> its encoded row; throws a PreprocessError naming `instances[i].column`. */
export function encodeRecord(pre: Preprocessing, record: Record<string, RecordValue>, i: number): Float32Array {
  const missing = new Set(pre.missingMarkers);
  const known = new Set(pre.columns.map((c) => c.column));
  for (const k of Object.keys(record))
    if (!known.has(k)) throw new PreprocessError(`instances[${i}].${k.slice(0, 64)}: unknown column`);
  const out = new Float32Array(pre.width);
  let at = 0;
  for (const c of pre.columns) {
    const cell = cellOf(c, record[c.column], missing);
    if ('error' in cell) throw new PreprocessError(`instances[${i}].${c.column}: ${cell.error}`);
    writeCell(c, cell, out, at);
    at += slotsOf(c);
  }
  return out;
}

/**
 * The first layer applied straight to request objects: out = bias + sum over numeric inputs of
 * value * kernel[slot] + the kernel rows of each categorical value's slot. `kernel` is the folded
 * [width x units] first-layer matrix (standardisation already in it), so this equals
 * encodeRecord(...) x kernel + bias, at a cost of (numeric inputs + categorical columns) x units.
 */
export class FirstLayer {
  private readonly offsets: number[];
  private readonly missing: Set<string>;

  constructor(
    private readonly pre: Preprocessing,
    private readonly kernel: Float32Array,
    private readonly bias: Float32Array,
    readonly units: number,
  ) {
    if (kernel.length !== pre.width * units)
      throw new RangeError(`kernel has ${kernel.length} values, expected ${pre.width} x ${units}`);
    this.missing = new Set(pre.missingMarkers);
    let at = 0;
    this.offsets = pre.columns.map((c) => {
      const o = at;
      at += slotsOf(c);
      return o;
    });
  }

  /** Writes the pre-activation of record `i` into out[0..units). */
  apply(record: Record<string, RecordValue>, i: number, out: Float32Array, outOffset = 0): void {
    const u = this.units;
    for (let j = 0; j < u; j++) out[outOffset + j] = this.bias[j]!;
    this.pre.columns.forEach((c, ci) => {
      const cell = cellOf(c, record[c.column], this.missing);
      if ('error' in cell) throw new PreprocessError(`instances[${i}].${c.column}: ${cell.error}`);
      const base = this.offsets[ci]!;
      if ('value' in cell) {
        const n = c as NumericInput;
        const v = cell.value ?? n.median;
        const row = base * u;
        for (let j = 0; j < u; j++) out[outOffset + j]! += v * this.kernel[row + j]!;
        if (n.missingIndicator && cell.value === null) {
          const ind = (base + 1) * u;
          for (let j = 0; j < u; j++) out[outOffset + j]! += this.kernel[ind + j]!;
        }
      } else if ('slot' in cell && cell.slot >= 0) {
        const row = (base + cell.slot) * u;
        for (let j = 0; j < u; j++) out[outOffset + j]! += this.kernel[row + j]!;
      }
    });
  }
}

/** What GET /v1/models/:name shows of the preprocessing: per column its type and how it is read. */
export function inputSchema(pre: Preprocessing) {
  return pre.columns.map((c) =>
    c.type === 'categorical'
      ? { column: c.column, type: c.type, categories: c.categories, other: c.other, missingCategory: c.missing }
      : { column: c.column, type: c.type, imputation: c.median, missingIndicator: c.missingIndicator },
  );
}
