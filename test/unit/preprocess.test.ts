import { describe, expect, it } from 'vitest';
import {
  encodeRecord,
  encodeTable,
  FirstLayer,
  fitPreprocessing,
  inferColumns,
  inputSchema,
  PreprocessError,
  tableFromCells,
  type RawTable,
} from '../../models/preprocess';
import { Rng } from '../../models/random';

/** A messy table: text categories, NA/?/empty cells, a boolean, an id, a constant, a rare category. */
interface Cells {
  columns: string[];
  cells: string[][];
  rows: number;
}
const typed = (c: Cells): RawTable => tableFromCells(c.columns, c.cells);

function messyCells(rows = 60): Cells {
  const columns = ['id', 'island', 'bill', 'smoker', 'site', 'note', 'empty'];
  const cells: string[][] = columns.map(() => []);
  const islands = ['Biscoe', 'Dream', 'Torgersen'];
  for (let r = 0; r < rows; r++) {
    cells[0]!.push(String(r + 1));
    cells[1]!.push(r === 5 ? 'Atlantis' : r % 11 === 0 ? 'NA' : islands[r % 3]!);
    cells[2]!.push(r % 7 === 0 ? '?' : r % 13 === 0 ? '' : (30 + (r % 17)).toFixed(1));
    cells[3]!.push(r % 2 ? 'Yes' : 'no');
    cells[4]!.push('north');
    cells[5]!.push(`note ${r}`);
    cells[6]!.push(r % 2 ? 'NA' : '');
  }
  return { columns, cells, rows };
}
const messy = (rows = 60) => typed(messyCells(rows));

const all = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('inferColumns', () => {
  it('infers numeric, boolean and categorical; drops id-like, constant and all-missing with reasons', () => {
    const { schema, dropped } = inferColumns(messy());
    expect(schema.map((c) => [c.name, c.type])).toEqual([
      ['island', 'categorical'],
      ['bill', 'numeric'],
      ['smoker', 'boolean'],
    ]);
    expect(dropped).toEqual([
      { name: 'id', reason: 'id-like' },
      { name: 'site', reason: 'constant' },
      { name: 'note', reason: 'id-like' },
      { name: 'empty', reason: 'all missing' },
    ]);
  });

  it('a declared type overrides the inference; a declared type the values contradict is refused', () => {
    const t: Cells = {
      columns: ['zip', 'x'],
      cells: [
        ['02134', '10001', '02134', '94105'],
        ['1', '2', '3', '5'],
      ],
      rows: 4,
    };
    expect(inferColumns(typed(t)).schema[0]!.type).toBe('numeric');
    const declared = { zip: 'categorical' } as const;
    const zips = tableFromCells(t.columns, t.cells, { declared });
    expect(zips.columns[0]).toMatchObject({ kind: 'text', dictionary: ['02134', '10001', '94105'] });
    expect(inferColumns(zips, declared).schema[0]).toEqual({
      name: 'zip',
      type: 'categorical',
      source: 'declared',
    });
    expect(inferColumns(typed(t), { x: 'drop' }).dropped).toEqual([{ name: 'x', reason: 'requested' }]);
    expect(() => inferColumns(typed({ ...t, cells: [['a', 'b', 'c', 'd'], t.cells[1]!] }), { zip: 'numeric' })).toThrow(
      /column "zip" is declared numeric but has the value "a"/,
    );
    expect(() => inferColumns(typed(t), { nope: 'numeric' })).toThrow(PreprocessError);
  });
});

