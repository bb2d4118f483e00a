/**
 * Resumable training for "panda mode": one model trained a few epochs at a time, its whole state
 * (weights with BN statistics, optimizer moments, the batch-order and dropout streams, the epoch counter)
 * handed back as plain data between slices, so a slice can run in another invocation or isolate.
 *
 * The epoch itself is ./epoch.ts, shared with train(); the seeding is the same, so a session trained in
 * slices with no adjustment reproduces train()'s history exactly, which the tests check.
 */
import type { ModelConfig } from './config';
import { createFlatOptimizer, type OptimizerState } from './engine/optimizers';
import { epochRunner, type EpochRecord, type TrainingData } from './epoch';
import { allFinite, initialWeights, type NetworkWeights } from './network';
import { mixSeed, Rng, type RngState } from './random';

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

/** Trains up to `epochs` more epochs (never past config.epochs) and returns the state after them. */
export function trainSlice(state: SessionState, data: TrainingData, epochs: number): SliceResult {
  const { config } = state;
  const orderRng = Rng.fromState(state.orderRng);
  const maskRng = Rng.fromState(state.maskRng);
  const runner = epochRunner(config, data, orderRng, maskRng);
  const { engine } = runner;
  const optimizer = createFlatOptimizer(config);
  optimizer.importState(state.optimizer);
  const records: EpochRecord[] = [];
  try {
    engine.setWeights(state.weights);
    const last = Math.min(config.epochs, state.epoch + epochs);
    for (let epoch = state.epoch; epoch < last; epoch++) {
      const record = runner.run(epoch, optimizer);
      records.push(record);
      if (!Number.isFinite(record.loss) || !Number.isFinite(record.valLoss)) return { state, records, diverged: true };
    }
    const weights = engine.getWeights();
    if (!allFinite(weights)) return { state, records, diverged: true };
    return {
      state: {
        ...state,
        epoch: last,
        weights,
        optimizer: optimizer.exportState(),
        orderRng: orderRng.state(),
        maskRng: maskRng.state(),
      },
      records,
      diverged: false,
    };
  } finally {
    engine.dispose();
  }
}
