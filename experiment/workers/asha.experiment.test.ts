/**
 * ASHA vs random search at the same total epoch budget, on digits, over several study seeds.
 *
 * Both methods draw configurations from the same plan (planTrials: `asha` samples as `random` does), so
 * ASHA's first trials are random search's trials: the comparison is paired per seed. Trials run one after
 * another (the asynchronous rule with one worker), through the product's train() and ashaDecision().
 * Prints one `EXPERIMENT_RESULT {json}` line; experiment/run-asha.mjs turns it into the results file.
 */
import { expect, inject, it } from 'vitest';
import { prepareSplit, type Split } from '../../models/dataset';
import { loadEmbeddedDigits } from '../../models/digits-embedded';
import { train } from '../../models/train';
import { SPLIT_SEED } from '../../shared/datasets';
import { ashaDecision, ashaRungs, DEFAULT_ASHA } from '../../shared/study/asha';
import { planTrials } from '../../shared/study/plan';
import { evaluateTest } from '../../shared/study/evaluate-split';
import type { StudySpec } from '../../shared/study/types';
import { initBackend } from '../../shared/tf/backend';

type Method = 'random' | 'asha';

interface Point {
  /** Cumulative epochs trained when this trial ended. */
  epochs: number;
  trial: number;
  outcome: 'complete' | 'pruned' | 'diverged' | 'budget';
  /** The promotable best so far (complete trials only): validation and test accuracy. */
  bestVal: number | null;
  bestTest: number | null;
}

export interface Run {
  method: Method;
  seed: number;
  budget: number;
  epochsUsed: number;
  trials: { started: number; complete: number; pruned: number; diverged: number };
  points: Point[];
  wallMs: number;
}

function spec(seed: number, method: Method, trials: number, epochs: number): StudySpec {
  return {
    ...{
      id: `exp-${method}-${seed}`,
      model: 'exp',
      dataset: 'digits',
      strategy: method,
      trials,
      seed,
      parallelism: 1,
      margin: 0,
      significance: 0.05,
    },
    ...{ budget: { epochs, maxSeconds: 290 }, space: {}, from: null, datasetVersion: 'embedded', warmStart: null },
    ...{
      createdAt: new Date(0).toISOString(),
      origin: 'api' as const,
      faults: null,
      asha: method === 'asha' ? DEFAULT_ASHA : null,
    },
  };
}

async function search(method: Method, seed: number, split: Split, epochs: number, budget: number): Promise<Run> {
  const t0 = performance.now();
  // More configurations than the budget can ever reach: the budget, not the plan, ends the search.
  const plan = planTrials(spec(seed, method, Math.ceil(budget / DEFAULT_ASHA.minEpochs), epochs));
  const rungs = new Set(method === 'asha' ? ashaRungs(DEFAULT_ASHA, epochs) : []);
  const atRung = new Map<number, number[]>();
  const run: Run = {
    method,
    seed,
    budget,
    epochsUsed: 0,
    trials: { started: 0, complete: 0, pruned: 0, diverged: 0 },
    points: [],
    wallMs: 0,
  };
  let best: { val: number; loss: number; test: number } | null = null;
  for (const p of plan) {
    if (run.epochsUsed >= budget) break;
    const before = run.epochsUsed;
    let cut = false;
    const result = await train(p.config, split, p.seed, {
      checkpoint: async (r) => {
        // The budget is exact: a trial still running when it runs out is cut (and cannot be promoted).
        if (before + r.epoch >= budget) return ((cut = true), 'stop');
        if (!rungs.has(r.epoch)) return 'continue';
        const seen = atRung.get(r.epoch) ?? [];
        const decision = ashaDecision(r.valAccuracy, seen, DEFAULT_ASHA.reductionFactor);
        atRung.set(r.epoch, [...seen, r.valAccuracy]);
        return decision;
      },
    });
    run.trials.started += 1;
    run.epochsUsed += result.history.length;
    let outcome: Point['outcome'];
    if (result.status === 'diverged') outcome = 'diverged';
    else if (cut) outcome = 'budget';
    else if (result.stopReason === 'pruned') outcome = 'pruned';
    else outcome = 'complete';
    if (outcome === 'complete') {
      const val = result.final!.valAccuracy;
      const loss = result.final!.valLoss;
      // The leaderboard's order: accuracy, then loss; an earlier trial keeps a tie.
      if (!best || val > best.val || (val === best.val && loss < best.loss))
        best = { val, loss, test: evaluateTest(result.weights!, p.config, split).accuracy };
    }
    if (outcome === 'complete' || outcome === 'pruned' || outcome === 'diverged') run.trials[outcome] += 1;
    run.points.push({
      epochs: run.epochsUsed,
      trial: p.trial,
      outcome,
      bestVal: best?.val ?? null,
      bestTest: best?.test ?? null,
    });
  }
  run.wallMs = performance.now() - t0;
  return run;
}

it('ASHA vs random search at equal total epochs on digits', async () => {
  const info = await initBackend();
  expect(info.backend).toBe('wasm');
  const split = prepareSplit(await loadEmbeddedDigits(), SPLIT_SEED);
  const seeds = Array.from({ length: inject('ashaSeeds') }, (_, i) => i + 1);
  const epochs = inject('ashaEpochs');
  const budget = inject('ashaRandomTrials') * epochs;
  const runs: Run[] = [];
  for (const seed of seeds) {
    for (const method of ['random', 'asha'] as const) {
      const run = await search(method, seed, split, epochs, budget);
      runs.push(run);
      console.error(
        `[asha] seed ${seed} ${method}: ${run.trials.started} trials, ${run.epochsUsed} epochs, best val ${run.points.at(-1)?.bestVal}, ${(run.wallMs / 1000).toFixed(1)} s`,
      );
    }
  }
  for (const r of runs) expect(r.epochsUsed).toBe(budget);
  console.log(
    `EXPERIMENT_RESULT ${JSON.stringify({ dataset: 'digits', splitSeed: SPLIT_SEED, epochs, budget, asha: DEFAULT_ASHA, rungs: ashaRungs(DEFAULT_ASHA, epochs), seeds, runs })}`,
  );
});
