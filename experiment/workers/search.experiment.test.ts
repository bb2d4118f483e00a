/**
 * Random search vs TPE vs TPE + ASHA at the same total epoch budget, each with and without the top-k
 * ensemble, and the temperature scaling of what a study would promote; on digits and on a wide synthetic table.
 *
 * Every method proposes through the product's own proposer (createProposer: the coordinator's dispatch-time
 * path), trains through train(), prunes with ashaDecision(), and decides what a study would promote with the
 * coordinator's own code: bestPromotable() and ensemblePool() over the trial records, then candidateFromScored()
 * (shared/study/candidate.ts: ensemble selection, the margin rule, temperature scaling, test metrics), on each
 * trial scored through the served (folded) network by scoreMember(). Trials run one after another (one
 * worker), so TPE sees every earlier result. TPE's start-up trials are random search's trials for the same
 * seed: the comparison is paired.
 * Prints one `EXPERIMENT_RESULT {json}` line; experiment/run-search.mjs turns it into the results file.
 */
import { expect, inject, it } from 'vitest';
import {
  applyTemperature,
  debiasedCalibrationError,
  eceNoiseFloor,
  equalMassCalibrationError,
  expectedCalibrationError,
  fitTemperature,
} from '../../models/calibration';
import { type Dataset, prepareSplit, type Split } from '../../models/dataset';
import { loadEmbeddedDigits } from '../../models/digits-embedded';
import { accuracyOf, averageProbabilities } from '../../models/ensemble';
import { Rng } from '../../models/random';
import { train } from '../../models/train';
import { SPLIT_SEED } from '../../shared/datasets';
import { ashaDecision, ashaRungs, DEFAULT_ASHA } from '../../shared/study/asha';
import { candidateFromScored, scoreMember, type ScoredMember } from '../../shared/study/candidate';
import { bestPromotable, ENSEMBLE_POOL, ensemblePool } from '../../shared/study/leaderboard';
import { createProposer } from '../../shared/study/search';
import type { StudySpec, TpeSettings, TrialRecord } from '../../shared/study/types';
import { initBackend } from '../../shared/tf/backend';

/**
 * The product's methods (random, tpe, tpe+asha with the default TPE settings), plus TPE variants that probe why
 * TPE fell behind at 20 trials: more random start-up trials (Optuna's 10), a larger good set (Hyperopt's
 * gamma 0.25), both, ranking by validation loss alone (with and without 10 start-up trials), and a heavier
 * prior. Run them with SEARCH_METHODS (e.g. "random,tpe,tpe loss"); the default run is the product's three.
 */
const VARIANTS = {
  random: { sampler: 'random', pruner: false, tpe: null },
  tpe: { sampler: 'tpe', pruner: false, tpe: null },
  'tpe+asha': { sampler: 'tpe', pruner: true, tpe: null },
  'tpe s10': { sampler: 'tpe', pruner: false, tpe: { startupTrials: 10 } },
  'tpe g.25': { sampler: 'tpe', pruner: false, tpe: { gammaFraction: 0.25 } },
  'tpe s10 g.25': { sampler: 'tpe', pruner: false, tpe: { startupTrials: 10, gammaFraction: 0.25 } },
  'tpe loss': { sampler: 'tpe', pruner: false, tpe: { rankBy: 'loss' } },
  'tpe loss s10': { sampler: 'tpe', pruner: false, tpe: { rankBy: 'loss', startupTrials: 10 } },
  'tpe pw3': { sampler: 'tpe', pruner: false, tpe: { priorWeight: 3 } },
} as const satisfies Record<string, { sampler: 'random' | 'tpe'; pruner: boolean; tpe: TpeSettings | null }>;
type Method = keyof typeof VARIANTS;

interface Point {
  epochs: number;
  trial: number;
  outcome: 'complete' | 'pruned' | 'diverged' | 'budget';
  val: number | null;
  /** Validation loss and test accuracy of a complete trial (diagnostics: the val-test gap; nothing chooses by test). */
  loss: number | null;
  test: number | null;
  bestVal: number | null;
  bestTest: number | null;
}

