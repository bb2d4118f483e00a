import { describe, expect, it } from 'vitest';
import { DATASET_LIMITS, DatasetError, parseCsvDataset, parseJsonDataset } from '../../models/tabular';

const csv = (lines: string[]) => lines.join('\n');

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
    expect(d).toMatchObject({ featureNames: ['a', 'b'], classNames: ['setosa', 'virginica'], rows: 6, features: 2 });
    expect(Array.from(d.x)).toEqual([1, 2000, 3, 4000, 5, 6000, 7, 8000, 9, 1, 2, 3]);
    expect(Array.from(d.y)).toEqual([0, 1, 0, 1, 0, 1]);
  });

  it('handles quoted fields, CRLF, a BOM, blank lines and a label column named by ?label', () => {
    const text =
      '\uFEFF"label","x, with comma",y\r\n"b",1.5,-2e3\r\n\r\na,"3",4\r\nb,5,6\r\na,7,8\r\nb,0,0\r\na,1,1\r\n';
    const d = parseCsvDataset('t', text, 'label');
    expect(d.featureNames).toEqual(['x, with comma', 'y']);
    expect(Array.from(d.x)).toEqual([1.5, -2000, 3, 4, 5, 6, 7, 8, 0, 0, 1, 1]);
    expect(d.classNames).toEqual(['a', 'b']);
    expect(Array.from(d.y)).toEqual([1, 0, 1, 0, 1, 0]);
  });

  it('orders integer labels numerically', () => {
    const d = parseCsvDataset('t', csv(['x,y', '1,10', '2,2', '3,10', '4,2', '5,1', '6,1', '7,1', '8,2', '9,10']));
    expect(d.classNames).toEqual(['1', '2', '10']);
  });

  const rejects: [string, string, RegExp][] = [
    ['ragged row', csv(['a,b,c', '1,2,x', '1,2']), /row 2 has 2 columns, the header has 3/],
    ['non-numeric feature', csv(['a,b,c', '1,2,x', '1,abc,y']), /row 2, column "b": "abc" is not a number/],
    ['hex is not a number', csv(['a,b,c', '1,0x10,x', '1,2,y']), /row 1, column "b": "0x10" is not a number/],
    ['non-finite', csv(['a,b,c', '1,1e400,x', '1,2,y']), /row 1, column "b": 1e400 is not finite/],
    ['missing value', csv(['a,b,c', '1,,x', '1,2,y']), /row 1, column "b": missing value/],
    ['missing label', csv(['a,b,c', '1,2,', '1,2,y']), /row 1, column "c": missing label/],
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
      expect(() => parseCsvDataset('t', text, what === 'unknown label column' ? 'nope' : undefined)).toThrow(message);
      expect(() => parseCsvDataset('t', text, what === 'unknown label column' ? 'nope' : undefined)).toThrow(
        DatasetError,
      );
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
    expect(d).toMatchObject({ rows: 5000, features: 784 });
    expect(d.classNames).toHaveLength(10);
    expect(d.x[784 * 4999 + 783]).toBe((4999 * 7 + 783) % 256);
  });
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
      'string value',
      { features: ['a'], rows: [[1], ['2']], labels: ['x', 'y'] },
      /row 2, column "a": "2" is not a finite number/,
    ],
    ['null value', { features: ['a'], rows: [[1], [null]], labels: ['x', 'y'] }, /row 2, column "a": missing value/],
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
