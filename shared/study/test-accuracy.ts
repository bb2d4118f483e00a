/**
 * Test accuracy measured the way the model will be served: BN folded into the weights, the
 * standardisation folded into the first layer, raw features in. Used at promotion (studies and sessions)
 * and by the ASHA experiment, so every reported test accuracy means the same thing.
 */
import type { Split } from '../../models/dataset';
import { foldNetwork } from '../../models/fold';
import { Predictor } from '../../models/infer';
import { specOf, type NetworkWeights } from '../../models/network';
import type { ModelConfig } from '../../models/config';

export function testAccuracy(weights: NetworkWeights, config: ModelConfig, split: Split): number {
  const predictor = new Predictor(foldNetwork(weights, specOf(config), split.standardisation));
  let hits = 0;
  try {
    const { mean, std } = split.standardisation;
    const raw = split.test.x.map((v, i) => v * std[i % split.features]! + mean[i % split.features]!);
    const probs = predictor.predictProba(raw, split.test.rows);
    for (let r = 0; r < split.test.rows; r++) {
      const row = probs.subarray(r * split.classes, (r + 1) * split.classes);
      let arg = 0;
      for (let c = 1; c < row.length; c++) if (row[c]! > row[arg]!) arg = c;
      if (arg === split.test.y[r]) hits++;
    }
  } finally {
    predictor.dispose();
  }
  return hits / split.test.rows;
}
