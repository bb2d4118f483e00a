/**
 * An assignment is what a sampler proposes: the active parameters of a space and their values (inactive
 * ones are absent). `toConfig` turns it into the full ModelConfig a trial trains with.
 */
import { z } from 'zod';
import { DEFAULT_CONFIG, type ModelConfig, resolveConfig } from '../config';
import { canonicalJson, fnv1a64, type JsonValue } from './json';
import { isActive, specialise, type Distribution, type SearchSpace } from './space';

export type Assignment = Record<string, JsonValue>;
export const AssignmentSchema = z.record(z.string(), z.json());

/** Canonical text of an assignment: sorted keys, numbers rounded; equal text = same configuration. */
export function assignmentKey(params: Assignment): string {
  return canonicalJson(params);
}

/** Short stable id of an assignment (hash of its canonical text), e.g. for KV keys. */
export function assignmentHash(params: Assignment): string {
  return fnv1a64(assignmentKey(params));
}

/**
 * Walks the space in declaration order, asking `pick` for each active parameter's value. `pick` is called
 * for inactive parameters too (with active = false, result ignored), so a sampler that draws one random
 * number per parameter keeps every later parameter's draw aligned whatever the earlier branches were.
 */
export function buildAssignment(
  space: SearchSpace,
  pick: (name: string, dist: Distribution, active: boolean, partial: Readonly<Assignment>) => JsonValue,
): Assignment {
  const out: Assignment = {};
  for (const [name, dist] of Object.entries(space)) {
    const active = isActive(dist, out);
    // A range that depends on earlier values (`cases`) is resolved here, once for every sampler.
    const value = pick(name, specialise(dist, out), active, out);
    if (active) out[name] = value;
  }
  return out;
}

/** The assignment restricted to what is active under the space's conditions (dead keys dropped). */
export function activeAssignment(space: SearchSpace, params: Assignment): Assignment {
  const out: Assignment = {};
  for (const [name, dist] of Object.entries(space)) {
    if (name in params && isActive(dist, out)) out[name] = params[name]!;
  }
  return out;
}

/**
 * A full, validated ModelConfig: sampled values over DEFAULT_CONFIG, with epochs from the study budget.
 * Parameters missing from the assignment (inactive ones) keep their defaults, which is harmless because an
 * inactive parameter has no effect on training by construction of the conditions.
 */
export function toConfig(params: Assignment, epochs: number): ModelConfig {
  const unknown = Object.keys(params).filter((k) => !Object.hasOwn(DEFAULT_CONFIG, k) || k === 'epochs');
  if (unknown.length) throw new Error(`not tunable model parameters: ${unknown.join(', ')}`);
  return resolveConfig({ ...(params as Partial<ModelConfig>), epochs });
}

/**
 * A whole configuration as an assignment (every parameter but `epochs`, which the study's budget sets): what a
 * warm start enqueues for a champion that came from a training session, which has one configuration and no
 * trials. `toConfig(assignmentOf(c), c.epochs)` gives `c` back.
 */
export function assignmentOf(config: ModelConfig): Assignment {
  const out: Assignment = {};
  for (const [k, v] of Object.entries(config)) if (k !== 'epochs' && v !== undefined) out[k] = v as Assignment[string];
  return out;
}