export interface Run {
  dataset: string;
  method: Method;
  seed: number;
  budget: number;
  epochsUsed: number;
  trials: { started: number; complete: number; pruned: number; diverged: number };
  points: Point[];
  best: { trial: number; val: number; test: number } | null;
  ensemble: { members: { id: number; weight: number }[]; val: number; test: number } | null;
  /** What a study would promote (the ensemble when it beats the best single trial on validation), calibrated. */
  promoted: {
    kind: 'single' | 'ensemble';
    test: number;
    temperature: number;
    eceValBefore: number;
    eceValAfter: number;
    eceTestBefore: number;
    eceTestAfter: number;
    /** Test split, before -> after: 15 equal-mass bins (L1), and Kumar et al.'s debiased L2 error. */
    equalMassTestBefore: number;
    equalMassTestAfter: number;
    debiasedTestBefore: number;
    debiasedTestAfter: number;
    /** The 15-bin test ECE of a perfectly calibrated model with the scaled model's confidences (mean, p90). */
    eceFloor: { mean: number; p90: number };
    /** Calibrating each member on validation before averaging (an alternative, not what ships): its test ECE. */
    membersFirst: { eceTest: number; debiasedTest: number } | null;
    /** A bound, not a model: T fitted on the test rows themselves, and the test ECE it reaches. */
    testOracle: { temperature: number; eceTest: number };
  } | null;
  wallMs: number;
}

/** The promoted model's test probabilities before and after scaling, per run (pooled after all runs, not written). */
const promotedTestProbs = new WeakMap<Run, { before: Float32Array; after: Float32Array }>();

/**
 * Calibration over the seeds' test rows pooled: each seed's promoted model on the same test rows, so seeds x rows
 * (confidence, label) pairs. One seed's rows put the ECE of a calibrated model near 0.02 (its floor), about what is
 * left to halve; pooling lowers the floor by about the square root of the seed count, so a halving can show.
 * It measures the procedure (what scaling does to the models a study promotes), not one model.
 */
function pooledCalibration(runs: Run[], split: Split) {
  const parts = runs.map((r) => promotedTestProbs.get(r)).filter((p) => p !== undefined);
  if (!parts.length) return null;
  const { classes } = split;
  const concat = (pick: (p: { before: Float32Array; after: Float32Array }) => Float32Array) => {
    const out = new Float32Array(parts.length * split.test.rows * classes);
    parts.forEach((p, i) => out.set(pick(p), i * split.test.rows * classes));
    return out;
  };
  const before = concat((p) => p.before);
  const after = concat((p) => p.after);
  const labels = new Int32Array(parts.length * split.test.rows);
  for (let i = 0; i < parts.length; i++) labels.set(split.test.y, i * split.test.rows);
  return {
    runs: parts.length,
    rows: labels.length,
    eceBefore: expectedCalibrationError(before, labels, classes),
    eceAfter: expectedCalibrationError(after, labels, classes),
    eceFloor: eceNoiseFloor(after, classes, { seed: 1 }),
    debiasedBefore: debiasedCalibrationError(before, labels, classes),
    debiasedAfter: debiasedCalibrationError(after, labels, classes),
  };
}

function spec(dataset: string, split: Split, seed: number, method: Method, epochs: number, trials: number): StudySpec {
  return {
    ...{ id: `exp-${dataset}-${method}-${seed}`, model: 'exp', dataset, strategy: 'random' as const, trials },
    ...{ seed, parallelism: 1, margin: 0, significance: 0.05, budget: { epochs, maxSeconds: 290 }, space: {} },
    from: null,
    ...{ datasetVersion: 'experiment', warmStart: null, createdAt: new Date(0).toISOString(), origin: 'api' as const },
    faults: null,
    data: { features: split.features, trainRows: split.train.rows },
    sampler: VARIANTS[method].sampler,
    pruner: VARIANTS[method].pruner ? { type: 'asha', ...DEFAULT_ASHA } : null,
    tpe: VARIANTS[method].tpe,
  };
}