describe('fitPreprocessing / encode', () => {
  const raw = messyCells();
  const table = typed(raw);
  const { schema } = inferColumns(table);
  const train = all(40);
  const pre = fitPreprocessing(table, schema, train, { minCount: 3 });

  it('fits on the training rows only: medians, indicators, kept categories, other and missing slots', () => {
    const island = pre.columns[0]!;
    expect(island).toMatchObject({ type: 'categorical', other: true, missing: true });
    // Atlantis (1 training row) is below minCount: it shares the other slot.
    expect(island.type === 'categorical' && island.categories.sort()).toEqual(['Biscoe', 'Dream', 'Torgersen']);
    const bill = pre.columns[1]!;
    const present = train
      .map((r) => raw.cells[2]![r]!)
      .filter((v) => v !== '?' && v !== '')
      .map(Number);
    present.sort((a, b) => a - b);
    const mid = present.length >> 1;
    const med = present.length % 2 ? present[mid] : (present[mid - 1]! + present[mid]!) / 2;
    expect(bill).toMatchObject({ type: 'numeric', missingIndicator: true, median: med });
    expect(pre.columns[2]).toMatchObject({ type: 'boolean', missingIndicator: false });
    expect(pre.width).toBe(3 + 1 + 1 + 2 + 1);
    expect(inputSchema(pre)[1]).toEqual({ column: 'bill', type: 'numeric', imputation: med, missingIndicator: true });
  });

  it('a record (numbers, strings, null, an unseen category) encodes like the same row of the table', () => {
    const rows = [0, 5, 7, 13, 22];
    const enc = encodeTable(pre, table, rows);
    expect(enc.ok).toBe(true);
    if (!enc.ok) return;
    rows.forEach((r, i) => {
      const record: Record<string, string> = Object.fromEntries(raw.columns.map((c, ci) => [c, raw.cells[ci]![r]!]));
      delete record.id;
      delete record.site;
      delete record.note;
      delete record.empty;
      expect(Array.from(encodeRecord(pre, record, i))).toEqual(
        Array.from(enc.x.subarray(i * pre.width, (i + 1) * pre.width)),
      );
    });
    const unseen = encodeRecord(pre, { island: 'Nowhere', bill: null, smoker: true }, 0);
    expect(Array.from(unseen.subarray(0, 5))).toEqual([0, 0, 0, 1, 0]); // three kept, other, missing
    expect(unseen[5]).toBe((pre.columns[1] as { median: number }).median);
    expect(unseen[6]).toBe(1);
    expect(unseen[7]).toBe(1);
  });

  it('names instances[i].column for a value it cannot read and for an unknown column', () => {
    expect(() => encodeRecord(pre, { island: 'Dream', bill: 'long', smoker: 'no' }, 3)).toThrow(
      /instances\[3\]\.bill: "long" is not a number/,
    );
    expect(() => encodeRecord(pre, { island: 'Dream', bill: 1, smoker: 'maybe' }, 0)).toThrow(
      /instances\[0\]\.smoker: "maybe" is not a boolean/,
    );
    expect(() => encodeRecord(pre, { island: 'Dream', colour: 'red' }, 1)).toThrow(
      /instances\[1\]\.colour: unknown column/,
    );
  });

  it('a table without a column the preprocessing needs cannot be read (not comparable), said plainly', () => {
    const other = typed({ columns: ['island', 'smoker'], cells: [raw.cells[1]!, raw.cells[3]!], rows: raw.rows });
    expect(encodeTable(pre, other, [0, 1])).toEqual({ ok: false, reason: 'the table has no column "bill"' });
    const retyped = typed({ ...raw, cells: raw.cells.map((c, i) => (i === 2 ? c.map(() => 'long') : c)) });
    expect(encodeTable(pre, retyped, [1])).toEqual({
      ok: false,
      reason: 'column "bill", row 2: "long" is not a number',
    });
  });

  it('top-K keeps the most frequent categories; the rest go to other', () => {
    const t = typed({
      columns: ['c'],
      cells: [Array.from({ length: 100 }, (_, i) => `v${i % 10 < 5 ? i % 10 : 5 + (i % 3)}`)],
      rows: 100,
    });
    const p = fitPreprocessing(t, [{ name: 'c', type: 'categorical', source: 'inferred' }], all(100), { topK: 4 });
    expect(p.columns[0]).toMatchObject({ categories: ['v5', 'v7', 'v6', 'v0'], other: true, missing: false });
  });
});

