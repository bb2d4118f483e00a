/**
 * One epoch of mini-batch training on the engine, shared by train() (a whole run in one call) and the
 * session trainer (a few epochs per slice): the same seeded streams in the same order, so both produce
 * the same history for the same seed.
 */
import { classWeightsFor, learningRateAt, type ModelConfig } from './config';
import type { Part } from './dataset';
import { Engine, engineSpec, type MaskSource } from './engine/engine';
import type { FlatOptimizer } from './engine/optimizers';
import type { Rng } from './random';

export interface TrainingData {
  features: number;
  classes: number;
  train: Part;
  validation: Part;
}

export interface EpochRecord {
  epoch: number;
  learningRate: number;
  /** Mean training loss over the epoch's batches (data loss + L1/L2 penalty), dropout active. */
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
  ms: number;
}

/** Rows per evaluation pass beyond the batch size: validation runs in a few large matmuls. */
const EVAL_ROWS = 512;

function classCounts(y: Int32Array, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const c of y) counts[c]! += 1;
  return counts;
}

/** Inverted-dropout masks drawn from the seeded stream: 0 or 1/(1-p), layer by layer, row-major. */
function dropoutMasks(rng: Rng, rate: number): MaskSource {
  if (rate <= 0) return null;
  const keep = 1 - rate;
  const scale = 1 / keep;
  return (_layer, mask, n) => {
    for (let i = 0; i < n; i++) mask[i] = rng.next() < keep ? scale : 0;
  };
}

/** What an epoch needs besides its number: the engine sized for the data, and the seeded streams. */
export interface EpochRunner {
  engine: Engine;
  run(epoch: number, optimizer: FlatOptimizer): EpochRecord;
}

/**
 * Training or validation without rows. Said plainly: averaging over no rows gives 0/0, a non-finite
 * loss, which would otherwise be recorded as `diverged` — a wrong diagnosis of a data problem.
 */
export class EmptySplitError extends Error {
  override name = 'EmptySplitError';
}

export function epochRunner(config: ModelConfig, data: TrainingData, orderRng: Rng, maskRng: Rng): EpochRunner {
  const n = data.train.rows;
  if (n === 0 || data.validation.rows === 0)
    throw new EmptySplitError(
      `the ${n === 0 ? 'training' : 'validation'} split has no rows; nothing to ${n === 0 ? 'train on' : 'evaluate'}`,
    );
  const weightsPerClass = classWeightsFor(config, classCounts(data.train.y, data.classes));
  const masks = dropoutMasks(maskRng, config.dropout);
  const capacity = Math.max(Math.min(config.batchSize, n), Math.min(EVAL_ROWS, Math.max(data.validation.rows, 1)));
  const engine = new Engine(engineSpec(config, data.features, data.classes), capacity, config.dropout > 0);
  const order = new Int32Array(n);
  return {
    engine,
    run(epoch, optimizer) {
      const started = performance.now();
      const lr = learningRateAt(config, epoch);
      for (let i = 0; i < n; i++) order[i] = i;
      orderRng.shuffle(order);
      let lossSum = 0;
      let correct = 0;
      for (let start = 0; start < n; start += config.batchSize) {
        const rows = Math.min(n, start + config.batchSize) - start;
        engine.stage(data.train.x, data.train.y, order, start, rows);
        engine.forward(rows, true, masks);
        const sums = engine.loss(rows, weightsPerClass, true);
        // The reported loss includes the penalty of the weights this step started from, as fit's does.
        lossSum += sums.loss + engine.penalty() * rows;
        correct += sums.hits;
        engine.backward(rows);
        engine.update(optimizer, lr);
      }
      const val = engine.evaluate(data.validation.x, data.validation.y, data.validation.rows);
      return {
        epoch: epoch + 1,
        learningRate: lr,
        loss: lossSum / n,
        accuracy: correct / n,
        valLoss: val.loss,
        valAccuracy: val.accuracy,
        ms: performance.now() - started,
      };
    },
  };
}
