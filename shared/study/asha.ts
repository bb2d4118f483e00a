/**
 * Asynchronous successive halving (ASHA), the promotion rule of Li et al. 2018, "A System for Massively
 * Parallel Hyperparameter Tuning" (MLSys 2020, arXiv:1810.05934), in its stopping form: a trial that reaches
 * a rung continues iff its value is in the top max(1, floor(n / eta)) of the n values recorded at that rung
 * so far (its own included). No trial waits for a rung to fill: the decision uses whatever has reported,
 * so early trials are judged leniently and later ones against a growing field, as in the paper.
 */
import type { AshaSettings } from './types';

export const DEFAULT_ASHA: AshaSettings = { minEpochs: 1, reductionFactor: 3 };

export type RungDecision = 'continue' | 'stop';

/** Rung epochs minEpochs * eta^k strictly below the full budget (reaching the budget ends the trial anyway). */
export function ashaRungs(settings: AshaSettings, epochs: number): number[] {
  const rungs: number[] = [];
  for (let r = settings.minEpochs; r < epochs; r *= settings.reductionFactor) rungs.push(r);
  return rungs;
}

/**
 * The decision for `value` (higher is better) against `others`, the values other trials recorded at the
 * same rung. Ties with the k-th best continue, so equal trials are treated alike.
 */
export function ashaDecision(value: number, others: number[], reductionFactor: number): RungDecision {
  if (!Number.isFinite(value)) return 'stop';
  const all = [...others.filter(Number.isFinite), value].sort((a, b) => b - a);
  const keep = Math.max(1, Math.floor((others.length + 1) / reductionFactor));
  return value >= all[keep - 1]! ? 'continue' : 'stop';
}
