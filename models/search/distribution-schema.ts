/**
 * The JSON shapes of a search space's distributions (see space.ts for what each field means and the
 * rules that tie fields together). Kept apart from those rules so the unit-cube mapping in
 * distributions.ts can name the shapes without importing the validator that uses it.
 */
import { z } from 'zod';
import type { JsonValue } from './json';

export type Choice = string | number | boolean;
export type Condition = Record<string, Choice[]>;

const ChoiceSchema = z.union([z.string(), z.number(), z.boolean()]);
const WhenSchema = z.record(z.string(), z.array(ChoiceSchema).min(1, 'lists no allowed value'));

export const FloatSchema = z.strictObject({
  type: z.literal('float'),
  low: z.number(),
  high: z.number(),
  log: z.boolean().optional(),
  step: z.number().positive().optional(),
  oneMinus: z.boolean().optional(),
  zeroProbability: z.number().gt(0).lt(1).optional(),
  when: WhenSchema.optional(),
});
export const IntSchema = z.strictObject({
  type: z.literal('int'),
  low: z.number().int(),
  high: z.number().int(),
  step: z.number().int().positive().optional(),
  log: z.boolean().optional(),
  when: WhenSchema.optional(),
});
export const CategoricalSchema = z.strictObject({
  type: z.literal('categorical'),
  choices: z.array(ChoiceSchema).min(1, 'needs at least one choice'),
  when: WhenSchema.optional(),
});
export const ConstSchema = z.strictObject({
  type: z.literal('const'),
  value: z.json(),
  when: WhenSchema.optional(),
});
export const DistributionSchema = z.discriminatedUnion('type', [
  FloatSchema,
  IntSchema,
  CategoricalSchema,
  ConstSchema,
]);

export type FloatDistribution = z.infer<typeof FloatSchema>;
export type IntDistribution = z.infer<typeof IntSchema>;
export type CategoricalDistribution = z.infer<typeof CategoricalSchema>;
export type ConstDistribution = { type: 'const'; value: JsonValue; when?: Condition };
export type Distribution = FloatDistribution | IntDistribution | CategoricalDistribution | ConstDistribution;
export type SearchSpace = Record<string, Distribution>;

export const DISTRIBUTION_TYPES = ['float', 'int', 'categorical', 'const'] as const;
