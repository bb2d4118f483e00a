/**
 * The search space as data: an ordered JSON object from parameter name to distribution. Order matters
 * because conditions (`when`) may only look at parameters declared earlier; that keeps sampling a single
 * forward pass and makes a parameter's activity known before its value is drawn.
 *
 * Distributions (all JSON):
 * - `{ type: 'float', low, high, log?, step?, oneMinus?, zeroProbability? }`
 *   - `log`: log-uniform on [low, high] (low > 0).
 *   - `step`: values low, low + step, ... <= high (linear scale only).
 *   - `oneMinus` (with `log`): v is log-uniform on [low, high] and the parameter is 1 - v. For momentum-like
 *     parameters this makes 0.9, 0.99 and 0.999 equally likely, which a log scale on the value itself cannot.
 *     Requires 0 < low < high <= 1; the parameter then lies in [1 - high, 1 - low].
 *   - `zeroProbability` p: the parameter is exactly 0 with probability p, otherwise drawn from the range
 *     (low > 0). This is how L1/L2 can be "off": one parameter, no extra switch key leaking into the config.
 * - `{ type: 'int', low, high, step?, log? }`: inclusive bounds; `log` (low >= 1) excludes `step` > 1.
 * - `{ type: 'categorical', choices: (string | number | boolean)[] }`: distinct choices, uniform.
 * - `{ type: 'const', value }`: any JSON value, always that value.
 * Any of them may carry `when: { other: [values...] }`: the parameter is active only if every listed earlier
 * parameter is active and equals one of its listed values. Inactive parameters are absent from an assignment.
 * Parameter names are ModelConfig keys (not epochs), and every value a distribution can produce must pass the
 * model's own validation, so a sampled assignment always makes a valid model.
 */
import type { z } from 'zod';
import { ModelConfigSchema } from '../config';
import {
  allCases,
  caseKey,
  caseRefs,
  DISTRIBUTION_TYPES,
  DistributionSchema,
  type Choice,
  type Distribution,
  type SearchSpace,
} from './distribution-schema';
import { contains, probeValues } from './distributions';
import { isPlainObject, type JsonValue } from './json';

// The shapes live apart from the rules so that distributions.ts (which the rules use) can name them.
export {
  CategoricalSchema,
  ConstSchema,
  DISTRIBUTION_TYPES,
  DistributionSchema,
  FloatSchema,
  IntSchema,
  type CategoricalDistribution,
  type Choice,
  type Condition,
  type ConstDistribution,
  type Distribution,
  type FloatDistribution,
  type IntDistribution,
  type SearchSpace,
  caseKey,
  caseRefs,
  specialise,
} from './distribution-schema';

