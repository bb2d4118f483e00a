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
/**
 * Range by the value of an earlier parameter: `{ optimizer: { sgd: { low, high }, adam: { low, high } } }`.
 * Values are keyed by caseKey ("adam", "true", "64"); a value not listed keeps the base range, which
 * must enclose every case (so the base range is what the parameter can produce at all).
 */
const CasesSchema = z.record(
  z.string(),
  z.record(z.string(), z.strictObject({ low: z.number().optional(), high: z.number().optional() })),
);
export type Cases = z.infer<typeof CasesSchema>;

export const FloatSchema = z.strictObject({
  type: z.literal('float'),
  low: z.number(),
  high: z.number(),
  log: z.boolean().optional(),
  step: z.number().positive().optional(),
  oneMinus: z.boolean().optional(),
  zeroProbability: z.number().gt(0).lt(1).optional(),
  cases: CasesSchema.optional(),
  when: WhenSchema.optional(),
});
export const IntSchema = z.strictObject({
  type: z.literal('int'),
  low: z.number().int(),
  high: z.number().int(),
  step: z.number().int().positive().optional(),
  log: z.boolean().optional(),
  cases: CasesSchema.optional(),
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

/** How a case table keys a value: a string as itself, anything else as its JSON text ("true", "64"). */
export const caseKey = (v: JsonValue | undefined): string => (typeof v === 'string' ? v : JSON.stringify(v ?? null));

/**
 * The distribution in effect given the earlier values: a numeric one with `cases` takes the range of the
 * case the assignment so far selects. Everything that draws or enumerates values goes through this.
 */
export function specialise(d: Distribution, partial: Readonly<Record<string, JsonValue>>): Distribution {
  if ((d.type !== 'float' && d.type !== 'int') || !d.cases) return d;
  const { cases, ...base } = d;
  let out = base as FloatDistribution | IntDistribution;
  for (const [ref, table] of Object.entries(cases)) {
    const hit = Object.hasOwn(partial, ref) ? table[caseKey(partial[ref])] : undefined;
    if (hit) out = { ...out, ...hit } as typeof out;
  }
  return out;
}

/** The parameters a distribution's range depends on. */
export const caseRefs = (d: Distribution): string[] =>
  (d.type === 'float' || d.type === 'int') && d.cases ? Object.keys(d.cases) : [];

/** Every specialisation a distribution can take (the base first), for validation. */
export function allCases(d: Distribution): Distribution[] {
  if ((d.type !== 'float' && d.type !== 'int') || !d.cases) return [d];
  const { cases, ...base } = d;
  const out: Distribution[] = [base as Distribution];
  for (const table of Object.values(cases))
    for (const range of Object.values(table)) out.push({ ...base, ...range } as Distribution);
  return out;
}