async function search(name: string, split: Split, method: Method, seed: number, epochs: number, budget: number) {
  const t0 = performance.now();
  // `trials` sizes TPE's start-up (a quarter of random search's trial count); ASHA goes on past it.
  const s = spec(name, split, seed, method, epochs, budget / epochs);
  const proposer = createProposer(s);
  const rungs = new Set(s.pruner ? ashaRungs(s.pruner, epochs) : []);
  const atRung = new Map<number, number[]>();
  const finished: TrialRecord[] = [];
  const scored = new Map<number, ScoredMember>();
  const run: Run = {
    ...{ dataset: name, method, seed, budget, epochsUsed: 0 },
    trials: { started: 0, complete: 0, pruned: 0, diverged: 0 },
    ...{ points: [], best: null, ensemble: null, promoted: null, wallMs: 0 },
  };
  let best: { trial: number; val: number; loss: number; test: number } | null = null;
  let test: number | null = null;
  for (let n = 0; run.epochsUsed < budget; n++) {
    const p = proposer.propose(n, { finished, running: [] });
    if (!p) break;
    const before = run.epochsUsed;
    let cut = false;
    const result = await train(p.config, split, p.seed, {
      checkpoint: async (r) => {
        // The budget is exact: a trial still running when it runs out is cut (and cannot be promoted).
        if (before + r.epoch >= budget) {
          cut = true;
          return 'stop';
        }
        if (!rungs.has(r.epoch)) return 'continue';
        const seen = atRung.get(r.epoch) ?? [];
        atRung.set(r.epoch, [...seen, r.valAccuracy]);
        return ashaDecision(r.valAccuracy, seen, DEFAULT_ASHA.reductionFactor);
      },
    });
    run.trials.started += 1;
    run.epochsUsed += result.history.length;
    const outcome: Point['outcome'] =
      result.status === 'diverged'
        ? 'diverged'
        : cut
          ? 'budget'
          : result.stopReason === 'pruned'
            ? 'pruned'
            : 'complete';
    if (outcome !== 'budget') {
      finished.push({
        ...{ studyId: s.id, model: 'exp', trial: n, attempts: 1, source: p.source, params: p.params },
        ...{ config: p.config, seed: p.seed, status: outcome, reason: null, history: result.history },
        ...{ final: result.final, timing: null, stopReason: result.stopReason, backend: result.backend, simd: true },
        // A key only so the leaderboard's promotable filter sees a complete trial as the coordinator would.
        ...{ weightsKey: outcome === 'complete' ? `experiment/${n}` : null, finishedAt: new Date(0).toISOString() },
      });
    }
    if (outcome === 'complete') {
      const val = result.final!.valAccuracy;
      const loss = result.final!.valLoss;
      const member = { trial: n, config: p.config, weights: result.weights!, weightsKey: `experiment/${n}` };
      const scoredTrial = scoreMember(member, split);
      scored.set(n, scoredTrial);
      test = accuracyOf(scoredTrial.test, split.test.y, split.classes);
      // The leaderboard's order: accuracy, then loss; an earlier trial keeps a tie.
      if (!best || val > best.val || (val === best.val && loss < best.loss)) best = { trial: n, val, loss, test };
    }
    if (outcome !== 'budget') run.trials[outcome] += 1;
    run.points.push({
      ...{ epochs: run.epochsUsed, trial: n, outcome, val: result.final?.valAccuracy ?? null },
      ...{ loss: outcome === 'complete' ? result.final!.valLoss : null, test: outcome === 'complete' ? test : null },
      ...{ bestVal: best?.val ?? null, bestTest: best?.test ?? null },
    });
  }
  const top = bestPromotable(finished);
  if (best && top) {
    run.best = { trial: best.trial, val: best.val, test: best.test };
    // What the coordinator's finalize() would build (study-coordinator.ts candidate()), on the same records.
    const pool = ensemblePool(finished, top.trial).map((r) => scored.get(r.trial)!);
    const { candidate, choice } = candidateFromScored(
      {
        ...{ model: 'exp', studyId: s.id, trial: top.trial, dataset: name, datasetVersion: 'experiment' },
        ...{ config: top.config, weightsKey: top.weightsKey!, validation: top.final! },
      },
      scored.get(top.trial)!,
      pool,
      split,
      s.margin,
    );
    // With one complete trial no selection runs: the "ensemble" is that trial alone.
    const alone = scored.get(top.trial)!;
    run.ensemble = {
      members: choice.ensemble?.members.map((m) => ({ id: m.trial, weight: m.weight })) ?? [
        { id: top.trial, weight: 1 },
      ],
      val: choice.ensemble?.valAccuracy ?? alone.valAccuracy,
      test: accuracyOf(choice.selected?.test ?? alone.test, split.test.y, split.classes),
    };
    const cal = candidate.calibration!;
    const { y } = split.test;
    const { classes } = split;
    const after = applyTemperature(choice.test, classes, cal.temperature);
    promotedTestProbs.set(run, { before: choice.test, after });
    run.promoted = {
      kind: candidate.members ? 'ensemble' : 'single',
      test: candidate.metrics.testAccuracy,
      temperature: cal.temperature,
      eceValBefore: cal.eceBefore,
      eceValAfter: cal.eceAfter,
      eceTestBefore: cal.test.eceBefore,
      eceTestAfter: cal.test.eceAfter,
      equalMassTestBefore: equalMassCalibrationError(choice.test, y, classes),
      equalMassTestAfter: equalMassCalibrationError(after, y, classes),
      debiasedTestBefore: debiasedCalibrationError(choice.test, y, classes),
      debiasedTestAfter: debiasedCalibrationError(after, y, classes),
      eceFloor: eceNoiseFloor(after, classes, { seed }),
      membersFirst: candidate.members ? membersFirst(candidate.members, scored, split) : null,
      testOracle: (({ temperature, eceAfter }) => ({ temperature, eceTest: eceAfter }))(
        fitTemperature(choice.test, y, classes),
      ),
    };
  }
  run.wallMs = performance.now() - t0;
  return run;
}