/** A space that failed validation; `issues` holds one "param: problem" line each. */
export class SpaceError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid search space:\n  - ${issues.join('\n  - ')}`);
    this.name = 'SpaceError';
  }
}

/** Parameters the model understands; epochs is excluded because the study budget sets it. */
const MODEL_KEYS = Object.keys(ModelConfigSchema.shape).filter((k) => k !== 'epochs');

function zodIssues(prefix: string, error: z.ZodError): string[] {
  return error.issues.map((i) => `${[prefix, ...i.path.map(String)].join('.')}: ${i.message}`);
}

/** Structural parse of one distribution, with a readable message for an unknown or missing `type`. */
export function parseDistribution(name: string, input: unknown): { dist?: Distribution; issues: string[] } {
  if (!isPlainObject(input)) return { issues: [`${name}: a distribution must be an object with a "type"`] };
  if (!DISTRIBUTION_TYPES.includes(input.type as (typeof DISTRIBUTION_TYPES)[number])) {
    return {
      issues: [`${name}.type: must be one of ${DISTRIBUTION_TYPES.join(', ')} (got ${JSON.stringify(input.type)})`],
    };
  }
  const parsed = DistributionSchema.safeParse(input);
  if (!parsed.success) return { issues: zodIssues(name, parsed.error) };
  const dist = parsed.data as Distribution;
  const [base, ...cases] = allCases(dist);
  const issues = [
    ...rangeIssues(base!).map((m) => `${name}: ${m}`),
    ...cases.flatMap((c) => rangeIssues(c).map((m) => `${name}.cases: ${m}`)),
    ...cases.flatMap((c) => enclosureIssue(base!, c)).map((m) => `${name}.cases: ${m}`),
  ];
  return issues.length ? { issues } : { dist, issues };
}

/** Rules that tie fields of one distribution together. */
function rangeIssues(d: Distribution): string[] {
  const out: string[] = [];
  if (d.type === 'float') {
    if (!(d.low < d.high)) out.push(`low (${d.low}) must be below high (${d.high}); use a const for a fixed value`);
    if (d.log && d.low <= 0) out.push(`log scale needs low > 0 (got ${d.low})`);
    if (d.log && d.step !== undefined) out.push('step cannot be combined with log');
    if (d.oneMinus && !d.log)
      out.push('oneMinus needs log: true (on a linear scale use low/high of the value directly)');
    if (d.oneMinus && d.high > 1) out.push(`oneMinus needs high <= 1 so that 1 - v >= 0 (got ${d.high})`);
    if (d.zeroProbability !== undefined && d.oneMinus) out.push('zeroProbability cannot be combined with oneMinus');
    if (d.zeroProbability !== undefined && d.low <= 0)
      out.push(`zeroProbability needs low > 0 so that 0 is separate from the range (got ${d.low})`);
  } else if (d.type === 'int') {
    if (!(d.low < d.high)) out.push(`low (${d.low}) must be below high (${d.high}); use a const for a fixed value`);
    if (d.log && d.low < 1) out.push(`log scale needs low >= 1 (got ${d.low})`);
    if (d.log && d.step !== undefined && d.step !== 1) out.push('step > 1 cannot be combined with log');
  } else if (d.type === 'categorical') {
    const seen = new Set<Choice>();
    for (const c of d.choices) {
      if (seen.has(c)) out.push(`choice ${JSON.stringify(c)} appears twice`);
      seen.add(c);
    }
  }
  return out;
}

function allValues(d: Distribution): JsonValue[] {
  return d.type === 'categorical' ? d.choices : d.type === 'const' ? [d.value] : [];
}

/** A case's range must lie inside the base range, so the base says everything the parameter can produce. */
function enclosureIssue(base: Distribution, c: Distribution): string[] {
  if ((base.type !== 'float' && base.type !== 'int') || (c.type !== 'float' && c.type !== 'int')) return [];
  return c.low < base.low || c.high > base.high
    ? [`the range [${c.low}, ${c.high}] is not inside the base range [${base.low}, ${base.high}]`]
    : [];
}

/** Whether a parameter is active given the values chosen so far (absent = inactive). */
export function isActive(dist: Distribution, partial: Readonly<Record<string, JsonValue>>): boolean {
  if (!dist.when) return true;
  for (const [ref, allowed] of Object.entries(dist.when)) {
    if (!Object.hasOwn(partial, ref)) return false;
    const v = partial[ref];
    if (!allowed.some((a) => a === v)) return false;
  }
  return true;
}

/** Names a space may use: ModelConfig keys (own properties only, so "toString" or "__proto__" never pass). */
export function unknownParamIssue(name: string): string | undefined {
  if (name === 'epochs') return `${name}: not a tunable model parameter (epochs comes from the study budget)`;
  if (!MODEL_KEYS.includes(name))
    return `${name}: not a tunable model parameter (known keys: ${MODEL_KEYS.join(', ')})`;
  return undefined;
}

/** Every value a distribution can produce must also be a valid value of the model key it sets. */
function modelIssues(name: string, d: Distribution): string[] {
  const field = (ModelConfigSchema.shape as Record<string, z.ZodType>)[name]!;
  // One message per parameter: the first offending probe is an end of the range, the most useful to show.
  for (const v of allCases(d).flatMap(probeValues)) {
    const r = field.safeParse(v);
    if (!r.success)
      return [
        `${name}: can produce ${JSON.stringify(v)}, which the model rejects (${r.error.issues[0]?.message ?? 'invalid'})`,
      ];
  }
  return [];
}

function conditionIssues(name: string, d: Distribution, earlier: ReadonlyMap<string, Distribution>): string[] {
  const out: string[] = [];
  for (const [ref, allowed] of Object.entries(d.when ?? {})) {
    const refDist = earlier.get(ref);
    if (ref === name) out.push(`${name}.when: refers to itself`);
    else if (!refDist) out.push(`${name}.when: refers to "${ref}", which is not declared before ${name}`);
    else {
      for (const v of allowed) {
        if (!contains(refDist, v))
          out.push(`${name}.when.${ref}: ${JSON.stringify(v)} is not a possible value of ${ref}`);
      }
    }
  }
  for (const ref of caseRefs(d)) {
    const refDist = earlier.get(ref);
    if (!refDist) out.push(`${name}.cases: refers to "${ref}", which is not declared before ${name}`);
    else
      for (const key of Object.keys((d as { cases: Record<string, Record<string, unknown>> }).cases[ref]!)) {
        const possible =
          refDist.type === 'categorical' || refDist.type === 'const'
            ? allValues(refDist).some((v) => caseKey(v) === key)
            : contains(refDist, Number(key));
        if (!possible) out.push(`${name}.cases.${ref}: ${key} is not a possible value of ${ref}`);
      }
  }
  return out;
}

/** Validates a space (structure, cross-field rules, conditions, model domain) and returns it typed. */
export function parseSpace(input: unknown): SearchSpace {
  if (!isPlainObject(input)) throw new SpaceError(['the space must be an object from parameter name to distribution']);
  const issues: string[] = [];
  const space: SearchSpace = {};
  const earlier = new Map<string, Distribution>();
  for (const [name, raw] of Object.entries(input)) {
    const unknown = unknownParamIssue(name);
    if (unknown) {
      issues.push(unknown);
      continue;
    }
    const { dist, issues: own } = parseDistribution(name, raw);
    issues.push(...own);
    if (!dist) continue;
    issues.push(...conditionIssues(name, dist, earlier), ...modelIssues(name, dist));
    space[name] = dist;
    earlier.set(name, dist);
  }
  if (Object.keys(input).length === 0) issues.push('the space has no parameters');
  if (issues.length) throw new SpaceError(issues);
  return space;
}
