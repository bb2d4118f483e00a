import { describe, expect, it } from 'vitest';
import {
  binLabels,
  categorySketch,
  InstanceBinner,
  MAX_CATEGORY_BINS,
  numericSketch,
  tableSketches,
} from '../../shared/monitor/columns';
import { psi } from '../../shared/monitor/psi';
import { DEFAULT_MISSING_MARKERS, fitPreprocessing, inferColumns, tableFromCells } from '../../models/preprocess';

const MARKERS = DEFAULT_MISSING_MARKERS;
const repeat = (counts: Record<string, number>) =>
  Object.entries(counts).flatMap(([k, n]) => new Array<string>(n).fill(k));

/** Served counts of `values` for column 0 of `sketch`. */
function served(sketch: ReturnType<typeof categorySketch>, values: unknown[]): number[] {
  const counts = [new Array<number>(sketch.counts.length).fill(0)];
  const binner = new InstanceBinner([sketch], MARKERS);
  for (const v of values) binner.add([v], counts);
  return counts[0]!;
}

describe('categorical drift sketches', () => {
  const train = [...repeat({ Biscoe: 160, Dream: 120, Torgersen: 50 }), ...new Array<null>(10).fill(null)];
  const sketch = categorySketch('island', 'categorical', train);

  it('bins training categories most frequent first, then (other), (missing), (unseen)', () => {
    expect(sketch.kind).toBe('categorical');
    expect(binLabels(sketch)).toEqual(['Biscoe', 'Dream', 'Torgersen', '(other)', '(missing)', '(unseen)']);
    expect(sketch.counts).toEqual([160, 120, 50, 0, 10, 0]);
  });

  it('reads served values as the model does: markers are missing, strings trimmed, new values unseen', () => {
    expect(served(sketch, ['Dream', ' Dream ', 'NA', null, undefined, '', 'Atlantis', 7])).toEqual([0, 2, 0, 0, 4, 2]);
  });

  it('PSI: about 0 for the training mix, hand-computed for a shift, finite when only unseen values arrive', () => {
    const same = served(sketch, train);
    expect(psi(sketch.counts, same)).toBe(0);
    // Everything moves to Dream: shares e = (160, 120, 50, 0, 10, 0) / 340, a = (0, 1, 0, 0, 0, 0), floored at 1e-4.
    const toDream = served(sketch, new Array(340).fill('Dream'));
    const e = sketch.counts.map((c) => Math.max(c / 340, 1e-4));
    const a = [1e-4, 1, 1e-4, 1e-4, 1e-4, 1e-4];
    const expected = e.reduce((s, ei, i) => s + (a[i]! - ei) * Math.log(a[i]! / ei), 0);
    expect(psi(sketch.counts, toDream)).toBeCloseTo(expected, 10);
    expect(psi(sketch.counts, toDream)).toBeGreaterThan(0.2);
    // No training row had an unseen value and no served row has a seen one: large, but a number.
    const unseen = psi(sketch.counts, served(sketch, new Array(100).fill('Atlantis')));
    expect(Number.isFinite(unseen)).toBe(true);
    expect(unseen).toBeGreaterThan(5);
  });

  it('a long tail shares (other), and a value seen only in that tail is not unseen', () => {
    const many = Array.from({ length: MAX_CATEGORY_BINS + 10 }, (_, i) => `c${String(i).padStart(3, '0')}`);
    const s = categorySketch('code', 'categorical', [...many, ...many.slice(0, MAX_CATEGORY_BINS)]);
    expect(s.categories).toHaveLength(MAX_CATEGORY_BINS);
    expect(s.counts[MAX_CATEGORY_BINS]).toBe(10);
    expect(served(s, [many[MAX_CATEGORY_BINS + 3], 'zzz'])).toEqual([
      ...new Array<number>(MAX_CATEGORY_BINS).fill(0),
      1,
      0,
      1,
    ]);
  });

  it('booleans bin as false, true, (other: always empty), (missing), (unseen) whatever their spelling', () => {
    const b = categorySketch('smoker', 'boolean', [...repeat({ yes: 3, No: 5 }), null]);
    expect(b.counts).toEqual([5, 3, 0, 1, 0]);
    expect(served(b, [true, 'Yes', 'n', 'NA', 'perhaps'])).toEqual([1, 2, 0, 1, 1]);
  });
});

describe('numeric sketches of a table column', () => {
  it('decile bins of the present values and a missing bin', () => {
    const values = [...Array.from({ length: 100 }, (_, i) => i), NaN, NaN];
    const s = numericSketch('x', values, true);
    expect(s.counts).toHaveLength(11);
    expect(s.counts[10]).toBe(2);
    expect(binLabels(s).at(-1)).toBe('(missing)');
    const counts = [new Array<number>(11).fill(0)];
    new InstanceBinner([s], MARKERS).add({ x: 'NA' }, counts);
    new InstanceBinner([s], MARKERS).add({ x: '99' }, counts);
    expect(counts[0]![10]).toBe(1);
    expect(counts[0]![9]).toBe(1);
  });

  it('a mixed table gets one sketch per input column with its kind, from the training rows only', () => {
    const table = tableFromCells(
      ['size', 'colour', 'ok'],
      [
        ['1', '2', '3', 'NA', '5', '6'],
        ['red', 'red', 'blue', 'blue', '?', 'green'],
        ['yes', 'no', 'yes', 'yes', 'no', 'no'],
      ],
    );
    const { schema } = inferColumns(table);
    const train = [0, 1, 2, 3];
    const pre = fitPreprocessing(table, schema, train);
    const sketches = tableSketches(pre.columns, table, train);
    expect(sketches.map((s) => [s.feature, s.kind])).toEqual([
      ['size', 'numeric'],
      ['colour', 'categorical'],
      ['ok', 'boolean'],
    ]);
    expect(sketches[1]!.categories).toEqual(['blue', 'red']);
    expect(sketches[1]!.counts).toEqual([2, 2, 0, 0, 0]);
    expect(sketches[2]!.counts).toEqual([1, 3, 0, 0, 0]);
    expect(sketches[0]!.counts.at(-1)).toBe(1);
  });
});
