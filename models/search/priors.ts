/**
 * Data-aware priors as data: a space template may give a numeric range end as a *scaled bound*
 * `{ per, times, min, max }` = clamp(times * context[per], min, max) (rounded for ints), resolved against the
 * study's data before anything is sampled. The context quantities:
 *
 * - `features`: the encoded input width (what the first Dense layer sees);
 * - `inverseSteps`: 1 / the fewest optimiser steps a trial can take, epochs x ceil(trainRows / largest batch
 *   size the template allows) — a moving average's horizon must fit in it.
 *
 * A resolved template is an ordinary space (parseSpace validates it); users' overrides merge over it as usual.
 */
import { isPlainObject } from './json';
import { parseSpace, type SearchSpace } from './space';

export interface SpaceContext {
  /** Encoded input width. */
  features: number;
  /** Rows in the training split. */
  trainRows: number;
  /** Epochs per trial (the study budget). */
  epochs: number;
}

/** Digits-shaped data with the default budget: what DEFAULT_SPACE is resolved for. */
export const DEFAULT_CONTEXT: SpaceContext = { features: 64, trainRows: 1257, epochs: 20 };

export const SCALES = ['features', 'inverseSteps'] as const;
export type Scale = (typeof SCALES)[number];

export interface ScaledBound {
  per: Scale;
  times: number;
  min: number;
  max: number;
}

/** A distribution whose `low` / `high` may be scaled bounds (everything else as in a space). */
export type TemplateDistribution = Record<string, unknown> & {
  low?: number | ScaledBound;
  high?: number | ScaledBound;
};
export type SpaceTemplate = Record<string, TemplateDistribution>;

function isScaled(v: unknown): v is ScaledBound {
  return isPlainObject(v) && 'per' in v;
}

/** The fewest optimiser steps a trial of the template can take (the largest batch size it allows). */
export function fewestSteps(template: SpaceTemplate, context: SpaceContext): number {
  const b = template.batchSize;
  let largest = 64;
  if (b?.type === 'categorical') largest = Math.max(...(b.choices as number[]));
  else if (b?.type === 'const') largest = b.value as number;
  else if (b?.type === 'int') largest = b.high as number;
  return context.epochs * Math.ceil(context.trainRows / largest);
}

function scaleValue(per: Scale, template: SpaceTemplate, context: SpaceContext): number {
  if (per === 'features') return context.features;
  return 1 / fewestSteps(template, context);
}

/** The template's scaled bounds resolved for `context`, then validated as a space. */
export function resolveTemplate(template: SpaceTemplate, context: SpaceContext): SearchSpace {
  for (const [k, v] of Object.entries(context))
    if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`space context ${k} must be a positive number (got ${v})`);
  const out: Record<string, unknown> = {};
  for (const [name, dist] of Object.entries(template)) {
    const resolved: Record<string, unknown> = { ...dist };
    for (const end of ['low', 'high'] as const) {
      const bound = dist[end];
      if (!isScaled(bound)) continue;
      if (!SCALES.includes(bound.per)) throw new RangeError(`${name}.${end}: unknown scale "${String(bound.per)}"`);
      let v = Math.min(bound.max, Math.max(bound.min, bound.times * scaleValue(bound.per, template, context)));
      if (dist.type === 'int') v = Math.round(v);
      else v = Number(v.toPrecision(6));
      resolved[end] = v;
    }
    out[name] = resolved;
  }
  return parseSpace(out);
}
