/**
 * The training core: train(config, data, seed) -> weights, learning curve, timing and status.
 * Pure: no HTTP, no storage. Runs on whatever TF.js backend is active (the caller chooses wasm).
 */
import * as tf from '@tensorflow/tfjs-core';
import { classWeightsFor, learningRateAt, type ModelConfig } from './config';
import type { Part } from './dataset';
import { backward, disposeNet, forwardInference, forwardTrain, fromTensors, graphOptions, penalty, toTensors, trainables, withTrainables, type TensorNet } from './engine/graph';
import { createOptimizer } from './engine/optimizers';
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
export type StopReason = 'epochs' | 'time_budget' | 'non_finite_loss';

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
}

/** Lets timers and I/O run between epochs; on Workers the clock also only advances across such a wait. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function classCounts(y: Int32Array, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const c of y) counts[c]! += 1;
  return counts;
}

/** Inverted-dropout mask drawn from the seeded stream: 0 or 1/(1-p). */
function dropoutMask(rng: Rng, rows: number, units: number, rate: number): tf.Tensor2D {
  const keep = 1 - rate;
  const scale = 1 / keep;
  const m = new Float32Array(rows * units);
  for (let i = 0; i < m.length; i++) m[i] = rng.next() < keep ? scale : 0;
  return tf.tensor2d(m, [rows, units]);
}

/** Cross-entropy loss and accuracy of the inference-mode network on a whole part. */
export function evaluate(net: TensorNet, config: ModelConfig, x: tf.Tensor2D, labels: tf.Tensor1D, classes: number): { loss: number; accuracy: number } {
  const [loss, correct] = tf.tidy(() => {
    const logits = forwardInference(net, x, graphOptions(config));
    const logp = tf.logSoftmax(logits);
    const nll = tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(labels, classes), logp), 1)));
    const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32'));
    return [nll, hits];
  });
  const out = { loss: loss.dataSync()[0]!, accuracy: correct.dataSync()[0]! / x.shape[0] };
  tf.dispose([loss, correct]);
  return out;
}

/**
 * Trains the configured network with mini-batch gradient descent.
 * Same config + data + seed => the same initial weights, batch order, dropout masks, hence the same history.
 */
export async function train(config: ModelConfig, data: TrainingData, seed: number, options: TrainOptions = {}): Promise<TrainResult> {
  const started = performance.now();
  const { features, classes } = data;
  const n = data.train.rows;
  const opts = graphOptions(config);
  const reg = { l1: config.l1, l2: config.l2 };
  const weightsPerClass = classWeightsFor(config, classCounts(data.train.y, classes));
  const orderRng = new Rng(mixSeed(seed, 2));
  const dropoutRng = new Rng(mixSeed(seed, 3));

  let net = toTensors(options.initialWeights ?? initialWeights(config, features, classes, mixSeed(seed, 1)));
  const optimizer = createOptimizer(config);
  const xTrain = tf.tensor2d(data.train.x, [n, features]);
  const yTrain = tf.tensor1d(data.train.y, 'int32');
  // Targets with the class weight of each row folded in: the loss is -sum(target * log p) / batch.
  const targets = tf.tidy(() => {
    const oneHot = tf.cast(tf.oneHot(yTrain, classes), 'float32');
    return weightsPerClass ? tf.mul(oneHot, tf.tensor1d(weightsPerClass)) : oneHot;
  });
  const rowWeights = weightsPerClass ? tf.tensor2d(Array.from(data.train.y, (c) => weightsPerClass[c]!), [n, 1]) : null;
  const xVal = tf.tensor2d(data.validation.x, [data.validation.rows, features]);
  const yVal = tf.tensor1d(data.validation.y, 'int32');

  const history: EpochRecord[] = [];
  let status: TrainStatus = 'complete';
  let stopReason: StopReason = 'epochs';
  let computeMs = 0;
  const order = new Int32Array(n);
  try {
    for (let epoch = 0; epoch < config.epochs; epoch++) {
      const epochStart = performance.now();
      const lr = learningRateAt(config, epoch);
      for (let i = 0; i < n; i++) order[i] = i;
      orderRng.shuffle(order);
      let lossSum = tf.scalar(0);
      let correct = tf.scalar(0);
      for (let start = 0; start < n; start += config.batchSize) {
        const end = Math.min(n, start + config.batchSize);
        const rows = end - start;
        tf.tidy(() => {
          const idx = tf.tensor1d(order.subarray(start, end), 'int32');
          const xb = tf.gather(xTrain, idx) as tf.Tensor2D;
          const tb = tf.gather(targets, idx) as tf.Tensor2D;
          const yb = tf.gather(yTrain, idx) as tf.Tensor1D;
          const masks = net.hidden.map((b) => (config.dropout > 0 ? dropoutMask(dropoutRng, rows, b.kernel.shape[1], config.dropout) : null));
          const fwd = forwardTrain(net, xb, opts, masks);
          const logp = tf.logSoftmax(fwd.logits);
          const p = tf.exp(logp);
          let loss: tf.Scalar = tf.div(tf.neg(tf.sum(tf.mul(tb, logp))), rows);
          if (reg.l1 > 0 || reg.l2 > 0) loss = tf.add(loss, penalty(net, reg));
          const dLogits = tf.div(tf.sub(rowWeights ? tf.mul(p, tf.gather(rowWeights, idx)) : p, tb), rows) as tf.Tensor2D;
          const grads = backward(net, fwd, dLogits, opts, reg);

          const updated = optimizer.apply(trainables(net), grads, lr);
          const next = withTrainables(net, updated);
          // BN moving averages, Keras semantics: moving -= (moving - batch) * (1 - momentum).
          let s = 0;
          for (const b of next.hidden) {
            if (!b.movingMean || !b.movingVariance) continue;
            const stats = fwd.batchStats[s++]!;
            const m = config.bnMomentum;
            const mean = tf.keep(tf.add(tf.mul(b.movingMean, m), tf.mul(stats.mean, 1 - m)));
            const variance = tf.keep(tf.add(tf.mul(b.movingVariance, m), tf.mul(stats.variance, 1 - m)));
            tf.dispose([b.movingMean, b.movingVariance]);
            b.movingMean = mean as tf.Tensor1D;
            b.movingVariance = variance as tf.Tensor1D;
          }
          net = next;

          const hits = tf.sum(tf.cast(tf.equal(tf.argMax(fwd.logits, 1), yb), 'float32'));
          const nextLoss = tf.keep(tf.add(lossSum, tf.mul(loss, rows)));
          const nextCorrect = tf.keep(tf.add(correct, hits));
          tf.dispose([lossSum, correct]);
          lossSum = nextLoss as tf.Scalar;
          correct = nextCorrect as tf.Scalar;
        });
      }
      const loss = lossSum.dataSync()[0]! / n;
      const accuracy = correct.dataSync()[0]! / n;
      tf.dispose([lossSum, correct]);
      const val = evaluate(net, config, xVal, yVal, classes);
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
      await yieldToEventLoop();
      if (options.maxSeconds !== undefined && (performance.now() - started) / 1000 >= options.maxSeconds && epoch + 1 < config.epochs) {
        stopReason = 'time_budget';
        break;
      }
    }
    let weights: NetworkWeights | null = null;
    let final: TrainResult['final'] = null;
    if (status === 'complete') {
      weights = fromTensors(net);
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
    optimizer.dispose();
    disposeNet(net);
    tf.dispose([xTrain, yTrain, targets, xVal, yVal, ...(rowWeights ? [rowWeights] : [])]);
  }
}
