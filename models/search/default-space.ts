/**
 * The default search space over every ModelConfig key except epochs (the study budget sets that).
 * Declaration order puts each switch before the parameters it gates.
 */
import { ACTIVATIONS, DECAYS, INITIALISERS, OPTIMIZERS } from '../config';
import { parseSpace, type SearchSpace } from './space';

const HIDDEN = { depth: [1, 2, 3, 4] };

/** Parsed at import so a broken default fails loudly at startup instead of in the middle of a study. */
export const DEFAULT_SPACE: SearchSpace = parseSpace({
  learningRate: { type: 'float', low: 1e-4, high: 1e-1, log: true },
  optimizer: { type: 'categorical', choices: [...OPTIMIZERS] },
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
  // With no hidden layer, width, activation, dropout and batch norm have nothing to act on.
  width: { type: 'int', low: 16, high: 256, log: true, when: HIDDEN },
  activation: { type: 'categorical', choices: [...ACTIVATIONS], when: HIDDEN },
  dropout: { type: 'float', low: 0, high: 0.5, when: HIDDEN },
  batchNorm: { type: 'categorical', choices: [false, true], when: HIDDEN },
  bnPlacement: { type: 'categorical', choices: ['before', 'after'], when: { batchNorm: [true] } },
  bnMomentum: { type: 'float', low: 0.001, high: 0.1, log: true, oneMinus: true, when: { batchNorm: [true] } }, // 0.9..0.999
  bnEpsilon: { type: 'const', value: 1e-3, when: { batchNorm: [true] } },
  // The output layer has a kernel too, so init and the penalties matter at every depth.
  init: { type: 'categorical', choices: [...INITIALISERS] },
  // Half the draws switch the penalty off entirely; the rest spread over four decades.
  l1: { type: 'float', low: 1e-6, high: 1e-2, log: true, zeroProbability: 0.5 },
  l2: { type: 'float', low: 1e-6, high: 1e-2, log: true, zeroProbability: 0.5 },
  classWeights: { type: 'categorical', choices: ['none', 'balanced'] },
});
