/**
 * The training core: train(config, data, seed) -> weights, learning curve, timing and status.
 * Pure: no HTTP, no storage. Runs through the engine in ./engine, which calls the TF.js wasm backend's
 * kernels directly on buffers it owns (the caller initialises the backend); on any other backend the
 * engine falls back to the same computation in plain JS.
 */
import * as tf from '@tensorflow/tfjs-core';
import { classWeightsFor, learningRateAt, type ModelConfig } from './config';
import type { Part } from './dataset';
import { Engine, engineSpec, type MaskSource } from './engine/engine';
import { createFlatOptimizer } from './engine/optimizers';
import { allFinite, initialWeights, type NetworkWeights } from './network';
import { mixSeed, Rng } from './random';

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

/** Rows per evaluation pass beyond the batch size: validation runs in a few large matmuls. */
const EVAL_ROWS = 512;

/**
 * Trains the configured network with mini-batch gradient descent.
 * Same config + data + seed => the same initial weights, batch order, dropout masks, hence the same history.
 */
export async function train(config: ModelConfig, data: TrainingData, seed: number, options: TrainOptions = {}): Promise<TrainResult> {
  const started = performance.now();
  const { features, classes } = data;
  const n = data.train.rows;
  const weightsPerClass = classWeightsFor(config, classCounts(data.train.y, classes));
  const orderRng = new Rng(mixSeed(seed, 2));
  const masks = dropoutMasks(new Rng(mixSeed(seed, 3)), config.dropout);

  const capacity = Math.max(Math.min(config.batchSize, n), Math.min(EVAL_ROWS, Math.max(data.validation.rows, 1)));
  const engine = new Engine(engineSpec(config, features, classes), capacity, config.dropout > 0);
  const optimizer = createFlatOptimizer(config);
  const history: EpochRecord[] = [];
  let status: TrainStatus = 'complete';
  let stopReason: StopReason = 'epochs';
  let computeMs = 0;
  const order = new Int32Array(n);
  try {
    engine.setWeights(options.initialWeights ?? initialWeights(config, features, classes, mixSeed(seed, 1)));
    for (let epoch = 0; epoch < config.epochs; epoch++) {
      const epochStart = performance.now();
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
      const loss = lossSum / n;
      const accuracy = correct / n;
      const val = engine.evaluate(data.validation.x, data.validation.y, data.validation.rows);
      const ms = performance.now() - epochStart;
      computeMs += ms;
      const record: EpochRecord = { epoch: epoch + 1, learningRate: lr, loss, accuracy, valLoss: val.loss, valAccuracy: val.accuracy, ms };
      history.push(record);
      options.onEpoch?.(record);
      if (!Number.isFinite(loss) || !Number.isFinite(val.loss)) {
        status = 'diverged';
        stopReason = 'non_finite_loss';
        break;
      }
      if (options.checkpoint && epoch + 1 < config.epochs && (await options.checkpoint(record)) === 'stop') {
        stopReason = 'pruned';
        break;
      }
      await yieldToEventLoop();
      if (options.maxSeconds !== undefined && (performance.now() - started) / 1000 >= options.maxSeconds && epoch + 1 < config.epochs) {
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
      timing: { wallMs, computeMs, epochsRun: history.length, samplesPerSecond: computeMs > 0 ? (history.length * n) / (computeMs / 1000) : 0 },
    };
  } finally {
    engine.dispose();
  }
}
