/** Pure aggregation over trial records: progress counts and ranking (the promotion guard is compare.ts). */
import type { LeaderboardEntry, Progress, TrialRecord, TrialState } from './types';

export function progressOf(states: TrialState[]): Progress {
  const p: Progress = { total: states.length, pending: 0, running: 0, complete: 0, pruned: 0, diverged: 0, failed: 0 };
  for (const s of states) p[s] += 1;
  return p;
}

export function toEntry(r: TrialRecord): LeaderboardEntry {
  return {
    trial: r.trial,
    status: r.status,
    valAccuracy: r.final?.valAccuracy ?? null,
    valLoss: r.final?.valLoss ?? null,
    epochs: r.history.length,
    prunedAtEpoch: r.status === 'pruned' ? (r.prunedAtEpoch ?? r.history.length) : null,
    params: r.params,
    config: r.config,
  };
}

/**
 * Ranks trials: complete ones by validation accuracy (higher first), then validation loss (lower
 * first), then trial number; pruned trials after them (their accuracy is from fewer epochs, so not
 * comparable), then diverged and failed ones. Nothing ranks ahead of a complete trial.
 */
export function rank(records: TrialRecord[]): LeaderboardEntry[] {
  const score = (e: LeaderboardEntry) =>
    e.status === 'complete' && e.valAccuracy !== null ? 0 : e.status === 'pruned' ? 1 : 2;
  return records
    .map(toEntry)
    .sort(
      (a, b) =>
        score(a) - score(b) ||
        (b.valAccuracy ?? -1) - (a.valAccuracy ?? -1) ||
        (a.valLoss ?? Infinity) - (b.valLoss ?? Infinity) ||
        a.trial - b.trial,
    );
}

/** The promotable best: a complete trial with weights. Pruned, diverged and failed trials never qualify. */
export function bestPromotable(records: TrialRecord[]): TrialRecord | null {
  const byTrial = new Map(records.map((r) => [r.trial, r]));
  for (const e of rank(records)) {
    const r = byTrial.get(e.trial)!;
    if (r.status === 'complete' && r.weightsKey && r.final) return r;
  }
  return null;
}

/** Complete trials an ensemble may draw on besides `bestTrial`: at most this many in all, best first. */
export const ENSEMBLE_POOL = 10;

/** The next best complete trials with weights after `bestTrial` (ensemble selection's other candidates). */
export function ensemblePool(records: TrialRecord[], bestTrial: number, size = ENSEMBLE_POOL): TrialRecord[] {
  const byTrial = new Map(records.map((r) => [r.trial, r]));
  return rank(records)
    .map((e) => byTrial.get(e.trial)!)
    .filter((r) => r.trial !== bestTrial && r.status === 'complete' && r.weightsKey && r.final)
    .slice(0, size - 1);
}
