/** Search spaces and samplers: pure logic, JSON in and out (no TF.js, HTTP or storage). */
export type { JsonValue } from './json';
export {
  type Choice,
  type Condition,
  type Distribution,
  type FloatDistribution,
  type IntDistribution,
  type CategoricalDistribution,
  type ConstDistribution,
  type SearchSpace,
  DistributionSchema,
  SpaceError,
  isActive,
  parseSpace,
} from './space';
export { DEFAULT_SPACE, DEFAULT_TEMPLATE, defaultSpace } from './default-space';
export {
  DEFAULT_CONTEXT,
  fewestSteps,
  resolveTemplate,
  type ScaledBound,
  type SpaceContext,
  type SpaceTemplate,
} from './priors';
export { type SpaceOverrides, mergeSpace } from './merge';
export { contains, fromUnit, gridValues, toUnit, valueBounds } from './distributions';
export {
  type Assignment,
  AssignmentSchema,
  activeAssignment,
  assignmentHash,
  assignmentKey,
  assignmentOf,
  toConfig,
} from './assignment';
export { DEFAULT_GRID_LEVELS, Grid, gridSize } from './grid';
export { DEFAULT_KEEP_PROBABILITY, DEFAULT_SHRINK, type Incumbent, type LocalRange, localRanges } from './local';
export {
  DEFAULT_MAX_ATTEMPTS,
  GridSampler,
  LocalSampler,
  RandomSampler,
  type Sampler,
  type SamplerKind,
  type SamplerSpec,
  SamplerSpecSchema,
  type Suggestion,
  createSampler,
  randomDraw,
} from './samplers';
export {
  TPE_DEFAULTS,
  type TpeBasis,
  type TpeHistory,
  type TpeObservation,
  TpeSampler,
  type TpeSpec,
  TpeSpecSchema,
  type TpeSuggestion,
  rankObservations,
  recencyWeights,
} from './tpe';
