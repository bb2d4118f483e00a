/**
 * The same architecture as a tfjs-layers model: the reference the engine is checked against
 * (inference-mode predictions, BN semantics) and the `fit` baseline of the benchmarks.
 * A test oracle: never imported by the worker.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ModelConfig } from '../../models/config';
import type { NetworkWeights } from '../../models/network';

export function buildLayersModel(config: ModelConfig, features: number, classes: number, seed = 1): tfl.Sequential {
  const model = tfl.sequential();
  let inputShape: number[] | undefined = [features];
  const init = (i: number) => {
    const args = { seed: seed + i };
    switch (config.init) {
      case 'randomNormal':
        return tfl.initializers.randomNormal({ mean: 0, stddev: 0.05, ...args });
      case 'glorotUniform':
        return tfl.initializers.glorotUniform(args);
      case 'glorotNormal':
        return tfl.initializers.glorotNormal(args);
      case 'heNormal':
        return tfl.initializers.heNormal(args);
      case 'heUniform':
        return tfl.initializers.heUniform(args);
    }
  };
  const regularizer =
    config.l1 > 0 || config.l2 > 0 ? tfl.regularizers.l1l2({ l1: config.l1, l2: config.l2 }) : undefined;
  for (let l = 0; l < config.depth; l++) {
    const bnBefore = config.batchNorm && config.bnPlacement === 'before';
    model.add(
      tfl.layers.dense({
        units: config.width,
        inputShape,
        activation: bnBefore ? 'linear' : config.activation,
        kernelInitializer: init(l),
        kernelRegularizer: regularizer,
      }),
    );
    inputShape = undefined;
    if (config.batchNorm) {
      model.add(tfl.layers.batchNormalization({ momentum: config.bnMomentum, epsilon: config.bnEpsilon }));
      if (bnBefore) model.add(tfl.layers.activation({ activation: config.activation }));
    }
    if (config.dropout > 0) model.add(tfl.layers.dropout({ rate: config.dropout }));
  }
  model.add(
    tfl.layers.dense({
      units: classes,
      inputShape,
      activation: 'softmax',
      kernelInitializer: init(config.depth),
      kernelRegularizer: regularizer,
    }),
  );
  return model;
}

/**
 * Loads engine weights into a model from buildLayersModel, layer by layer (a whole-model setWeights
 * wants every trainable weight before any BN moving statistic).
 */
export function setLayersWeights(model: tfl.Sequential, w: NetworkWeights): void {
  const perLayer: tf.Tensor[][] = [];
  for (const b of w.hidden) {
    perLayer.push([tf.tensor2d(b.dense.kernel, [b.dense.inputs, b.dense.units]), tf.tensor1d(b.dense.bias)]);
    if (b.bn)
      perLayer.push([
        tf.tensor1d(b.bn.gamma),
        tf.tensor1d(b.bn.beta),
        tf.tensor1d(b.bn.movingMean),
        tf.tensor1d(b.bn.movingVariance),
      ]);
  }
  perLayer.push([tf.tensor2d(w.output.kernel, [w.output.inputs, w.output.units]), tf.tensor1d(w.output.bias)]);
  const weighted = model.layers.filter((l) => l.getWeights().length > 0);
  if (weighted.length !== perLayer.length)
    throw new Error(`model has ${weighted.length} weighted layers, weights have ${perLayer.length}`);
  weighted.forEach((layer, i) => layer.setWeights(perLayer[i]!));
  tf.dispose(perLayer.flat());
}

/** The weights of a model from buildLayersModel, flattened layer by layer in engine order. */
export function flatLayersWeights(model: tfl.Sequential): number[] {
  return model.layers.flatMap((l) => l.getWeights().flatMap((t) => Array.from(t.dataSync())));
}

export function layersOptimizer(config: ModelConfig): tf.Optimizer {
  switch (config.optimizer) {
    case 'sgd':
      return tf.train.sgd(config.learningRate);
    case 'momentum':
      return tf.train.momentum(config.learningRate, config.momentum);
    case 'rmsprop':
      return tf.train.rmsprop(config.learningRate, config.rho, 0, config.epsilon);
    case 'adam':
      return tf.train.adam(config.learningRate, config.beta1, config.beta2, config.epsilon);
  }
}