/**
 * The alternative order: each member's own temperature fitted on validation, then the tempered members averaged
 * by the ensemble's weights (Rahaman & Thiery 2021 and Wu & Gales 2021 find averaging calibrated members leaves
 * the ensemble under-confident, and recommend scaling after the average, which is what ships).
 */
function membersFirst(members: { trial: number; weight: number }[], scored: Map<number, ScoredMember>, split: Split) {
  const tempered = members.map((m) => {
    const s = scored.get(m.trial)!;
    const t = fitTemperature(s.val, split.validation.y, split.classes).temperature;
    return { probs: applyTemperature(s.test, split.classes, t), weight: m.weight };
  });
  const test = averageProbabilities(tempered);
  return {
    eceTest: expectedCalibrationError(test, split.test.y, split.classes),
    debiasedTest: debiasedCalibrationError(test, split.test.y, split.classes),
  };
}

/**
 * A wide table: `informative` features carry the class (class means in that subspace plus unit noise),
 * `redundant` ones are random mixtures of them, and the rest are noise; every column gets its own scale and
 * offset, so standardisation matters. A one-hot-heavy real table looks like this to the first layer.
 */
function wideTable(seed: number): Dataset {
  const features = 600;
  const informative = 16;
  const redundant = 24;
  const classes = 10;
  const rows = 2000;
  const rng = new Rng(seed);
  const means = Array.from({ length: classes }, () => Array.from({ length: informative }, () => 0.9 * rng.normal()));
  const mixing = Array.from({ length: redundant }, () => Array.from({ length: informative }, () => rng.normal() / 4));
  const scale = Array.from({ length: features }, () => 10 ** (4 * rng.next() - 2));
  const offset = Array.from({ length: features }, () => 10 * rng.normal());
  const x = new Float32Array(rows * features);
  const y = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const c = r % classes;
    y[r] = c;
    const inf = means[c]!.map((m) => m + rng.normal());
    for (let f = 0; f < features; f++) {
      let v: number;
      if (f < informative) v = inf[f]!;
      else if (f < informative + redundant)
        v = mixing[f - informative]!.reduce((a, w, k) => a + w * inf[k]!, 0) + 0.3 * rng.normal();
      else v = rng.normal();
      x[r * features + f] = v * scale[f]! + offset[f]!;
    }
  }
  return {
    name: 'wide',
    featureNames: Array.from({ length: features }, (_, f) => `f${f}`),
    classNames: Array.from({ length: classes }, (_, c) => `c${c}`),
    x,
    y,
    rows,
    features,
  };
}

