/**
 * Resumable training for "panda mode": one model trained a few epochs at a time, its whole state
 * (weights with BN statistics, optimizer moments, the batch-order and dropout streams, the epoch counter)
 * handed back as plain data between slices, so a slice can run in another invocation or isolate.
 *
 * The epoch body mirrors train() in ./train.ts on purpose (that loop keeps its state in locals and is
 * owned with the engine); the seeding is the same, so a session trained in slices with no adjustment
 * reproduces train()'s history exactly, which the tests check.
 */
import { classWeightsFor, learningRateAt, type ModelConfig } from './config';
import { Engine, engineSpec, type MaskSource } from './engine/engine';
import { createFlatOptimizer, type OptimizerState } from './engine/optimizers';
import { allFinite, initialWeights, type NetworkWeights } from './network';
import { mixSeed, Rng, type RngState } from './random';
import type { EpochRecord, TrainingData } from './train';

export interface SessionState {
  /** The hyperparameters in effect for the next epoch (adjustable between slices). */
  config: ModelConfig;
  seed: number;
  /** Epochs trained so far. */
  epoch: number;
  weights: NetworkWeights;
  optimizer: OptimizerState;
  orderRng: RngState;
  maskRng: RngState;
}

export interface SliceResult {
  state: SessionState;
  records: EpochRecord[];
  /** A non-finite loss or weights: the state is the one before the failing epoch and must not continue. */
  diverged: boolean;
}

/**
 * Trainable parameters plus BN moving statistics: the float count of the largest stored value (the
 * weights; each optimizer slot holds one float per trainable parameter, so no more).
 */
export function sessionFloats(config: ModelConfig, features: number, classes: number): number {
  const sizes = [features, ...Array.from({ length: config.depth }, () => config.width), classes];
  let floats = 0;
  for (let l = 1; l < sizes.length; l++) {
    floats += sizes[l - 1]! * sizes[l]! + sizes[l]!;
    if (config.batchNorm && l < sizes.length - 1) floats += 4 * sizes[l]!;
  }
  return floats;
}

/** Rows per evaluation pass beyond the batch size (as train()). */
const EVAL_ROWS = 512;

/** The state train(config, data, seed) starts from. */
export function startSession(config: ModelConfig, data: TrainingData, seed: number): SessionState {
  return {
    config,
    seed,
    epoch: 0,
    weights: initialWeights(config, data.features, data.classes, mixSeed(seed, 1)),
    optimizer: createFlatOptimizer(config).exportState(),
    orderRng: new Rng(mixSeed(seed, 2)).state(),
    maskRng: new Rng(mixSeed(seed, 3)).state(),
  };
}

function dropoutMasks(rng: Rng, rate: number): MaskSource {
  if (rate <= 0) return null;
  const keep = 1 - rate;
  const scale = 1 / keep;
  return (_layer, mask, n) => {
    for (let i = 0; i < n; i++) mask[i] = rng.next() < keep ? scale : 0;
  };
}

function classCounts(y: Int32Array, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const c of y) counts[c]! += 1;
  return counts;
}

/** Trains up to `epochs` more epochs (never past config.epochs) and returns the state after them. */
export function trainSlice(state: SessionState, data: TrainingData, epochs: number): SliceResult {
  const { config } = state;
  const n = data.train.rows;
  const weightsPerClass = classWeightsFor(config, classCounts(data.train.y, data.classes));
  const orderRng = Rng.fromState(state.orderRng);
  const maskRng = Rng.fromState(state.maskRng);
  const masks = dropoutMasks(maskRng, config.dropout);
  const capacity = Math.max(Math.min(config.batchSize, n), Math.min(EVAL_ROWS, Math.max(data.validation.rows, 1)));
  const engine = new Engine(engineSpec(config, data.features, data.classes), capacity, config.dropout > 0);
  const optimizer = createFlatOptimizer(config);
  optimizer.importState(state.optimizer);
  const records: EpochRecord[] = [];
  const order = new Int32Array(n);
  try {
    engine.setWeights(state.weights);
    const last = Math.min(config.epochs, state.epoch + epochs);
    for (let epoch = state.epoch; epoch < last; epoch++) {
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
        lossSum += sums.loss + engine.penalty() * rows;
        correct += sums.hits;
        engine.backward(rows);
        engine.update(optimizer, lr);
      }
      const val = engine.evaluate(data.validation.x, data.validation.y, data.validation.rows);
      const record: EpochRecord = { epoch: epoch + 1, learningRate: lr, loss: lossSum / n, accuracy: correct / n, valLoss: val.loss, valAccuracy: val.accuracy, ms: performance.now() - started };
      records.push(record);
      if (!Number.isFinite(record.loss) || !Number.isFinite(record.valLoss)) return { state, records, diverged: true };
    }
    const weights = engine.getWeights();
    if (!allFinite(weights)) return { state, records, diverged: true };
    return {
      state: { ...state, epoch: last, weights, optimizer: optimizer.exportState(), orderRng: orderRng.state(), maskRng: maskRng.state() },
      records,
      diverged: false,
    };
  } finally {
    engine.dispose();
  }
}
