import { describe, expect, it } from 'vitest';
import type { TableDataset } from '../../models/dataset';
import type { TableColumn } from '../../models/preprocess';
import { DATASET_LIMITS, DatasetError, parseCsvDataset, parseJsonDataset, parseTypes } from '../../models/tabular';

const csv = (lines: string[]) => lines.join('\n');
const featureNames = (d: TableDataset) => d.table.columns.map((c) => c.name);
/** A column's cells as the upload had them: numbers, text, or null for missing. */
function cells(d: TableDataset, name: string): (number | string | null)[] {
  const c = d.table.columns.find((k) => k.name === name) as TableColumn;
  return c.kind === 'number'
    ? Array.from(c.values, (v) => (Number.isNaN(v) ? null : v))
    : Array.from(c.codes, (k) => (k === 0xffff ? null : c.dictionary[k]!));
}
const rowMajor = (d: TableDataset) =>
  Array.from({ length: d.rows }, (_, r) => featureNames(d).map((n) => cells(d, n)[r])).flat();

describe('parseCsvDataset', () => {
  it('reads a header, numeric features and string labels (last column by default)', () => {
    const d = parseCsvDataset(
      't',
      csv([
        'a,b,species',
        '1,2000,setosa',
        '3,4000,virginica',
        '5,6000,setosa',
        '7,8000,virginica',
        '9,1,setosa',
        '2,3,virginica',
        '',
      ]),
    );
    expect(d).toMatchObject({ classNames: ['setosa', 'virginica'], rows: 6, label: 'species' });
    expect(featureNames(d)).toEqual(['a', 'b']);
    expect(rowMajor(d)).toEqual([1, 2000, 3, 4000, 5, 6000, 7, 8000, 9, 1, 2, 3]);
    expect(Array.from(d.y)).toEqual([0, 1, 0, 1, 0, 1]);
  });

  it('handles quoted fields, CRLF, a BOM, blank lines and a label column named by ?label', () => {
    const text =
      '\uFEFF"label","x, with comma",y\r\n"b",1.5,-2e3\r\n\r\na,"3",4\r\nb,5,6\r\na,7,8\r\nb,0,0\r\na,1,1\r\n';
    const d = parseCsvDataset('t', text, { label: 'label' });
    expect(featureNames(d)).toEqual(['x, with comma', 'y']);
    expect(rowMajor(d)).toEqual([1.5, -2000, 3, 4, 5, 6, 7, 8, 0, 0, 1, 1]);
    expect(d.classNames).toEqual(['a', 'b']);
    expect(Array.from(d.y)).toEqual([1, 0, 1, 0, 1, 0]);
  });

  it('orders integer labels numerically', () => {
    const d = parseCsvDataset('t', csv(['x,y', '1,10', '2,2', '3,10', '4,2', '5,1', '6,1', '7,1', '8,2', '19,10']));
    expect(d.classNames).toEqual(['1', '2', '10']);
  });

  const rejects: [string, string, RegExp][] = [
    ['ragged row', csv(['a,b,c', '1,2,x', '1,2']), /row 2 has 2 columns, the header has 3/],
    ['missing label', csv(['a,b,c', '1,2,', '1,2,y']), /row 1, column "c": missing label/],
    ['NA label', csv(['a,b,c', '1,2,NA', '1,2,y']), /row 1, column "c": missing label/],
    ['one class', csv(['a,c', '1,x', '2,x']), /at least 2 classes, found 1/],
    ['class with one row', csv(['a,c', '1,x', '2,x', '3,x', '4,y']), /class "y" has 1 row;/],
    ['class with two rows', csv(['a,c', '1,x', '2,x', '3,x', '4,y', '5,y']), /class "y" has 2 rows; every class/],
    ['unknown label column', csv(['a,c', '1,x']), /label column "nope" is not in the header/],
    ['duplicate column', csv(['a,a,c', '1,2,x']), /column "a" appears twice/],
    ['empty', '', /empty/],
    ['header only', 'a,b\n', /no rows/],
  ];
  for (const [what, text, message] of rejects) {
    it(`rejects: ${what}`, () => {
      const options = what === 'unknown label column' ? { label: 'nope' } : {};
      expect(() => parseCsvDataset('t', text, options)).toThrow(message);
      expect(() => parseCsvDataset('t', text, options)).toThrow(DatasetError);
    });
  }

  it('enforces the feature, row and class limits', () => {
    const wide = [
      'x'.repeat(0) + Array.from({ length: DATASET_LIMITS.maxFeatures + 1 }, (_, i) => `f${i}`).join(',') + ',label',
    ];
    expect(() => parseCsvDataset('t', wide.join('\n'))).toThrow(/at most 1024 features/);
    const many = ['a,label', ...Array.from({ length: DATASET_LIMITS.maxRows + 1 }, (_, i) => `${i},${i % 2}`)];
    expect(() => parseCsvDataset('t', many.join('\n'))).toThrow(/at most 20000 rows/);
    const classes = [
      'a,label',
      ...Array.from({ length: 2 * (DATASET_LIMITS.maxClasses + 1) }, (_, i) => `${i},c${i >> 1}`),
    ];
    expect(() => parseCsvDataset('t', classes.join('\n'))).toThrow(/at most 100 classes/);
  });

  it('parses a 784-feature x 5,000-row set', () => {
    const header = [...Array.from({ length: 784 }, (_, i) => `p${i}`), 'digit'].join(',');
    const rows = Array.from({ length: 5000 }, (_, r) =>
      [...Array.from({ length: 784 }, (_, i) => (r * 7 + i) % 256), r % 10].join(','),
    );
    const d = parseCsvDataset('big', [header, ...rows].join('\n'));
    expect(d.rows).toBe(5000);
    expect(d.table.columns).toHaveLength(784);
    expect(d.table.columns.every((c) => c.kind === 'number')).toBe(true);
    expect(d.classNames).toHaveLength(10);
    expect(cells(d, 'p783')[4999]).toBe((4999 * 7 + 783) % 256);
    // A limit, not a timed assertion: vitest's 5 s default is reached at load 15.
  }, 60_000);
});

