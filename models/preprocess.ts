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

/** A text column's code for a missing cell. */
export const MISSING_CODE = 0xffff;

/**
 * One column of a table as stored: numbers (NaN = missing) when every present cell was a number and the
 * column was not declared categorical or boolean, else text as codes into a dictionary (MISSING_CODE =
 * missing). Missing markers are resolved when the table is read, so a stored table has none left.
 * Codes are 16-bit: a table has at most 20,000 rows, so at most 20,000 distinct values per column.
 */
export type TableColumn =
  | { name: string; kind: 'number'; values: Float32Array }
  | { name: string; kind: 'text'; codes: Uint16Array; dictionary: string[] };

/** A table as uploaded (the label column apart): typed columns of `rows` cells each. */
export interface RawTable {
  columns: TableColumn[];
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

export function readNumber(cell: string): number | null {
  if (!NUMBER.test(cell)) return null;
  const v = Number(cell);
  // Stored as float32: a value beyond its range would train as Infinity.
  return Number.isFinite(Math.fround(v)) ? v : null;
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
 * The form a value of an inferred text column is kept in: a number-like value by its value ("1.50" and
 * "1.5" are one category), anything else as it is (already trimmed). A request's value is looked up as
 * written first, then in this form.
 */
export function canonicalText(cell: string): string {
  return NUMBER.test(cell) ? float32Text(Number(cell)) : cell;
}

/** A cell of a stored column as text (numbers in their canonical form); null = missing. */
function textAt(col: TableColumn, row: number): string | null {
  if (col.kind === 'number') {
    const v = col.values[row]!;
    return Number.isNaN(v) ? null : float32Text(v);
  }
  const code = col.codes[row]!;
  return code === MISSING_CODE ? null : col.dictionary[code]!;
}

/**
 * Cells collected in fixed blocks of 1,024: no doubling (which holds up to 3x a column while it copies)
 * and at most one part-filled block per column, so a 1,024-column upload starts at 4 MB, not more.
 */
class Blocks<T extends Float32Array | Uint16Array> {
  private static readonly SIZE = 1024;
  private readonly blocks: T[] = [];
  length = 0;

  constructor(private readonly make: (n: number) => T) {}

  push(v: number): void {
    const at = this.length % Blocks.SIZE;
    if (at === 0) this.blocks.push(this.make(Blocks.SIZE));
    this.blocks[this.blocks.length - 1]![at] = v;
    this.length++;
  }

  get(i: number): number {
    return this.blocks[Math.floor(i / Blocks.SIZE)]![i % Blocks.SIZE]!;
  }

  /** One array of exactly `length` values; the blocks are let go. */
  finish(): T {
    const out = this.make(this.length);
    this.blocks.forEach((b, k) =>
      out.set(b.subarray(0, Math.min(Blocks.SIZE, this.length - k * Blocks.SIZE)), k * Blocks.SIZE),
    );
    this.blocks.length = 0;
    return out;
  }
}

/**
 * The shortest decimal that reads back as the same float32 ("0.1", not "0.10000000149011612"): how a
 * stored number is written as text, so numbers kept as float32 and text cells agree on one spelling.
 */
export function float32Text(v: number): string {
  const f = Math.fround(v);
  if (Number.isInteger(f) && Math.abs(f) < 2 ** 24) return String(f);
  for (let p = 1; p < 10; p++) {
    const t = String(Number(f.toPrecision(p)));
    if (Math.fround(Number(t)) === f) return t;
  }
  return String(f);
}

/**
 * Builds one stored column from its cells as they arrive (trimmed, markers already told apart): numbers
 * (float32) while every present cell is one, text from the first cell that is not (the numbers so far
 * become their float32Text) or from the start when the column is declared text (categorical, boolean).
 */
export class ColumnBuilder {
  private nums: Blocks<Float32Array> | null = new Blocks((n) => new Float32Array(n));
  private codes: Blocks<Uint16Array> = new Blocks((n) => new Uint16Array(n));
  private readonly index = new Map<string, number>();
  private readonly dictionary: string[] = [];
  /** A column declared text keeps its values as written ("02134"); an inferred one compares numbers by value. */
  private readonly verbatim: boolean;

  constructor(
    readonly name: string,
    text = false,
  ) {
    this.verbatim = text;
    if (text) this.toText();
  }

  get isText(): boolean {
    return this.nums === null;
  }

  get rows(): number {
    return this.nums ? this.nums.length : this.codes.length;
  }

  /** `cell` is trimmed; null = missing. */
  push(cell: string | null): void {
    if (this.nums) {
      if (cell === null) return this.nums.push(NaN);
      const v = readNumber(cell);
      if (v !== null) return this.nums.push(v);
      this.toText();
    }
    this.codes.push(cell === null ? MISSING_CODE : this.code(this.verbatim ? cell : canonicalText(cell)));
  }

  private code(text: string): number {
    let c = this.index.get(text);
    if (c === undefined) {
      c = this.dictionary.length;
      this.dictionary.push(text);
      this.index.set(text, c);
    }
    return c;
  }

  private toText(): void {
    const nums = this.nums!;
    this.nums = null;
    for (let r = 0; r < nums.length; r++) {
      const v = nums.get(r);
      this.codes.push(Number.isNaN(v) ? MISSING_CODE : this.code(float32Text(v)));
    }
  }

  finish(): TableColumn {
    if (this.nums) return { name: this.name, kind: 'number', values: this.nums.finish() };
    return { name: this.name, kind: 'text', codes: this.codes.finish(), dictionary: this.dictionary };
  }
}

/**
 * A table from string cells per column (as a CSV holds them): markers mark missing cells; columns
 * declared categorical or boolean are kept as text from the start (so "02134" stays a category).
 */
export function tableFromCells(
  columns: string[],
  cells: string[][],
  options: { declared?: Record<string, ColumnType | 'drop'>; missingMarkers?: readonly string[] } = {},
): RawTable {
  const missing = new Set(options.missingMarkers ?? DEFAULT_MISSING_MARKERS);
  const out = columns.map((name, c) => {
    const want = options.declared?.[name];
    const b = new ColumnBuilder(name, want === 'categorical' || want === 'boolean');
    for (const raw of cells[c]!) {
      const t = raw.trim();
      b.push(isMissing(t, missing) ? null : t);
    }
    return b.finish();
  });
  return { columns: out, rows: cells[0]?.length ?? 0 };
}

/**
 * A type per column: numbers -> numeric; text whose values are all booleans of one pair -> boolean;
 * other text -> categorical. Dropped: no present cell (all missing), one distinct value and no missing
 * one (constant), or id-like: text unique on every row, or integers unique on every row that form a
 * consecutive run (a row number). `declared` overrides the inference per column ('drop' drops).
 */
export function inferColumns(
  table: RawTable,
  declared: Record<string, ColumnType | 'drop'> = {},
): { schema: ColumnSchema[]; dropped: DroppedColumn[] } {
  const schema: ColumnSchema[] = [];
  const dropped: DroppedColumn[] = [];
  const names = table.columns.map((c) => c.name);
  for (const name of Object.keys(declared))
    if (!names.includes(name)) throw new PreprocessError(`types: no column "${name}" in the table`);
  for (const col of table.columns) {
    const name = col.name;
    const want = declared[name];
    if (want === 'drop') {
      dropped.push({ name, reason: 'requested' });
      continue;
    }
    // Distinct present values and how many cells are present.
    const distinct = new Set<string | number>();
    let present = 0;
    for (let r = 0; r < table.rows; r++) {
      const v = col.kind === 'number' ? col.values[r]! : col.codes[r]!;
      if (col.kind === 'number' ? Number.isNaN(v) : v === MISSING_CODE) continue;
      present++;
      distinct.add(v);
    }
    const texts = col.kind === 'text' ? [...distinct].map((c) => col.dictionary[c as number]!) : [];
    if (want) {
      if (want === 'numeric' && col.kind === 'text') {
        const bad = texts.find((v) => readNumber(v) === null)!;
        throw new PreprocessError(`column "${name}" is declared numeric but has the value "${bad.slice(0, 40)}"`);
      }
      if (want === 'boolean') {
        const bad =
          col.kind === 'number'
            ? float32Text(col.values.find((v) => !Number.isNaN(v))!)
            : texts.find((v) => readBoolean(v) === null);
        if (bad !== undefined)
          throw new PreprocessError(`column "${name}" is declared boolean but has the value "${bad.slice(0, 40)}"`);
      }
      schema.push({ name, type: want, source: 'declared' });
      continue;
    }
    if (present === 0) dropped.push({ name, reason: 'all missing' });
    else if (distinct.size === 1 && present === table.rows) dropped.push({ name, reason: 'constant' });
    else if (col.kind === 'number') {
      const values = [...distinct] as number[];
      const unique = values.length === table.rows;
      if (unique && values.every(Number.isInteger)) {
        let min = Infinity;
        let max = -Infinity;
        for (const v of values) {
          if (v < min) min = v;
          if (v > max) max = v;
        }
        if (max - min + 1 === table.rows) {
          dropped.push({ name, reason: 'id-like' });
          continue;
        }
      }
      schema.push({ name, type: 'numeric', source: 'inferred' });
    } else {
      const lower = new Set(texts.map((v) => v.toLowerCase()));
      if (BOOLEAN_PAIRS.some(([f, t]) => [...lower].every((v) => v === f || v === t)))
        schema.push({ name, type: 'boolean', source: 'inferred' });
      else if (distinct.size === table.rows && table.rows > 1) dropped.push({ name, reason: 'id-like' });
      else schema.push({ name, type: 'categorical', source: 'inferred' });
    }
  }
  return { schema, dropped };
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = values.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function columnOf(table: RawTable, name: string): TableColumn | undefined {
  return table.columns.find((c) => c.name === name);
}

/**
 * How each cell of a stored column reads for one input: per text code (and for a number column, per
 * value) its Cell, so a table is encoded with one lookup per cell.
 */
function reader(c: InputColumn, col: TableColumn, slots: Map<string, number>): (row: number) => Cell {
  if (col.kind === 'number') {
    if (c.type === 'categorical')
      return (r) => {
        const t = textAt(col, r);
        return t === null ? missingCell(c) : categoryCell(c, slots, t);
      };
    if (c.type === 'boolean')
      return (r) =>
        Number.isNaN(col.values[r]!)
          ? { value: null }
          : { error: `${JSON.stringify(float32Text(col.values[r]!))} is not a boolean` };
    return (r) => {
      const v = col.values[r]!;
      return { value: Number.isNaN(v) ? null : v };
    };
  }
  const byCode: Cell[] = col.dictionary.map((t) => cellOf(c, slots, t, new Set()));
  const missing = missingCell(c);
  return (r) => {
    const code = col.codes[r]!;
    return code === MISSING_CODE ? missing : byCode[code]!;
  };
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
  const columns: InputColumn[] = schema.map((s) => {
    const col = columnOf(table, s.name);
    if (!col) throw new PreprocessError(`no column "${s.name}" in the table`);
    let missingSeen = false;
    if (s.type !== 'categorical') {
      const values: number[] = [];
      for (let i = 0; i < train.length; i++) {
        const t = textAt(col, train[i]!);
        if (t === null) missingSeen = true;
        else {
          const v =
            s.type === 'boolean' ? readBoolean(t) : col.kind === 'number' ? col.values[train[i]!]! : readNumber(t);
          if (v === null)
            throw new PreprocessError(
              `column "${s.name}": "${t.slice(0, 40)}" is not ${s.type === 'boolean' ? 'a boolean' : 'a number'}`,
            );
          values.push(v);
        }
      }
      return { column: s.name, type: s.type, median: median(values), missingIndicator: missingSeen };
    }
    const counts = new Map<string, number>();
    for (let i = 0; i < train.length; i++) {
      const t = textAt(col, train[i]!);
      if (t === null) missingSeen = true;
      else counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    // Most frequent first, ties by name, so the layout is a pure function of the training rows.
    const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const categories = ranked.filter(([, n]) => n >= minCount).slice(0, topK);
    const kept = new Set(categories.map(([c]) => c));
    return {
      column: s.name,
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

/** A name per encoded slot: "bill", "bill (missing)", "island=Dream", "island (other)", "island (missing)". */
export function slotNames(pre: Preprocessing): string[] {
  return pre.columns.flatMap((c) =>
    c.type === 'categorical'
      ? [
          ...c.categories.map((k) => `${c.column}=${k}`),
          ...(c.other ? [`${c.column} (other)`] : []),
          ...(c.missing ? [`${c.column} (missing)`] : []),
        ]
      : [c.column, ...(c.missingIndicator ? [`${c.column} (missing)`] : [])],
  );
}

/**
 * Where one cell goes: for numeric/boolean columns the value (null = missing) and for categorical
 * columns the slot offset within the column (-1 = no slot: all zeros). `error` when it cannot be read.
 */
type Cell = { value: number | null } | { slot: number } | { error: string };

function missingCell(c: InputColumn): Cell {
  if (c.type !== 'categorical') return { value: null };
  return { slot: c.missing ? c.categories.length + (c.other ? 1 : 0) : -1 };
}

function categoryCell(c: CategoricalInput, slots: Map<string, number>, text: string): Cell {
  const k = slots.get(text) ?? slots.get(canonicalText(text));
  if (k !== undefined) return { slot: k };
  return { slot: c.other ? c.categories.length : -1 };
}

function cellOf(
  c: InputColumn,
  slots: Map<string, number>,
  raw: string | number | boolean | null | undefined,
  missing: ReadonlySet<string>,
): Cell {
  const text = raw === null || raw === undefined ? null : typeof raw === 'string' ? raw.trim() : String(raw);
  if (text === null || isMissing(text, missing)) return missingCell(c);
  if (c.type === 'categorical') return categoryCell(c, slots, text);
  const v = c.type === 'boolean' ? readBoolean(text) : readNumber(text);
  if (v === null)
    return {
      error: `${JSON.stringify(raw)?.slice(0, 40)} is not ${c.type === 'boolean' ? 'a boolean' : 'a number'}`,
    };
  return { value: v };
}

function slotMap(c: InputColumn): Map<string, number> {
  return new Map(c.type === 'categorical' ? c.categories.map((k, i) => [k, i]) : []);
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
  const gone = pre.columns.filter((c) => !columnOf(table, c.column)).map((c) => c.column);
  if (gone.length) return { ok: false, reason: `the table has no column ${gone.map((g) => `"${g}"`).join(', ')}` };
  const x = new Float32Array(rows.length * pre.width);
  let at = 0;
  for (const c of pre.columns) {
    const read = reader(c, columnOf(table, c.column)!, slotMap(c));
    for (let i = 0; i < rows.length; i++) {
      const cell = read(rows[i]!);
      if ('error' in cell) return { ok: false, reason: `column "${c.column}", row ${rows[i]! + 1}: ${cell.error}` };
      writeCell(c, cell, x, i * pre.width + at);
    }
    at += slotsOf(c);
  }
  return { ok: true, x, width: pre.width };
}

export type RecordValue = string | number | boolean | null;

/** A request instance: an object by column name, or an array of values in the input columns' order. */
export type TableInstance = Record<string, RecordValue> | RecordValue[];

/**
 * Reads request instances with one version's preprocessing: checks the columns an object names and
 * resolves each value to its Cell. Shared by encodeRecord and the gathered FirstLayer.
 */
class InstanceReader {
  private readonly missing: Set<string>;
  private readonly known: Set<string>;
  private readonly slots: Map<string, number>[];

  constructor(readonly pre: Preprocessing) {
    this.missing = new Set(pre.missingMarkers);
    this.known = new Set(pre.columns.map((c) => c.column));
    this.slots = pre.columns.map(slotMap);
  }

  /** The value of input column `ci` of instance `i`; throws a PreprocessError naming `instances[i].column`. */
  cells(instance: TableInstance, i: number): (ci: number) => Cell {
    const cols = this.pre.columns;
    if (Array.isArray(instance)) {
      if (instance.length !== cols.length)
        throw new PreprocessError(
          `instances[${i}]: expected ${cols.length} values (${cols
            .map((c) => c.column)
            .slice(0, 8)
            .join(', ')}${cols.length > 8 ? ', …' : ''}), got ${instance.length}`,
        );
    } else {
      for (const k of Object.keys(instance))
        if (!this.known.has(k)) throw new PreprocessError(`instances[${i}].${k.slice(0, 64)}: unknown column`);
    }
    return (ci) => {
      const c = cols[ci]!;
      const raw = Array.isArray(instance) ? instance[ci] : instance[c.column];
      const cell = cellOf(c, this.slots[ci]!, raw, this.missing);
      if ('error' in cell) throw new PreprocessError(`instances[${i}].${c.column}: ${cell.error}`);
      return cell;
    };
  }
}

/** One request instance -> its encoded row; throws a PreprocessError naming `instances[i].column`. */
export function encodeRecord(pre: Preprocessing, record: TableInstance, i: number): Float32Array {
  const cells = new InstanceReader(pre).cells(record, i);
  const out = new Float32Array(pre.width);
  let at = 0;
  pre.columns.forEach((c, ci) => {
    writeCell(c, cells(ci), out, at);
    at += slotsOf(c);
  });
  return out;
}

/**
 * The first layer applied straight to request instances: out = bias + sum over numeric inputs of
 * value * kernel[slot] + the kernel rows of each categorical value's slot. `kernel` is the folded
 * [width x units] first-layer matrix (standardisation already in it), so this equals
 * encodeRecord(...) x kernel + bias, at a cost of (numeric inputs + categorical columns) x units.
 */
export class FirstLayer {
  private readonly offsets: number[];
  private readonly reader: InstanceReader;

  constructor(
    private readonly pre: Preprocessing,
    private readonly kernel: Float32Array,
    private readonly bias: Float32Array,
    readonly units: number,
  ) {
    if (kernel.length !== pre.width * units)
      throw new RangeError(`kernel has ${kernel.length} values, expected ${pre.width} x ${units}`);
    this.reader = new InstanceReader(pre);
    let at = 0;
    this.offsets = pre.columns.map((c) => {
      const o = at;
      at += slotsOf(c);
      return o;
    });
  }

  /** Writes the pre-activation of instance `i` into out[outOffset..outOffset + units). */
  apply(record: TableInstance, i: number, out: Float32Array, outOffset = 0): void {
    const u = this.units;
    const k = this.kernel;
    const cells = this.reader.cells(record, i);
    for (let j = 0; j < u; j++) out[outOffset + j] = this.bias[j]!;
    const cols = this.pre.columns;
    for (let ci = 0; ci < cols.length; ci++) {
      const cell = cells(ci);
      const base = this.offsets[ci]!;
      if ('value' in cell) {
        const n = cols[ci] as NumericInput;
        const v = cell.value ?? n.median;
        const row = base * u;
        for (let j = 0; j < u; j++) out[outOffset + j]! += v * k[row + j]!;
        if (n.missingIndicator && cell.value === null) {
          const ind = (base + 1) * u;
          for (let j = 0; j < u; j++) out[outOffset + j]! += k[ind + j]!;
        }
      } else if ('slot' in cell && cell.slot >= 0) {
        const row = (base + cell.slot) * u;
        for (let j = 0; j < u; j++) out[outOffset + j]! += k[row + j]!;
      }
    }
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
