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
  /**
   * The epoch's time, set by the caller from a clock read across I/O: on Workers the clock stands still during
   * synchronous compute, so a time read inside the epoch would be 0 there (the runner reads no clock).
   */
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

/**
 * Sums of an epoch that has not finished: the rows of its shuffled order already trained, the training loss
 * and hits so far, and the time earlier slices were measured to have spent on it. A session slice that stops
 * mid-epoch stores these.
 */
export interface EpochPartial {
  rowsDone: number;
  lossSum: number;
  correct: number;
  ms: number;
}

/** What an epoch needs besides its number: the engine sized for the data, and the seeded streams. */
export interface EpochRunner {
  engine: Engine;
  /** Mini-batches in one epoch of this configuration. */
  batchesPerEpoch: number;
  /**
   * Starts `epoch` (0-based): draws its batch order from the order stream. With `resume`, the first
   * `resume.rowsDone` rows of that order count as trained already (the stream must then be where it
   * was when that epoch began, so the order is the same).
   */
  begin(epoch: number, resume?: EpochPartial): void;
  /** Whether the begun epoch has rows left to train. */
  remaining(): boolean;
  /** Trains the next mini-batch of the begun epoch. */
  step(optimizer: FlatOptimizer): void;
  /** Where the begun epoch stands. */
  partial(): EpochPartial;
  /** Evaluates on the validation rows and closes the begun epoch. */
  finish(): EpochRecord;
  /** begin + every step + finish. */
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
  let current = -1;
  let lr = 0;
  let sums: EpochPartial = { rowsDone: 0, lossSum: 0, correct: 0, ms: 0 };
  const runner: EpochRunner = {
    engine,
    batchesPerEpoch: Math.ceil(n / config.batchSize),
    begin(epoch, resume) {
      lr = learningRateAt(config, epoch);
      for (let i = 0; i < n; i++) order[i] = i;
      orderRng.shuffle(order);
      current = epoch;
      sums = resume ? { ...resume } : { rowsDone: 0, lossSum: 0, correct: 0, ms: 0 };
    },
    remaining() {
      return current >= 0 && sums.rowsDone < n;
    },
    step(optimizer) {
      if (!runner.remaining()) throw new Error('step() outside an epoch with rows left');
      const start = sums.rowsDone;
      const rows = Math.min(n, start + config.batchSize) - start;
      engine.stage(data.train.x, data.train.y, order, start, rows);
      engine.forward(rows, true, masks);
      const batch = engine.loss(rows, weightsPerClass, true);
      // The reported loss includes the penalty of the weights this step started from, as fit's does.
      sums.lossSum += batch.loss + engine.penalty() * rows;
      sums.correct += batch.hits;
      engine.backward(rows);
      engine.update(optimizer, lr);
      sums.rowsDone += rows;
    },
    partial() {
      return { ...sums };
    },
    finish() {
      if (current < 0) throw new Error('finish() before begin()');
      const val = engine.evaluate(data.validation.x, data.validation.y, data.validation.rows);
      const record: EpochRecord = {
        epoch: current + 1,
        learningRate: lr,
        loss: sums.lossSum / n,
        accuracy: sums.correct / n,
        valLoss: val.loss,
        valAccuracy: val.accuracy,
        ms: sums.ms,
      };
      current = -1;
      return record;
    },
    run(epoch, optimizer) {
      runner.begin(epoch);
      while (runner.remaining()) runner.step(optimizer);
      return runner.finish();
    },
  };
  return runner;
}
