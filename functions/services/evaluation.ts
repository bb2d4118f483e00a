/**
 * A model version's confusion matrix on its dataset's test split: the per-class detail behind the test
 * accuracy recorded at promotion. The study coordinator measured that accuracy on the same rows with the
 * same folded predictor, so the diagonal over the total reproduces it.
 */
import { inputNames, type Split } from '../../models/dataset';
import type { ProbabilityModel } from '../../models/infer';
import type { Preprocessing } from '../../models/preprocess';
import { scoreRows } from '../../models/scoring';
import { rawRows } from '../../shared/study/evaluate-split';

/** The version was trained on a split this deployment no longer derives (another seed or feature set). */
export class SplitMismatchError extends Error {
  override name = 'SplitMismatchError';
}

export interface Evaluation {
  model: string;
  version: number;
  dataset: string;
  split: 'test';
  rows: number;
  classNames: string[];
  /** confusion[actual][predicted]: row counts. */
  confusion: number[][];
  accuracy: number;
}

export function evaluateOnTest(
  meta: {
    model: string;
    version: number;
    dataset: string;
    featureNames: string[];
    classNames: string[];
    preprocessing?: Preprocessing;
  },
  predictor: ProbabilityModel,
  split: Split,
): Evaluation {
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((v, i) => v === b[i]);
  // A table version's preprocessing is refitted with the split (deterministic): it must be the stored one.
  const samePreprocessing =
    JSON.stringify(meta.preprocessing ?? null) === JSON.stringify(split.table?.preprocessing ?? null);
  if (!same(meta.featureNames, inputNames(split)) || !same(meta.classNames, split.classNames) || !samePreprocessing) {
    throw new SplitMismatchError(
      `${meta.model} v${meta.version} has other features or classes than dataset "${meta.dataset}" has now`,
    );
  }
  // The serving predictor has the standardisation folded in: raw rows, as at promotion.
  const probs = predictor.predictProba(rawRows(split, split.test), split.test.rows);
  const { confusion, accuracy } = scoreRows(probs, split.test.y, split.classes);
  return {
    model: meta.model,
    version: meta.version,
    dataset: meta.dataset,
    split: 'test',
    rows: split.test.rows,
    classNames: split.classNames,
    confusion,
    accuracy,
  };
}
