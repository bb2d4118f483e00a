/**
 * The model definition: one flat, JSON-serialisable configuration of a softmax classifier made of
 * Dense layers with optional batch normalization. Flat keys keep it easy to describe as a search space.
 */
import { z } from 'zod';

export const ACTIVATIONS = ['relu', 'tanh', 'sigmoid', 'elu'] as const;
export const INITIALISERS = ['randomNormal', 'glorotUniform', 'glorotNormal', 'heNormal', 'heUniform'] as const;
export const OPTIMIZERS = ['sgd', 'momentum', 'rmsprop', 'adam'] as const;
export const DECAYS = ['none', 'step', 'exponential'] as const;

const finite = () => z.number().refine(Number.isFinite, 'must be a finite number');

export const ModelConfigSchema = z
  .object({
    /** Hidden Dense layers (0 = multinomial logistic regression). */
    depth: z.number().int().min(0).max(4),
    /** Units per hidden layer. */
    width: z.number().int().min(1).max(1024),
    activation: z.enum(ACTIVATIONS),
    batchNorm: z.boolean(),
    /** 'before': Dense -> BN -> activation; 'after': Dense -> activation -> BN. */
    bnPlacement: z.enum(['before', 'after']),
    /** EMA factor of the moving statistics: moving = momentum * moving + (1 - momentum) * batch. */
    bnMomentum: finite().min(0).max(0.9999),
    bnEpsilon: finite().min(1e-8).max(1),
    /** Drop probability applied after each hidden block during training only. */
    dropout: finite().min(0).max(0.9),
    /** Penalties on Dense kernels (not biases, not BN): loss += l1 * sum|w| + l2 * sum w^2. */
    l1: finite().min(0).max(1),
    l2: finite().min(0).max(1),
    init: z.enum(INITIALISERS),
    optimizer: z.enum(OPTIMIZERS),
    learningRate: finite().gt(0).max(100),
    /** Momentum coefficient of the 'momentum' optimizer (and the optional one of RMSProp). */
    momentum: finite().min(0).max(0.9999),
    /** RMSProp's decay of the squared-gradient average. */
    rho: finite().min(0).max(0.9999),
    beta1: finite().min(0).max(0.9999),
    beta2: finite().min(0).max(0.99999),
    /** Optimizer epsilon (RMSProp, Adam). */
    epsilon: finite().min(1e-12).max(1),
    /** Per-epoch schedule: step multiplies by decayRate every decaySteps epochs; exponential by decayRate^(epoch). */
    decay: z.enum(DECAYS),
    decayRate: finite().gt(0).max(1),
    decaySteps: z.number().int().min(1).max(1000),
    batchSize: z.number().int().min(1).max(4096),
    epochs: z.number().int().min(1).max(1000),
    /** 'balanced' weighs each class by rows / (classes * rows of that class); an array gives them explicitly. */
    classWeights: z.union([z.literal('none'), z.literal('balanced'), z.array(finite().min(0)).min(2)]),
  })
  .strict();

export type ModelConfig = z.infer<typeof ModelConfigSchema>;

/** A reasonable starting point; every key can be overridden. */
export const DEFAULT_CONFIG: ModelConfig = {
  depth: 2,
  width: 128,
  activation: 'relu',
  batchNorm: true,
  bnPlacement: 'before',
  bnMomentum: 0.9,
  bnEpsilon: 1e-3,
  dropout: 0,
  l1: 0,
  l2: 0,
  init: 'heNormal',
  optimizer: 'adam',
  learningRate: 1e-3,
  momentum: 0.9,
  rho: 0.9,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-7,
  decay: 'none',
  decayRate: 0.5,
  decaySteps: 10,
  batchSize: 64,
  epochs: 20,
  classWeights: 'none',
};

/** Fills unspecified keys from the defaults and validates the result. */
export function resolveConfig(partial: Partial<ModelConfig> = {}): ModelConfig {
  return ModelConfigSchema.parse({ ...DEFAULT_CONFIG, ...partial });
}

/** Learning rate in effect during `epoch` (0-based) under the configured decay. */
export function learningRateAt(config: ModelConfig, epoch: number): number {
  switch (config.decay) {
    case 'none':
      return config.learningRate;
    case 'step':
      return config.learningRate * config.decayRate ** Math.floor(epoch / config.decaySteps);
    case 'exponential':
      return config.learningRate * config.decayRate ** epoch;
  }
}

/** Per-class loss weights, or null when every class weighs 1. */
export function classWeightsFor(config: ModelConfig, classCounts: number[]): number[] | null {
  const cw = config.classWeights;
  if (cw === 'none') return null;
  if (cw === 'balanced') {
    const total = classCounts.reduce((a, b) => a + b, 0);
    return classCounts.map((n) => (n > 0 ? total / (classCounts.length * n) : 0));
  }
  if (cw.length !== classCounts.length)
    throw new Error(`classWeights has ${cw.length} entries for ${classCounts.length} classes`);
  return cw;
}
