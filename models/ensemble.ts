/**
 * Ensemble selection (Caruana et al. 2004, "Ensemble Selection from Libraries of Models"): from the study's
 * complete trials, greedily add, with replacement, the model whose inclusion most improves the validation
 * score of the averaged probabilities; keep the best ensemble seen along the way. Members chosen several
 * times weigh more. Pure: the caller supplies each candidate's validation probabilities.
 */
import { temperedNll } from './calibration';
import { scoreRows } from './scoring';

export interface EnsembleCandidate {
  /** The trial number (what metadata lists). */
  id: number;
  /** Validation probabilities, rows x classes, row-major. */
  probs: Float32Array;
}

export interface EnsembleSelection {
  /** Distinct members and how many times each was picked (the averaging weights, up to normalisation). */
  members: { id: number; weight: number }[];
  valAccuracy: number;
  valLoss: number;
  /** Every greedy round: the member added and the score after it (the selection log). */
  rounds: { added: number; valAccuracy: number; valLoss: number }[];
}

export const ENSEMBLE_DEFAULTS = {
  /** Greedy rounds (additions with replacement). */
  rounds: 20,
  /** At most this many distinct members: serving cost grows with each one. */
  maxMembers: 5,
} as const;

/** Validation accuracy of a probability matrix: the same arg-max (ties to the lowest class) as every other score. */
export function accuracyOf(probs: Float32Array, labels: Int32Array, classes: number): number {
  return scoreRows(probs, labels, classes).accuracy;
}

/** Weighted average of probability matrices. */
export function averageProbabilities(parts: { probs: Float32Array; weight: number }[]): Float32Array {
  const total = parts.reduce((a, p) => a + p.weight, 0);
  const out = new Float32Array(parts[0]!.probs.length);
  for (const p of parts) {
    const w = p.weight / total;
    for (let i = 0; i < out.length; i++) out[i]! += w * p.probs[i]!;
  }
  return out;
}

/**
 * Greedy selection with replacement. Score: validation accuracy, ties broken by lower validation NLL (accuracy
 * on a few hundred rows ties often), then by the earlier candidate. Once `maxMembers` distinct members are in,
 * only they can be picked again.
 */
export function selectEnsemble(
  candidates: EnsembleCandidate[],
  labels: Int32Array,
  classes: number,
  options: { rounds?: number; maxMembers?: number } = {},
): EnsembleSelection {
  if (!candidates.length) throw new Error('ensemble selection needs at least one candidate');
  const rounds = options.rounds ?? ENSEMBLE_DEFAULTS.rounds;
  const maxMembers = options.maxMembers ?? ENSEMBLE_DEFAULTS.maxMembers;
  const n = labels.length;
  for (const c of candidates)
    if (c.probs.length !== n * classes) throw new Error(`candidate ${c.id}: expected ${n * classes} probabilities`);
  const sum = new Float64Array(n * classes);
  const counts = new Map<number, number>();
  const log: EnsembleSelection['rounds'] = [];
  let best: EnsembleSelection | null = null;
  const better = (acc: number, loss: number, than: { valAccuracy: number; valLoss: number } | null) =>
    !than || acc > than.valAccuracy || (acc === than.valAccuracy && loss < than.valLoss);
  const trial = new Float32Array(n * classes);
  for (let round = 1; round <= rounds; round++) {
    let pick: { i: number; acc: number; loss: number } | null = null;
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i]!;
      if (!counts.has(c.id) && counts.size >= maxMembers) continue;
      for (let k = 0; k < trial.length; k++) trial[k] = (sum[k]! + c.probs[k]!) / round;
      const acc = accuracyOf(trial, labels, classes);
      const loss = temperedNll(trial, labels, classes, 1);
      if (!pick || acc > pick.acc || (acc === pick.acc && loss < pick.loss)) pick = { i, acc, loss };
    }
    const chosen = candidates[pick!.i]!;
    for (let k = 0; k < sum.length; k++) sum[k]! += chosen.probs[k]!;
    counts.set(chosen.id, (counts.get(chosen.id) ?? 0) + 1);
    log.push({ added: chosen.id, valAccuracy: pick!.acc, valLoss: pick!.loss });
    if (better(pick!.acc, pick!.loss, best))
      best = {
        members: [...counts].map(([id, weight]) => ({ id, weight })),
        valAccuracy: pick!.acc,
        valLoss: pick!.loss,
        rounds: [],
      };
  }
  return { ...best!, rounds: log };
}
