/**
 * Training throughput: the engine (models/train.ts) against tfjs-layers `fit` on the same wasm-SIMD
 * backend, same model, data, batch size and optimizer, interleaved in one run so machine load hits
 * both alike; plus fit on the cpu backend. Then validation-accuracy parity over seeds.
 */
import { inject, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients; layers' fit needs them (the engine and the worker do not).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { resolveConfig, type ModelConfig } from '../../models/config';
import { prepareSplit, type Part, type Split } from '../../models/dataset';
import { loadEmbeddedDigits } from '../../models/digits-embedded';
import { buildLayersModel, layersOptimizer, setLayersWeights } from '../../test/oracles/layers';
import { initialWeights, type NetworkWeights } from '../../models/network';
import { mixSeed } from '../../models/random';
import { train, type TrainingData } from '../../models/train';
import { initBackend } from '../../shared/tf/backend';
import { emit, stat, type Stat } from './measure';

const REPEATS = inject('benchRepeats');
const PARITY_SEEDS = inject('benchParitySeeds');
const PARITY_EPOCHS = 20;

/** The model of the anchors: 64 -> 128 -> BN -> ReLU -> 128 -> BN -> ReLU -> 10 softmax, Adam. */
const modelConfig = (batchSize: number, epochs: number): ModelConfig =>
  resolveConfig({
    depth: 2,
    width: 128,
    batchNorm: true,
    bnPlacement: 'before',
    activation: 'relu',
    optimizer: 'adam',
    learningRate: 1e-3,
    batchSize,
    epochs,
  });

/** 1,500 training rows (the anchors' size) taken from the standardised digits; the rest validates. */
function throughputData(split: Split): TrainingData {
  const all: Part = {
    x: new Float32Array([...split.train.x, ...split.validation.x, ...split.test.x]),
    y: new Int32Array([...split.train.y, ...split.validation.y, ...split.test.y]),
    rows: split.train.rows + split.validation.rows + split.test.rows,
  };
  const n = 1500;
  const f = split.features;
  return {
    features: f,
    classes: split.classes,
    train: { x: all.x.slice(0, n * f), y: all.y.slice(0, n), rows: n },
    validation: { x: all.x.slice(n * f), y: all.y.slice(n), rows: all.rows - n },
  };
}

/** Samples per second of `epochs` epochs of layers fit (after a one-epoch warm-up of this model). */
async function fitRate(config: ModelConfig, data: TrainingData, epochs: number, seed: number): Promise<number> {
  const model = buildLayersModel(config, data.features, data.classes, seed);
  model.compile({ optimizer: layersOptimizer(config), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const x = tf.tensor2d(data.train.x, [data.train.rows, data.features]);
  const y = tf.tensor1d(Array.from(data.train.y), 'float32');
  await model.fit(x, y, { batchSize: config.batchSize, epochs: 1, shuffle: true, verbose: 0 });
  const t0 = performance.now();
  await model.fit(x, y, { batchSize: config.batchSize, epochs, shuffle: true, verbose: 0 });
  const ms = performance.now() - t0;
  tf.dispose([x, y]);
  model.dispose();
  return (epochs * data.train.rows) / (ms / 1000);
}

/** Samples per second of the engine's train() (its per-epoch validation pass included). */
async function engineRate(config: ModelConfig, data: TrainingData, seed: number): Promise<number> {
  await train({ ...config, epochs: 1 }, data, seed);
  const r = await train(config, data, seed);
  return r.timing.samplesPerSecond;
}

async function fitValAccuracy(config: ModelConfig, split: Split, start: NetworkWeights): Promise<number> {
  const model = buildLayersModel(config, split.features, split.classes);
  setLayersWeights(model, start);
  model.compile({ optimizer: layersOptimizer(config), loss: 'sparseCategoricalCrossentropy' });
  const x = tf.tensor2d(split.train.x, [split.train.rows, split.features]);
  const y = tf.tensor1d(Array.from(split.train.y), 'float32');
  await model.fit(x, y, { batchSize: config.batchSize, epochs: config.epochs, shuffle: true, verbose: 0 });
  const pred = tf.tidy(() =>
    tf
      .argMax(model.predict(tf.tensor2d(split.validation.x, [split.validation.rows, split.features])) as tf.Tensor, 1)
      .dataSync(),
  );
  let hits = 0;
  for (let i = 0; i < split.validation.rows; i++) if (pred[i] === split.validation.y[i]) hits++;
  tf.dispose([x, y]);
  model.dispose();
  return hits / split.validation.rows;
}

const round = (s: Stat, digits = 0) => ({
  median: +s.median.toFixed(digits),
  min: +s.min.toFixed(digits),
  max: +s.max.toFixed(digits),
});
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;

it('training throughput and accuracy parity', async () => {
  const info = await initBackend();
  if (info.backend !== 'wasm' || !info.simd) throw new Error(`bench needs wasm SIMD, got ${JSON.stringify(info)}`);
  const split = prepareSplit(await loadEmbeddedDigits(), 42);
  const data = throughputData(split);

  const results: Record<string, unknown> = {};
  const fitRates: Record<string, Stat> = {};
  const engineRates: Record<string, Stat> = {};
  const ratios: Record<string, Stat> = {};
  for (const batch of [32, 128]) {
    const fits: number[] = [];
    const engines: number[] = [];
    const r: number[] = [];
    for (let rep = 0; rep < REPEATS; rep++) {
      const f = await fitRate(modelConfig(batch, 2), data, 2, rep + 1);
      const e = await engineRate(modelConfig(batch, batch === 32 ? 6 : 10), data, rep + 1);
      fits.push(f);
      engines.push(e);
      r.push(e / f);
    }
    fitRates[batch] = stat(fits);
    engineRates[batch] = stat(engines);
    ratios[batch] = stat(r);
  }
  results['train.fit_samples_per_s'] = Object.fromEntries(Object.entries(fitRates).map(([b, s]) => [b, round(s)]));
  results['train.engine_samples_per_s'] = Object.fromEntries(
    Object.entries(engineRates).map(([b, s]) => [b, round(s)]),
  );
  results['train.engine_vs_fit'] = Object.fromEntries(Object.entries(ratios).map(([b, s]) => [b, round(s, 2)]));

  // The cpu backend for reference: fit only (the engine is wasm-only by design).
  await tf.setBackend('cpu');
  try {
    const cpu: Record<string, Stat> = {};
    for (const batch of [32, 128]) {
      const s: number[] = [];
      for (let rep = 0; rep < Math.max(3, Math.ceil(REPEATS / 2)); rep++)
        s.push(await fitRate(modelConfig(batch, 1), data, 1, rep + 1));
      cpu[batch] = stat(s);
    }
    results['train.cpu_fit_samples_per_s'] = Object.fromEntries(Object.entries(cpu).map(([b, s]) => [b, round(s)]));
  } finally {
    await tf.setBackend('wasm');
  }

  // Model quality: validation accuracy after the same epochs, same configuration, several seeds.
  const parity: Record<string, unknown> = {};
  for (const batch of [32, 128]) {
    const config = modelConfig(batch, PARITY_EPOCHS);
    const fitAcc: number[] = [];
    const engineAcc: number[] = [];
    for (let seed = 1; seed <= PARITY_SEEDS; seed++) {
      // Both start from the same weights (the engine's seeded initialisation), so the comparison is of
      // the training algorithms alone; batch order and rounding differ.
      const start = initialWeights(config, split.features, split.classes, mixSeed(seed, 1));
      fitAcc.push(await fitValAccuracy(config, split, start));
      engineAcc.push((await train(config, split, seed, { initialWeights: start })).final!.valAccuracy);
    }
    parity[batch] = {
      epochs: PARITY_EPOCHS,
      seeds: PARITY_SEEDS,
      fit_mean: +mean(fitAcc).toFixed(4),
      engine_mean: +mean(engineAcc).toFixed(4),
      diff_points: +((mean(engineAcc) - mean(fitAcc)) * 100).toFixed(2),
      fit: fitAcc.map((v) => +v.toFixed(4)),
      engine: engineAcc.map((v) => +v.toFixed(4)),
    };
  }
  results['train.val_accuracy_parity'] = parity;
  results['train.setup'] = {
    rows: data.train.rows,
    features: data.features,
    classes: data.classes,
    model: '64-128-BN-ReLU-128-BN-ReLU-10 softmax',
    optimizer: 'adam 1e-3',
    repeats: REPEATS,
    note: 'engine rate is train() including its per-epoch validation pass; fit runs without validation. Parity: standard split (1257 train / 270 validation rows), both from the same initial weights per seed.',
  };
  emit('train', results);
});
