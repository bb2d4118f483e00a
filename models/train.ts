/**
 * The training core: train(config, data, seed) -> weights, learning curve, timing and status.
 * Pure: no HTTP, no storage. Runs through the engine in ./engine, which calls the TF.js wasm backend's
 * kernels directly on buffers it owns (the caller initialises the backend); on any other backend the
 * engine falls back to the same computation in plain JS.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from './config';
import { epochRunner, type EpochRecord, type TrainingData } from './epoch';
import { createFlatOptimizer } from './engine/optimizers';
import { allFinite, initialWeights, type NetworkWeights } from './network';
import { mixSeed, Rng } from './random';

export type { EpochRecord, TrainingData } from './epoch';

export type TrainStatus = 'complete' | 'diverged';
export type StopReason = 'epochs' | 'time_budget' | 'non_finite_loss' | 'pruned';

export interface TrainResult {
  status: TrainStatus;
  stopReason: StopReason;
  /** Null when training diverged: non-finite weights are never handed out as a result. */
  weights: NetworkWeights | null;
  history: EpochRecord[];
  /** Metrics of the returned weights on the validation split; null when diverged. */
  final: { valLoss: number; valAccuracy: number } | null;
  seed: number;
  backend: string;
  timing: {
    wallMs: number;
    /** Time inside the synchronous training and evaluation work, summed over epochs. */
    computeMs: number;
    epochsRun: number;
    samplesPerSecond: number;
  };
}

export interface TrainOptions {
  /** Stop after the epoch that crosses this many seconds (the trial's budget). */
  maxSeconds?: number;
  /** Called after each epoch, e.g. to stream progress. */
  onEpoch?: (record: EpochRecord) => void;
  /** Start from these weights instead of the seeded initialisation (warm start, reference checks). */
  initialWeights?: NetworkWeights;
  /**
   * Awaited after each finite epoch but the last: 'stop' ends training early (stopReason 'pruned'; the
   * weights so far are returned), e.g. when successive halving drops the trial at a rung.
   */
  checkpoint?: (record: EpochRecord) => Promise<'continue' | 'stop'>;
}

/** Lets timers and I/O run between epochs; on Workers the clock also only advances across such a wait. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Trains the configured network with mini-batch gradient descent.
 * Same config + data + seed => the same initial weights, batch order, dropout masks, hence the same history.
 */
export async function train(
  config: ModelConfig,
  data: TrainingData,
  seed: number,
  options: TrainOptions = {},
): Promise<TrainResult> {
  const started = performance.now();
  const { features, classes } = data;
  const n = data.train.rows;
  const runner = epochRunner(config, data, new Rng(mixSeed(seed, 2)), new Rng(mixSeed(seed, 3)));
  const { engine } = runner;
  const optimizer = createFlatOptimizer(config);
  const history: EpochRecord[] = [];
  let status: TrainStatus = 'complete';
  let stopReason: StopReason = 'epochs';
  let computeMs = 0;
  try {
    engine.setWeights(options.initialWeights ?? initialWeights(config, features, classes, mixSeed(seed, 1)));
    // On Workers the clock stands still during synchronous compute and moves across I/O: an epoch's time
    // is read across the yield that follows it (from the mark taken after the previous one), never inside.
    await yieldToEventLoop();
    let mark = performance.now();
    for (let epoch = 0; epoch < config.epochs; epoch++) {
      const record = runner.run(epoch, optimizer);
      await yieldToEventLoop();
      const now = performance.now();
      record.ms = now - mark;
      mark = now;
      computeMs += record.ms;
      history.push(record);
      options.onEpoch?.(record);
      if (!Number.isFinite(record.loss) || !Number.isFinite(record.valLoss)) {
        status = 'diverged';
        stopReason = 'non_finite_loss';
        break;
      }
      if (options.checkpoint && epoch + 1 < config.epochs && (await options.checkpoint(record)) === 'stop') {
        stopReason = 'pruned';
        break;
      }
      // The next epoch's time starts here, after any wait for the coordinator.
      mark = performance.now();
      if (
        options.maxSeconds !== undefined &&
        (performance.now() - started) / 1000 >= options.maxSeconds &&
        epoch + 1 < config.epochs
      ) {
        stopReason = 'time_budget';
        break;
      }
    }
    let weights: NetworkWeights | null = null;
    let final: TrainResult['final'] = null;
    if (status === 'complete') {
      weights = engine.getWeights();
      if (allFinite(weights)) {
        const last = history[history.length - 1]!;
        final = { valLoss: last.valLoss, valAccuracy: last.valAccuracy };
      } else {
        weights = null;
        status = 'diverged';
        stopReason = 'non_finite_loss';
      }
    }
    const wallMs = performance.now() - started;
    return {
      status,
      stopReason,
      weights,
      history,
      final,
      seed,
      backend: tf.getBackend(),
      timing: {
        wallMs,
        computeMs,
        epochsRun: history.length,
        samplesPerSecond: computeMs > 0 ? (history.length * n) / (computeMs / 1000) : 0,
      },
    };
  } finally {
    engine.dispose();
  }
}