describe('parseJsonDataset', () => {
  it('reads features, rows and labels (strings or integers)', () => {
    const d = parseJsonDataset('j', {
      features: ['a', 'b'],
      rows: [
        [1, 2],
        [3, 4],
        [5, 6],
        [7, 8],
        [9, 10],
        [11, 12],
      ],
      labels: [1, 0, 1, 0, 1, 0],
    });
    expect(d.classNames).toEqual(['0', '1']);
    expect(Array.from(d.y)).toEqual([1, 0, 1, 0, 1, 0]);
  });
  const rejects: [string, unknown, RegExp][] = [
    ['not an object', [1], /expected an object/],
    ['extra field', { features: ['a'], rows: [], labels: [], x: 1 }, /unknown field "x"/],
    [
      'ragged',
      { features: ['a', 'b'], rows: [[1, 2], [3]], labels: ['x', 'y'] },
      /row 2 has 1 values, there are 2 features/,
    ],
    [
      'object value',
      { features: ['a'], rows: [[1], [{}]], labels: ['x', 'y'] },
      /row 2, column "a": \{\} is not a number, string, boolean or null/,
    ],
    ['labels length', { features: ['a'], rows: [[1], [2]], labels: ['x'] }, /2 rows but 1 labels/],
    ['bad label', { features: ['a'], rows: [[1], [2]], labels: ['x', 1.5] }, /label of row 2/],
  ];
  for (const [what, input, message] of rejects) {
    it(`rejects: ${what}`, () => expect(() => parseJsonDataset('j', input)).toThrow(message));
  }
});

describe('memory caps', () => {
  it('refuses more feature cells than the cap (rows x features), naming the row', () => {
    const features = 400;
    const header = [...Array.from({ length: features }, (_, i) => `f${i}`), 'label'].join(',');
    const line = (r: number) => `${'1,'.repeat(features)}${r % 2}`;
    const rows = DATASET_LIMITS.maxCells / features + 1;
    const text = [header, ...Array.from({ length: rows }, (_, r) => line(r))].join('\n');
    expect(() => parseCsvDataset('t', text)).toThrow(/at most 4,000,000 feature cells.*row 10001 with 400 features/);
  });
});

