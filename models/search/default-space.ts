/**
 * The default search space over every ModelConfig key except epochs (the study budget sets that), as a
 * template whose data-dependent ranges are resolved for the study's data (see priors.ts and the README's
 * "Priors" section for the reasoning). Declaration order puts each switch before the parameters it gates.
 */
import { ACTIVATIONS, DECAYS, INITIALISERS, OPTIMIZERS } from '../config';
import { DEFAULT_CONTEXT, resolveTemplate, type SpaceContext, type SpaceTemplate } from './priors';
import type { SearchSpace } from './space';

const HIDDEN = { depth: [1, 2, 3, 4] };

export const DEFAULT_TEMPLATE: SpaceTemplate = {
  optimizer: { type: 'categorical', choices: [...OPTIMIZERS] },
  // One decade-wide-or-more range per optimizer: plain SGD moves by lr * gradient and needs rates 10-100x
  // those of the adaptive methods, whose steps are ~lr whatever the gradient's scale; momentum multiplies
  // SGD's step by ~1/(1 - momentum). The base range encloses them all.
  learningRate: {
    type: 'float',
    low: 1e-4,
    high: 1,
    log: true,
    cases: {
      optimizer: {
        sgd: { low: 3e-3, high: 1 },
        momentum: { low: 1e-3, high: 0.3 },
        rmsprop: { low: 1e-4, high: 1e-2 },
        adam: { low: 1e-4, high: 1e-2 },
      },
    },
  },
  // "1 - v" scales: the interesting differences are between 0.9, 0.99 and 0.999, not 0.90 and 0.95.
  momentum: { type: 'float', low: 0.01, high: 0.5, log: true, oneMinus: true, when: { optimizer: ['momentum'] } }, // 0.5..0.99
  rho: { type: 'float', low: 0.001, high: 0.2, log: true, oneMinus: true, when: { optimizer: ['rmsprop'] } }, // 0.8..0.999
  beta1: { type: 'float', low: 0.01, high: 0.2, log: true, oneMinus: true, when: { optimizer: ['adam'] } }, // 0.8..0.99
  beta2: { type: 'float', low: 1e-4, high: 0.1, log: true, oneMinus: true, when: { optimizer: ['adam'] } }, // 0.9..0.9999
  // Only a numerical guard; tuning it mostly adds noise.
  epsilon: { type: 'const', value: 1e-7, when: { optimizer: ['rmsprop', 'adam'] } },
  decay: { type: 'categorical', choices: [...DECAYS] },
  // 0.5..0.99 per application: per-epoch exponential decay needs rates near 1, step decay tolerates 0.5.
  decayRate: {
    type: 'float',
    low: 0.01,
    high: 0.5,
    log: true,
    oneMinus: true,
    when: { decay: ['step', 'exponential'] },
  },
  // Exponential decay ignores decaySteps, so gating it on 'step' alone avoids configurations that only differ in a dead key.
  decaySteps: { type: 'int', low: 2, high: 20, log: true, when: { decay: ['step'] } },
  batchSize: { type: 'categorical', choices: [16, 32, 64, 128] },
  depth: { type: 'int', low: 0, high: 4 },
  // Scaled with the encoded input width: a first hidden layer far narrower than its input is a bottleneck
  // that discards information before anything is learnt (width 25 on 784 inputs), and one many times wider
  // costs time and memory in a 128 MB isolate for little gain on tabular data. Half to four times the input,
  // kept within [16, 512] (the low end at most 128, the high end at least 128).
  width: {
    type: 'int',
    low: { per: 'features', times: 0.5, min: 16, max: 128 },
    high: { per: 'features', times: 4, min: 128, max: 512 },
    log: true,
    when: HIDDEN,
  },
  activation: { type: 'categorical', choices: [...ACTIVATIONS], when: HIDDEN },
  dropout: { type: 'float', low: 0, high: 0.5, when: HIDDEN },
  batchNorm: { type: 'categorical', choices: [false, true], when: HIDDEN },
  bnPlacement: { type: 'categorical', choices: ['before', 'after'], when: { batchNorm: [true] } },
  // BN's moving averages are what serving uses. With momentum m they remember ~1/(1 - m) steps, so they only
  // forget their initial value (mean 0, variance 1) within a trial of S steps if 1/(1 - m) is well below S:
  // v = 1 - m >= 5 / S, with S the fewest steps any batch size gives (epochs x ceil(train rows / largest
  // batch)). 0.999 never converges in 300 steps; 0.99 does. Capped at 0.05 (m >= 0.95 stays possible) and v <= 0.2.
  bnMomentum: {
    type: 'float',
    low: { per: 'inverseSteps', times: 5, min: 0.001, max: 0.05 },
    high: 0.2,
    log: true,
    oneMinus: true,
    when: { batchNorm: [true] },
  },
  bnEpsilon: { type: 'const', value: 1e-3, when: { batchNorm: [true] } },
  // The output layer has a kernel too, so init and the penalties matter at every depth.
  init: { type: 'categorical', choices: [...INITIALISERS] },
  // Half the draws switch the penalty off entirely; the rest spread over four decades.
  l1: { type: 'float', low: 1e-6, high: 1e-2, log: true, zeroProbability: 0.5 },
  l2: { type: 'float', low: 1e-6, high: 1e-2, log: true, zeroProbability: 0.5 },
  classWeights: { type: 'categorical', choices: ['none', 'balanced'] },
};

/** The default space for a study's data (parsed, so a broken resolution fails loudly). */
export function defaultSpace(context: SpaceContext): SearchSpace {
  return resolveTemplate(DEFAULT_TEMPLATE, context);
}

/** The default space for digits-shaped data (64 features, 1,257 training rows, 20 epochs); parsed at import. */
export const DEFAULT_SPACE: SearchSpace = defaultSpace(DEFAULT_CONTEXT);
