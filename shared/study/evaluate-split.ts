/**
 * A model scored on a split the way it will be served: BN folded into the weights, the standardisation
 * folded into the first layer, raw features in. Used at promotion (studies and sessions, through
 * candidate.ts), by the promotion guard for the champion's side and by the ASHA experiment, so every
 * reported test accuracy means the same thing; /evaluation scores the served predictor with the same
 * scoreRows, so its confusion matrix reproduces the accuracy recorded at promotion.
 */
import type { ModelConfig } from '../../models/config';
import type { Part, Split } from '../../models/dataset';
import { EmptySplitError } from '../../models/epoch';
import { foldNetwork } from '../../models/fold';
import { Predictor } from '../../models/infer';
import { specOf, type NetworkWeights } from '../../models/network';
import { scoreRows, type SplitScore } from '../../models/scoring';

/** A part's rows as they arrived (the split stores them standardised); float32 like serving's input. */
export function rawRows(split: Split, part: Part): Float32Array {
  const { mean, std } = split.standardisation;
  return part.x.map((v, i) => v * std[i % split.features]! + mean[i % split.features]!);
}

/** The served model's score on the test rows: per-row correctness, confusion matrix and accuracy. */
export function evaluateTest(weights: NetworkWeights, config: ModelConfig, split: Split): SplitScore {
  // 0 hits of 0 rows is no measurement at all, not an accuracy of NaN.
  if (split.test.rows === 0) throw new EmptySplitError('the test split has no rows; nothing to measure');
  const predictor = new Predictor(foldNetwork(weights, specOf(config), split.standardisation));
  try {
    return scoreRows(predictor.predictProba(rawRows(split, split.test), split.test.rows), split.test.y, split.classes);
  } finally {
    predictor.dispose();
  }
}
