/**
 * Test accuracy measured the way the model will be served: BN folded into the weights, the
 * standardisation folded into the first layer, raw features in. Used at promotion (studies and sessions)
 * and by the ASHA experiment, so every reported test accuracy means the same thing.
 */
import type { Part, Split } from '../../models/dataset';
import { foldNetwork } from '../../models/fold';
import { Predictor } from '../../models/infer';
import { specOf, type NetworkWeights } from '../../models/network';
import type { ModelConfig } from '../../models/config';
import { EmptySplitError } from '../../models/epoch';

/** A part's rows as they arrived (the split stores them standardised); float32 like serving's input. */
export function rawRows(split: Split, part: Part): Float32Array {
  const { mean, std } = split.standardisation;
  return part.x.map((v, i) => v * std[i % split.features]! + mean[i % split.features]!);
}

/** Arg-max class per row (the lowest index on ties), against `expected`: 1 where they agree. */
export function correctRows(probs: Float32Array, classes: number, expected: Int32Array): Uint8Array {
  const out = new Uint8Array(expected.length);
  for (let r = 0; r < expected.length; r++) {
    const row = probs.subarray(r * classes, (r + 1) * classes);
    let arg = 0;
    for (let c = 1; c < classes; c++) if (row[c]! > row[arg]!) arg = c;
    out[r] = arg === expected[r] ? 1 : 0;
  }
  return out;
}

/** Per test row, 1 where the served model is right: the challenger's side of a paired comparison. */
export function testCorrectness(weights: NetworkWeights, config: ModelConfig, split: Split): Uint8Array {
  // 0 hits of 0 rows is no measurement at all, not an accuracy of NaN.
  if (split.test.rows === 0) throw new EmptySplitError('the test split has no rows; nothing to measure');
  const predictor = new Predictor(foldNetwork(weights, specOf(config), split.standardisation));
  try {
    return correctRows(
      predictor.predictProba(rawRows(split, split.test), split.test.rows),
      split.classes,
      split.test.y,
    );
  } finally {
    predictor.dispose();
  }
}

export function accuracyOf(correct: Uint8Array): number {
  let hits = 0;
  for (const v of correct) hits += v;
  return hits / correct.length;
}

export function testAccuracy(weights: NetworkWeights, config: ModelConfig, split: Split): number {
  return accuracyOf(testCorrectness(weights, config, split));
}
