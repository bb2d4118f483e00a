/**
 * A model version's confusion matrix on its dataset's test split: the per-class detail behind the test
 * accuracy recorded at promotion. The study coordinator measured that accuracy on the same rows with the
 * same folded predictor, so the diagonal over the total reproduces it.
 */
import type { Part, Split } from '../../models/dataset';
import type { Predictor } from '../../models/infer';

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

/**
 * The split stores standardised rows, but a serving predictor has the standardisation folded into its
 * first layer and takes raw features. Float32 like the coordinator's own conversion, so both see
 * identical inputs.
 */
export function rawFeatures(split: Split, part: Part): Float32Array {
  const { mean, std } = split.standardisation;
  const f = split.features;
  return part.x.map((v, i) => v * std[i % f]! + mean[i % f]!);
}

/** Counts (actual, predicted) pairs; predicted is the arg-max class, the lowest index on ties. */
export function confusionMatrix(probs: Float32Array, actual: Int32Array, classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let r = 0; r < actual.length; r++) {
    const row = probs.subarray(r * classes, (r + 1) * classes);
    let arg = 0;
    for (let c = 1; c < classes; c++) if (row[c]! > row[arg]!) arg = c;
    m[actual[r]!]![arg]! += 1;
  }
  return m;
}

export function evaluateOnTest(
  meta: { model: string; version: number; dataset: string; featureNames: string[]; classNames: string[] },
  predictor: Predictor,
  split: Split,
): Evaluation {
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((v, i) => v === b[i]);
  if (!same(meta.featureNames, split.featureNames) || !same(meta.classNames, split.classNames)) {
    throw new SplitMismatchError(
      `${meta.model} v${meta.version} has other features or classes than dataset "${meta.dataset}" has now`,
    );
  }
  const probs = predictor.predictProba(rawFeatures(split, split.test), split.test.rows);
  const confusion = confusionMatrix(probs, split.test.y, split.classes);
  const hits = confusion.reduce((sum, row, i) => sum + row[i]!, 0);
  return {
    model: meta.model,
    version: meta.version,
    dataset: meta.dataset,
    split: 'test',
    rows: split.test.rows,
    classNames: split.classNames,
    confusion,
    accuracy: hits / split.test.rows,
  };
}
