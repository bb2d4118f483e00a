/**
 * Study-level overrides of a base space. An override is either a distribution (an object with "type") or any
 * other JSON value, which fixes the parameter (a const). An override without its own `when` keeps the base
 * parameter's condition, so narrowing `momentum`'s range does not make it apply to Adam.
 *
 * Narrowing a switch can make gated parameters impossible (fix optimizer to 'adam' and `momentum` can never be
 * active). Such base parameters are dropped, and inherited condition values that became impossible are
 * removed; a parameter the overrides themselves name but that can never be active is an error, because the
 * study asked for something it would silently not get.
 */
import { contains } from './distributions';
import { isPlainObject, type JsonValue } from './json';
import {
  caseKey,
  parseDistribution,
  parseSpace,
  type Condition,
  type Distribution,
  type SearchSpace,
  SpaceError,
  unknownParamIssue,
} from './space';

export type SpaceOverrides = Record<string, Distribution | JsonValue>;

export function mergeSpace(base: SearchSpace, overrides: SpaceOverrides): SearchSpace {
  if (!isPlainObject(overrides))
    throw new SpaceError(['overrides must be an object from parameter name to distribution or value']);
  const issues: string[] = [];
  // Maps, not objects: override names come from users and must not reach Object.prototype ("__proto__").
  const replaced = new Map<string, Distribution>();
  const explicitWhen = new Set<string>();
  for (const [name, raw] of Object.entries(overrides)) {
    const unknown = unknownParamIssue(name);
    if (unknown) {
      issues.push(unknown);
      continue;
    }
    const inherited = Object.hasOwn(base, name) ? base[name]!.when : undefined;
    let dist: Distribution | undefined;
    if (isPlainObject(raw) && 'type' in raw) {
      const parsed = parseDistribution(name, raw);
      issues.push(...parsed.issues);
      dist = parsed.dist;
      if (dist && dist.when !== undefined) explicitWhen.add(name);
    } else {
      dist = { type: 'const', value: raw as JsonValue };
    }
    if (dist) replaced.set(name, dist.when === undefined && inherited ? { ...dist, when: inherited } : dist);
  }
  // No early exit: merging what did parse still finds the remaining problems, and all are reported together.

  // Base order first (overridden parameters keep their place), new parameters after.
  const combined = new Map<string, Distribution>(Object.entries(base));
  for (const [name, dist] of replaced) combined.set(name, dist);
  const merged: SearchSpace = {};
  for (const [name, original] of combined) {
    const dist = narrowCases(original, merged);
    if (!dist.when || explicitWhen.has(name)) {
      merged[name] = dist;
      continue;
    }
    const { when, deadBecause } = narrowCondition(dist.when, merged);
    if (deadBecause === undefined) merged[name] = { ...dist, when };
    else if (replaced.has(name)) issues.push(`${name}: overridden, but it can never be active: ${deadBecause}`);
  }
  // Report pruning problems together with the merged space's own, so one round trip shows every mistake.
  let space: SearchSpace | undefined;
  try {
    space = parseSpace(merged);
  } catch (err) {
    if (!(err instanceof SpaceError)) throw err;
    issues.push(...err.issues);
  }
  if (issues.length || !space) throw new SpaceError(issues);
  return space;
}

/** Keeps the condition values still possible under the merged space; reports why the condition can never hold. */
function narrowCondition(when: Condition, merged: SearchSpace): { when: Condition; deadBecause?: string } {
  const out: Condition = {};
  for (const [ref, allowed] of Object.entries(when)) {
    const refDist = Object.hasOwn(merged, ref) ? merged[ref] : undefined;
    if (!refDist) return { when, deadBecause: `it depends on ${ref}, which is no longer in the space` };
    const possible = allowed.filter((v) => contains(refDist, v));
    if (possible.length === 0)
      return { when, deadBecause: `${ref} can no longer be ${allowed.map((v) => JSON.stringify(v)).join(' or ')}` };
    out[ref] = possible;
  }
  return { when: out };
}

/** Drops the cases of values (or switches) the merged space can no longer produce: they can never apply. */
function narrowCases(d: Distribution, merged: SearchSpace): Distribution {
  if ((d.type !== 'float' && d.type !== 'int') || !d.cases) return d;
  const cases: NonNullable<typeof d.cases> = {};
  for (const [ref, table] of Object.entries(d.cases)) {
    const refDist = Object.hasOwn(merged, ref) ? merged[ref] : undefined;
    if (!refDist) continue;
    const kept = Object.entries(table).filter(([key]) =>
      refDist.type === 'categorical'
        ? refDist.choices.some((c) => caseKey(c) === key)
        : refDist.type === 'const'
          ? caseKey(refDist.value) === key
          : contains(refDist, Number(key)),
    );
    if (kept.length) cases[ref] = Object.fromEntries(kept);
  }
  const { cases: _dropped, ...base } = d;
  return (Object.keys(cases).length ? { ...base, cases } : base) as Distribution;
}
