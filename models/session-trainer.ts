/**
 * Resumable training for "panda mode": one model trained a few mini-batches at a time, its whole state
 * (weights with BN statistics, optimizer moments, the batch-order and dropout streams, the epoch counter
 * and, when a slice stops inside an epoch, that epoch's position and partial sums) handed back as plain
 * data between slices, so a slice can run in another invocation or isolate.
 *
 * Slices are counted in mini-batches, not epochs: on a large dataset or network one epoch can take longer
 * than an invocation should, and the caller sizes a slice by measured time.
 *
 * The epoch itself is ./epoch.ts, shared with train(); the seeding is the same, so a session trained in
 * slices with no adjustment reproduces train()'s history exactly, wherever the slices cut, which the
 * tests check.
 */
import type { ModelConfig } from './config';
import { createFlatOptimizer, type OptimizerState } from './engine/optimizers';
import { epochRunner, type EpochPartial, type EpochRecord, type TrainingData } from './epoch';
import { allFinite, initialWeights, type NetworkWeights } from './network';
import { mixSeed, Rng, type RngState } from './random';

/** An epoch a slice stopped inside: the hyperparameters it began with (they hold until it ends) and its sums. */
export interface EpochCursor extends EpochPartial {
  config: ModelConfig;
}

export interface SessionState {
  /** The hyperparameters in effect for the next epoch (adjustable between slices). */
  config: ModelConfig;
  seed: number;
  /** Epochs completed so far. */
  epoch: number;
  /** The epoch in progress (number `epoch`, 0-based), or null at an epoch boundary. */
  cursor: EpochCursor | null;
  weights: NetworkWeights;
  optimizer: OptimizerState;
  /** The batch-order stream as it stood when the current (or next) epoch began, before its shuffle. */
  orderRng: RngState;
  maskRng: RngState;
}

export interface SliceBudget {
  /** At most this many mini-batches. */
  batches?: number;
  /** At most this many epochs completed. */
  epochs?: number;
}

export interface SliceResult {
  /** The state after the slice (with `diverged`, the weights are not finite: do not continue from it). */
  state: SessionState;
  /** Epochs completed by this slice. */
  records: EpochRecord[];
  /** Mini-batches trained by this slice. */
  batches: number;
  /** This slice's mini-batches of each epoch in `records` (the rest of `batches` went to the cursor's epoch). */
  epochBatches: number[];
  /** A non-finite loss or weights. */
  diverged: boolean;
}

/** Trainable parameters plus BN moving statistics: the floats of a session's weights. */
export function sessionFloats(config: ModelConfig, features: number, classes: number): number {
  const sizes = [features, ...Array.from({ length: config.depth }, () => config.width), classes];
  let floats = 0;
  for (let l = 1; l < sizes.length; l++) {
    floats += sizes[l - 1]! * sizes[l]! + sizes[l]!;
    if (config.batchNorm && l < sizes.length - 1) floats += 4 * sizes[l]!;
  }
  return floats;
}

/** Moment arrays per optimizer, each one float per trainable parameter. */
const OPTIMIZER_SLOTS: Record<ModelConfig['optimizer'], number> = { sgd: 0, momentum: 1, rmsprop: 1, adam: 2 };

/**
 * What a slice holds for the network, data aside, in bytes (an estimate from the copies the code makes,
 * not a measurement): the engine's wasm heap keeps about three copies of the parameters (the parameters,
 * their gradients, the transposed kernels), the optimizer one per moment, and around the commit the JS
 * side up to three more (the weights as loaded, as read back from the engine, as encoded for storage).
 */
export function sessionMemoryBytes(config: ModelConfig, features: number, classes: number): number {
  return 4 * sessionFloats(config, features, classes) * (3 + OPTIMIZER_SLOTS[config.optimizer] + 3);
}

/**
 * The most sessionMemoryBytes a session may need: an isolate has 128 MB, and the runtime, TF.js and the
 * dataset's split need the rest. Width 1024 x depth 3 on 784 features with Adam (2.9 M parameters,
 * ~94 MB) fits; depth 4 does not.
 */