describe('mixed tables', () => {
  // A label in the middle, text categories, NA / ? / empty cells, a boolean, an id, a constant, all-missing.
  const lines = ['id,colour,size,label,smoker,site,nothing,score'];
  const colours = ['red', 'green', 'blue'];
  for (let r = 0; r < 30; r++)
    lines.push(
      [
        r + 100,
        r % 10 === 0 ? 'NA' : colours[r % 3],
        r % 7 === 0 ? '?' : r % 9 === 0 ? '' : String(10 + (r % 5)),
        r % 3 === 0 ? 'yes-class' : 'no-class',
        r % 2 ? 'Yes' : 'no',
        'north',
        r % 2 ? 'N/A' : 'null',
        `${(r * 1.5).toFixed(2)}`,
      ].join(','),
    );
  const text = csv(lines);

  it('infers the types, drops with reasons, keeps missing cells as missing, reads any label column', () => {
    const d = parseCsvDataset('m', text, { label: 'label' });
    expect(d.label).toBe('label');
    expect(d.classNames).toEqual(['no-class', 'yes-class']);
    expect(d.schema.map((c) => [c.name, c.type])).toEqual([
      ['colour', 'categorical'],
      ['size', 'numeric'],
      ['smoker', 'boolean'],
      ['score', 'numeric'],
    ]);
    expect(d.dropped).toEqual([
      { name: 'id', reason: 'id-like' },
      { name: 'site', reason: 'constant' },
      { name: 'nothing', reason: 'all missing' },
    ]);
    expect(featureNames(d)).toEqual(['colour', 'size', 'smoker', 'score']);
    expect(cells(d, 'colour').slice(0, 4)).toEqual([null, 'green', 'blue', 'red']);
    expect(cells(d, 'size').slice(0, 3)).toEqual([null, 11, 12]);
    expect(cells(d, 'size')[9]).toBeNull();
  });

  it('declared types override the inference; markers are configurable; a declared numeric column names its bad cell', () => {
    const d = parseCsvDataset('m', text, {
      label: 'label',
      types: { size: 'categorical', id: 'numeric', score: 'drop' },
      missingMarkers: ['NA'],
    });
    expect(d.schema.map((c) => [c.name, c.type, c.source])).toEqual([
      ['id', 'numeric', 'declared'],
      ['colour', 'categorical', 'inferred'],
      ['size', 'categorical', 'declared'],
      ['smoker', 'boolean', 'inferred'],
      ['nothing', 'categorical', 'inferred'],
    ]);
    expect(d.dropped).toEqual([
      { name: 'site', reason: 'constant' },
      { name: 'score', reason: 'requested' },
    ]);
    // "?" is no marker now: a category of its own; "" is always missing.
    expect(cells(d, 'size').slice(0, 2)).toEqual(['?', '11']);
    expect(cells(d, 'size')[9]).toBeNull();
    expect(() => parseCsvDataset('m', text, { label: 'label', types: { colour: 'numeric' } })).toThrow(
      /row 1, column "colour": "red" is not a number \(declared numeric\)|row 2, column "colour": "green" is not a number/,
    );
    expect(() => parseCsvDataset('m', text, { label: 'label', types: { label: 'numeric' } })).toThrow(
      /"label" is the label column/,
    );
    expect(() => parseCsvDataset('m', text, { types: { nope: 'numeric' } })).toThrow(/no column "nope"/);
  });

  it('a table with nothing left to learn from is refused with the reasons', () => {
    expect(() => parseCsvDataset('m', csv(['a,b,c', '1,x,p', '2,x,q', '3,x,p', '4,x,q', '5,x,p', '6,x,q']))).toThrow(
      /no usable feature column: every one was dropped \("a": id-like, "b": constant\)/,
    );
  });

  it('JSON rows may hold strings, booleans and null, with a schema and markers', () => {
    const d = parseJsonDataset('j', {
      features: ['kind', 'v', 'flag'],
      rows: [
        ['a', 1, true],
        ['b', null, false],
        ['a', 3, true],
        ['-', 4, false],
        ['b', 5, true],
        ['a', 6, null],
      ],
      labels: ['x', 'y', 'x', 'y', 'x', 'y'],
      schema: { v: 'numeric' },
      missing: ['-'],
    });
    expect(d.schema.map((c) => [c.name, c.type])).toEqual([
      ['kind', 'categorical'],
      ['v', 'numeric'],
      ['flag', 'boolean'],
    ]);
    expect(cells(d, 'kind')).toEqual(['a', 'b', 'a', null, 'b', 'a']);
  });

  it('parses ?types as col:type pairs or JSON', () => {
    expect(parseTypes('zip:categorical, note:drop')).toEqual({ zip: 'categorical', note: 'drop' });
    expect(parseTypes('{"a,b:c":"boolean"}')).toEqual({ 'a,b:c': 'boolean' });
    expect(() => parseTypes('zip:text')).toThrow(/"text" is not one of numeric, categorical, boolean, drop/);
    expect(() => parseTypes('zip')).toThrow(/"zip" is not column:type/);
  });
});