it('random vs TPE vs TPE + ASHA, +/- ensemble, at equal epoch budgets', async () => {
  const info = await initBackend();
  expect(info.backend).toBe('wasm');
  const seeds = Array.from({ length: inject('searchSeeds') }, (_, i) => i + 1);
  const epochs = inject('searchEpochs');
  const budget = inject('searchTrials') * epochs;
  const datasets: [string, Split][] = [
    ['digits', prepareSplit(await loadEmbeddedDigits(), SPLIT_SEED)],
    ['wide', prepareSplit(wideTable(2026), SPLIT_SEED)],
  ].filter(([name]) => inject('searchDatasets').includes(name as string)) as [string, Split][];
  const methods = inject('searchMethods') as Method[];
  for (const m of methods) if (!(m in VARIANTS)) throw new Error(`unknown method ${m}`);
  // A wall-clock deadline (SEARCH_DEADLINE): no new seed starts after it, so a run on a loaded machine
  // ends with whole seeds (every method) rather than being killed with nothing written.
  const deadline = inject('searchDeadline');
  const seedsRun: Record<string, number[]> = {};
  const runs: Run[] = [];
  for (const [name, split] of datasets) {
    seedsRun[name] = [];
    for (const seed of seeds) {
      if (deadline && Date.now() > deadline) {
        console.error(`[search] ${name}: deadline passed, seeds from ${seed} on not run`);
        break;
      }
      seedsRun[name]!.push(seed);
      for (const method of methods) {
        const run = await search(name, split, method, seed, epochs, budget);
        runs.push(run);
        console.error(
          `[search] ${name} seed ${seed} ${method}: ${run.trials.started} trials, ${run.epochsUsed} epochs, best val ${run.best?.val.toFixed(4)} test ${run.best?.test.toFixed(4)}, ensemble ${run.ensemble?.test.toFixed(4)}, ${(run.wallMs / 1000).toFixed(1)} s`,
        );
      }
    }
  }
  for (const r of runs) expect(r.epochsUsed).toBe(budget);
  const shapes = Object.fromEntries(
    datasets.map(([n, s]) => [
      n,
      {
        features: s.features,
        classes: s.classes,
        train: s.train.rows,
        validation: s.validation.rows,
        test: s.test.rows,
      },
    ]),
  );
  const pooled = Object.fromEntries(
    datasets.map(([n, split]) => [
      n,
      Object.fromEntries(
        methods.map((m) => [
          m,
          pooledCalibration(
            runs.filter((r) => r.dataset === n && r.method === m),
            split,
          ),
        ]),
      ),
    ]),
  );
  console.log(
    `EXPERIMENT_RESULT ${JSON.stringify({ splitSeed: SPLIT_SEED, epochs, budget, seedsRun, asha: DEFAULT_ASHA, rungs: ashaRungs(DEFAULT_ASHA, epochs), ensemblePool: ENSEMBLE_POOL, seeds, methods, datasets: shapes, pooled, runs })}`,
  );
});