export const MAX_SESSION_MEMORY_BYTES = 96_000_000;

/** Mini-batches per epoch for a configuration on `trainRows` rows. */
export function batchesPerEpoch(config: Pick<ModelConfig, 'batchSize'>, trainRows: number): number {
  return Math.ceil(trainRows / config.batchSize);
}

/** The state train(config, data, seed) starts from. */
export function startSession(config: ModelConfig, data: TrainingData, seed: number): SessionState {
  return {
    config,
    seed,
    epoch: 0,
    cursor: null,
    weights: initialWeights(config, data.features, data.classes, mixSeed(seed, 1)),
    optimizer: createFlatOptimizer(config).exportState(),
    orderRng: new Rng(mixSeed(seed, 2)).state(),
    maskRng: new Rng(mixSeed(seed, 3)).state(),
  };
}

function sameConfig(a: ModelConfig, b: ModelConfig): boolean {
  const keys = Object.keys(a).sort();
  return JSON.stringify(a, keys) === JSON.stringify(b, Object.keys(b).sort());
}

/**
 * Trains from `state` until the budget is spent or config.epochs epochs are complete. An epoch begun
 * under other hyperparameters than the current ones finishes under its own, and the slice then stops
 * (the next one starts the new epoch with the new values).
 *
 * With `consume`, the optimizer takes over the arrays of `state.optimizer` instead of copying them and
 * hands its own back: the caller must not use `state` afterwards. A session's moments are two copies of
 * the network, so this is the difference between fitting the isolate's memory and not.
 */
export function trainSlice(
  state: SessionState,
  data: TrainingData,
  budget: SliceBudget,
  options: { consume?: boolean } = {},
): SliceResult {
  const maxBatches = budget.batches ?? Infinity;
  const maxEpochs = budget.epochs ?? Infinity;
  const epochConfig = state.cursor?.config ?? state.config;
  const orderRng = Rng.fromState(state.orderRng);
  const maskRng = Rng.fromState(state.maskRng);
  const runner = epochRunner(epochConfig, data, orderRng, maskRng);
  const { engine } = runner;
  const optimizer = createFlatOptimizer(epochConfig);
  optimizer.importState(state.optimizer, options.consume);
  const records: EpochRecord[] = [];
  const epochBatches: number[] = [];
  let epoch = state.epoch;
  let epochStart = state.orderRng;
  let batches = 0;
  let inThisEpoch = 0;
  let diverged = false;
  try {
    engine.setWeights(state.weights);
    if (state.cursor) {
      const { config: _config, ...partial } = state.cursor;
      runner.begin(epoch, partial);
    }
    while (batches < maxBatches && !diverged) {
      if (!runner.remaining()) {
        if (records.length >= maxEpochs || epoch >= state.config.epochs) break;
        if (!sameConfig(epochConfig, state.config)) break;
        epochStart = orderRng.state();
        runner.begin(epoch);
      }
      runner.step(optimizer);
      batches++;
      inThisEpoch++;
      if (!runner.remaining()) {
        const record = runner.finish();
        records.push(record);
        epochBatches.push(inThisEpoch);
        inThisEpoch = 0;
        epoch++;
        if (!Number.isFinite(record.loss) || !Number.isFinite(record.valLoss)) diverged = true;
      }
    }
    const inEpoch = runner.remaining();
    const partial = inEpoch ? runner.partial() : null;
    if (partial && !Number.isFinite(partial.lossSum)) diverged = true;
    const weights = engine.getWeights();
    if (!allFinite(weights)) diverged = true;
    return {
      state: {
        ...state,
        epoch,
        cursor: partial ? { ...partial, config: epochConfig } : null,
        weights,
        optimizer: optimizer.exportState(!options.consume),
        orderRng: inEpoch ? epochStart : orderRng.state(),
        maskRng: maskRng.state(),
      },
      records,
      batches,
      epochBatches,
      diverged,
    };
  } finally {
    engine.dispose();
  }
}