describe('FirstLayer: the gathered first layer equals encode-then-multiply', () => {
  it('within 1e-6 on every record, including unseen values and nulls', () => {
    const raw = messyCells(80);
    const table = typed(raw);
    const { schema } = inferColumns(table);
    const pre = fitPreprocessing(table, schema, all(60));
    const units = 16;
    const rng = new Rng(3);
    const kernel = Float32Array.from({ length: pre.width * units }, () => rng.normal());
    const bias = Float32Array.from({ length: units }, () => rng.normal());
    const layer = new FirstLayer(pre, kernel, bias, units);
    const records = [
      ...all(80).map((r) => ({ island: raw.cells[1]![r]!, bill: raw.cells[2]![r]!, smoker: raw.cells[3]![r]! })),
      { island: 'Nowhere', bill: null, smoker: null },
      { island: null, bill: 41.5, smoker: false },
    ];
    const out = new Float32Array(units);
    records.forEach((rec, i) => {
      layer.apply(rec, i, out);
      const x = encodeRecord(pre, rec, i);
      for (let j = 0; j < units; j++) {
        let s = bias[j]!;
        for (let k = 0; k < pre.width; k++) s += x[k]! * kernel[k * units + j]!;
        expect(Math.abs(out[j]! - s)).toBeLessThan(1e-6 * Math.max(1, Math.abs(s)));
      }
    });
  });
});

describe('the raw Palmer penguins table (test/fixtures/penguins.csv)', () => {
  it('reads as it is: text categories, NA cells, the label column first', async () => {
    const { readFileSync } = await import('node:fs');
    const Papa = (await import('papaparse')).default;
    const text = readFileSync(new URL('../fixtures/penguins.csv', import.meta.url), 'utf8');
    const rows = Papa.parse<string[]>(text.trim(), { skipEmptyLines: true }).data;
    const header = rows[0]!;
    const body = rows.slice(1);
    const features = header.filter((h) => h !== 'species');
    const table = typed({
      columns: features,
      cells: features.map((f) => body.map((r) => r[header.indexOf(f)]!.trim())),
      rows: body.length,
    });
    expect(table.rows).toBe(344);
    const { schema, dropped } = inferColumns(table);
    expect(Object.fromEntries(schema.map((c) => [c.name, c.type]))).toEqual({
      island: 'categorical',
      bill_length_mm: 'numeric',
      bill_depth_mm: 'numeric',
      flipper_length_mm: 'numeric',
      body_mass_g: 'numeric',
      sex: 'categorical',
      year: 'numeric',
    });
    expect(dropped).toEqual([]);
    const pre = fitPreprocessing(table, schema, all(table.rows));
    expect(pre.columns.find((c) => c.column === 'sex')).toMatchObject({
      categories: ['male', 'female'],
      missing: true,
    });
    expect(pre.columns.find((c) => c.column === 'bill_length_mm')).toMatchObject({ missingIndicator: true });
    const enc = encodeTable(pre, table, all(table.rows));
    expect(enc.ok && enc.x.every(Number.isFinite)).toBe(true);
  });
});

describe('number-like values in text columns', () => {
  it('an inferred text column keeps numbers before its first text by value; a request finds them either way', () => {
    const t = tableFromCells(['c'], [['1.50', '2', '0.1', 'x', '1.5', 'x', '2.0', '0.1', 'x']]);
    expect(t.columns[0]).toMatchObject({ kind: 'text', dictionary: ['1.5', '2', '0.1', 'x'] });
    const pre = fitPreprocessing(t, inferColumns(t).schema, all(9), { minCount: 1 });
    const c = pre.columns[0]!;
    expect(c.type === 'categorical' && c.categories.slice().sort()).toEqual(['0.1', '1.5', '2', 'x']);
    const slot = (v: string | number) => Array.from(encodeRecord(pre, { c: v }, 0)).indexOf(1);
    expect(slot('1.50')).toBe(slot('1.5'));
    expect(slot(1.5)).toBe(slot('1.5'));
    expect(slot('2.0')).toBe(slot(2));
    expect(slot('0.10')).toBe(slot('0.1'));
  });

  it('a value beyond float32 range is text, not an infinite input', () => {
    const t = tableFromCells(['v'], [['1', '2', '1e39', '3']]);
    expect(t.columns[0]!.kind).toBe('text');
  });
});
