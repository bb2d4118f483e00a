import { describe, expect, it } from 'vitest';
import type { Split } from '../../models/dataset';
import { championInputs } from '../../shared/study/champion';
import type { ModelVersion } from '../../shared/study/types';

/** A split whose two test rows are stored standardised with mean 10 and std 2 per feature. */
function split(featureNames: string[], classNames: string[], raw: number[][], y: number[]): Split {
  const f = featureNames.length;
  const standardisation = { mean: new Array<number>(f).fill(10), std: new Array<number>(f).fill(2) };
  const x = Float32Array.from(raw.flat(), (v) => (v - 10) / 2);
  const part = { x, y: Int32Array.from(y), rows: raw.length };
  return {
    featureNames,
    classNames,
    features: f,
    classes: classNames.length,
    train: part,
    validation: part,
    test: part,
    standardisation,
    seed: 42,
  };
}

const champion = (featureNames: string[], classNames: string[]) =>
  ({ version: 4, featureNames, classNames }) as unknown as ModelVersion;

describe("the champion's view of the challenger's test rows", () => {
  const s = split(
    ['a', 'b', 'c'],
    ['no', 'yes'],
    [
      [12, 14, 16],
      [8, 6, 4],
    ],
    [1, 0],
  );

  it('picks its own features by name, in its own order, as raw values', () => {
    const got = championInputs(champion(['c', 'a'], ['no', 'yes']), s);
    expect(got).toEqual({ ok: true, x: Float32Array.from([16, 12, 4, 8]), labels: Int32Array.from([1, 0]) });
  });

  it('maps the true labels into its own class order by name', () => {
    const got = championInputs(champion(['a', 'b', 'c'], ['yes', 'no']), s);
    expect(got.ok && Array.from(got.labels)).toEqual([0, 1]);
  });

  it('is not comparable when a feature it reads is gone, naming it', () => {
    expect(championInputs(champion(['a', 'z'], ['no', 'yes']), s)).toEqual({
      ok: false,
      reason: '1 of its 2 input features are not in the dataset ("z")',
    });
  });

  it('is not comparable when the classes differ', () => {
    const got = championInputs(champion(['a'], ['no', 'yes', 'maybe']), s);
    expect(got.ok).toBe(false);
    expect(!got.ok && got.reason).toMatch(/its classes \(no, yes, maybe\) differ from the dataset's \(no, yes\)/);
  });
});
