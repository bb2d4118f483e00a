/**
 * The whole trial plan of a sampler that plans ahead (random, grid, local): trials 0.. until `spec.trials`
 * or the sampler runs out. A pure function of the spec (and, for `local`, the earlier study's records).
 * TPE proposes at dispatch time instead (shared/study/search.ts), so it has no plan.
 */
import { createProposer, samplerOf } from './search';
import type { PlannedTrial, StudySpec, TrialRecord } from './types';

export { studySpace, validateSpace } from './search';

export function planTrials(spec: StudySpec, earlier: TrialRecord[] = []): PlannedTrial[] {
  if (samplerOf(spec) === 'tpe') throw new Error('TPE proposes at dispatch time; it has no plan');
  const proposer = createProposer(spec, earlier);
  const plan: PlannedTrial[] = [];
  for (let i = 0; i < spec.trials; i++) {
    const p = proposer.propose(i, { finished: [], running: [] });
    if (!p) break;
    plan.push(p);
  }
  return plan;
}
