/** Summary and Markdown of the search experiment's raw runs (pure: no I/O). */
import { median } from './asha-report.mjs';

const range = (xs) => {
  const s = xs.filter((x) => x !== null && Number.isFinite(x));
  return s.length ? [Math.min(...s), Math.max(...s)] : null;
};
const stat = (xs) => ({ median: median(xs.map((x) => (x === null ? Infinity : x))), range: range(xs) });

/** Epochs at which the run's best validation accuracy first reached `target` (null: never). */
function epochsToReach(run, target) {
  return run.points.find((p) => p.bestVal !== null && p.bestVal >= target)?.epochs ?? null;
}

export function summarise({ seeds: allSeeds, seedsRun, methods, runs, budget }) {
  const datasets = [...new Set(runs.map((r) => r.dataset))];
  const out = {};
  for (const dataset of datasets) {
    // Seeds every method ran on this dataset (a deadline may have cut a run short).
    const seeds = (seedsRun?.[dataset] ?? allSeeds).filter((s) =>
      methods.every((m) => runs.some((r) => r.dataset === dataset && r.method === m && r.seed === s)),
    );
    const of = (method, seed) => runs.find((r) => r.dataset === dataset && r.method === method && r.seed === seed);
    const perMethod = {};
    for (const method of methods) {
      const rs = seeds.map((s) => of(method, s));
      const reach = seeds.map((s) => epochsToReach(of(method, s), of('random', s).best?.val ?? Infinity));
      perMethod[method] = {
        bestVal: stat(rs.map((r) => r.best?.val ?? null)),
        bestTest: stat(rs.map((r) => r.best?.test ?? null)),
        ensembleVal: stat(rs.map((r) => r.ensemble?.val ?? null)),
        ensembleTest: stat(rs.map((r) => r.ensemble?.test ?? null)),
        ensembleMembers: stat(rs.map((r) => r.ensemble?.members.length ?? null)),
        promotedTest: stat(rs.map((r) => r.promoted?.test ?? null)),
        promotedEnsembles: rs.filter((r) => r.promoted?.kind === 'ensemble').length,
        temperature: stat(rs.map((r) => r.promoted?.temperature ?? null)),
        eceTestBefore: stat(rs.map((r) => r.promoted?.eceTestBefore ?? null)),
        eceTestAfter: stat(rs.map((r) => r.promoted?.eceTestAfter ?? null)),
        eceFloor: stat(rs.map((r) => r.promoted?.eceFloor?.mean ?? null)),
        eceFloorP90: stat(rs.map((r) => r.promoted?.eceFloor?.p90 ?? null)),
        equalMassTestBefore: stat(rs.map((r) => r.promoted?.equalMassTestBefore ?? null)),
        equalMassTestAfter: stat(rs.map((r) => r.promoted?.equalMassTestAfter ?? null)),
        debiasedTestBefore: stat(rs.map((r) => r.promoted?.debiasedTestBefore ?? null)),
        debiasedTestAfter: stat(rs.map((r) => r.promoted?.debiasedTestAfter ?? null)),
        // Ensembles only: each member scaled on validation, then averaged (not what ships).
        membersFirstEce: stat(rs.filter((r) => r.promoted?.membersFirst).map((r) => r.promoted.membersFirst.eceTest)),
        shippedEceOfThoseEnsembles: stat(
          rs.filter((r) => r.promoted?.membersFirst).map((r) => r.promoted.eceTestAfter),
        ),
        testOracleEce: stat(rs.map((r) => r.promoted?.testOracle?.eceTest ?? null)),
        eceValBefore: stat(rs.map((r) => r.promoted?.eceValBefore ?? null)),
        eceValAfter: stat(rs.map((r) => r.promoted?.eceValAfter ?? null)),
        epochsToRandomBest: stat(reach),
        reachedRandomBest: reach.filter((x) => x !== null).length,
        trials: stat(rs.map((r) => r.trials.started)),
        pruned: stat(rs.map((r) => r.trials.pruned)),
      };
    }
    const m = perMethod;
    const floors = seeds.every((seed) => methods.every((method) => of(method, seed).promoted?.eceFloor));
    const ens = methods.flatMap((method) =>
      seeds.map((s) => {
        const r = of(method, s);
        return r.ensemble && r.best ? r.ensemble.test - r.best.test : null;
      }),
    );
    out[dataset] = {
      perMethod,
      seeds,
      perSeed: seeds.map((seed) =>
        Object.fromEntries([['seed', seed], ...methods.map((method) => [method, of(method, seed)])]),
      ),
      acceptance: {
        tpeEpochsFraction: m.tpe.epochsToRandomBest.median / budget,
        tpeReachesIn60: m.tpe.epochsToRandomBest.median <= 0.6 * budget,
        tpeTestAtLeastRandom: m.tpe.bestTest.median >= m.random.bestTest.median,
        ensembleMinusBestSingleTest: stat(ens),
        ensembleAtLeastBestSingle: methods.every((k) => m[k].ensembleTest.median >= m[k].bestTest.median),
        eceHalved: methods.every((k) => m[k].eceTestAfter.median <= m[k].eceTestBefore.median / 2),
        // What halving can show at all: the scaled model's ECE cannot read below the floor of a calibrated one.
        // null: results from before these figures existed.
        eceBeforeAboveTwiceFloor: floors
          ? methods.every((k) => m[k].eceTestBefore.median >= 2 * m[k].eceFloor.median)
          : null,
        eceAfterWithinFloor: floors ? methods.every((k) => m[k].eceTestAfter.median <= m[k].eceFloorP90.median) : null,
        debiasedHalved: floors
          ? methods.every((k) => m[k].debiasedTestAfter.median <= m[k].debiasedTestBefore.median / 2)
          : null,
      },
    };
  }
  return out;
}

const pct = (x) => (x === null || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(2)}%`);
const num = (x) => (x === null || !Number.isFinite(x) ? '–' : x.toFixed(3));
const ep = (x) => (x === null || !Number.isFinite(x) ? 'never' : String(Math.round(x)));
const st = (s, f = pct) =>
  s.median === null ? '–' : `${f(s.median)} [${s.range ? `${f(s.range[0])}–${f(s.range[1])}` : '–'}]`;
const yes = (b) => (b === null ? 'not measured' : b ? '**met**' : '**not met**');
const arrow = (a, b) => `${num(a.median)} -> ${num(b.median)}`;

export function renderSection(r) {
  const lines = [
    '## Search: random vs TPE vs TPE + ASHA, ensembles, calibration',
    '',
    `Generated by \`npm run experiment:search\` (${r.generated_at.slice(0, 10)}, ${r.runSeconds} s; raw runs in \`experiment/search-results.json\`).`,
    `Default search space, ${r.seeds.length} study seeds (${r.seeds.join(', ')}), split seed ${r.splitSeed}. Same total budget for every method:`,
    `**${r.budget} epochs per seed** — random search trains ${r.budget / r.epochs} configurations x ${r.epochs} epochs; TPE the same number, proposed from the`,
    `results so far (its first trials are random search's trials); TPE + ASHA (rungs at ${r.rungs.join(', ')} epochs, reduction factor ${r.asha.reductionFactor})`,
    'until the same epochs are spent. Trials run one after another. Best = the promotable best single trial (complete trials only);',
    `ensemble = greedy selection with replacement over the ${r.ensemblePool} best complete trials on validation; promoted = the ensemble if it beats`,
    "the best single trial on validation, else that trial (decided by the coordinator's own code, shared/study/candidate.ts); ECE (15 bins) of",
    'the promoted model on the test split before/after temperature scaling (T fitted on validation). Medians [ranges] over the seeds.',
    '',
    'Calibration on a few hundred test rows is measured with noise the standard ECE cannot tell from miscalibration, so other figures',
    "stand beside it. **Floor**: the ECE a *perfectly calibrated* model with the scaled model's confidences reads on these rows (labels",
    'drawn from its own probabilities, 200 seeded draws; mean, and the 90th percentile in brackets): a scaled ECE at the floor is as',
    'calibrated as the rows can show, and halving is only observable when ECE before >= 2 x floor. **Equal-mass**: the same ECE with',
    '15 equal-count bins. **Debiased L2** (Kumar, Liang & Ma 2019, "Verified Uncertainty Calibration"): the root of the per-bin squared',
    'gap minus its sampling variance, equal-mass bins; ~0 for a calibrated model at any row count (an L2 error: compare it with itself).',
    '**Members first**: each member scaled on validation, then averaged (what ships scales the average; ensembles only, median of the',
    'shipped figure on the same runs beside it). **Test-fitted T**: a bound, not a model: T fitted on the test rows themselves.',
    '',
  ];
  for (const [dataset, s] of Object.entries(r.summary)) {
    const shape = r.datasets[dataset];
    const m = s.perMethod;
    const a = s.acceptance;
    lines.push(
      `### ${dataset} (${shape.features} features, ${shape.classes} classes; ${shape.train} / ${shape.validation} / ${shape.test} rows)`,
      '',
      ...(s.seeds.length < r.seeds.length
        ? [`Only seeds ${s.seeds.join(', ')} ran on ${dataset} before the run's deadline.`, '']
        : []),
      `| | ${r.methods.join(' | ')} |`,
      `|---|${r.methods.map(() => '---').join('|')}|`,
      `| best validation accuracy | ${r.methods.map((k) => st(m[k].bestVal)).join(' | ')} |`,
      `| its test accuracy | ${r.methods.map((k) => st(m[k].bestTest)).join(' | ')} |`,
      `| ensemble validation accuracy | ${r.methods.map((k) => st(m[k].ensembleVal)).join(' | ')} |`,
      `| ensemble test accuracy | ${r.methods.map((k) => st(m[k].ensembleTest)).join(' | ')} |`,
      `| ensemble members | ${r.methods.map((k) => st(m[k].ensembleMembers, String)).join(' | ')} |`,
      `| promoted: test accuracy (ensembles promoted) | ${r.methods.map((k) => `${st(m[k].promotedTest)} (${m[k].promotedEnsembles}/${s.seeds.length})`).join(' | ')} |`,
      `| promoted: ECE on test, before -> after | ${r.methods.map((k) => `${num(m[k].eceTestBefore.median)} -> ${num(m[k].eceTestAfter.median)}`).join(' | ')} |`,
      `| temperature | ${r.methods.map((k) => st(m[k].temperature, num)).join(' | ')} |`,
      `| floor: ECE of a calibrated model on these rows, mean [p90] | ${r.methods.map((k) => `${num(m[k].eceFloor.median)} [${num(m[k].eceFloorP90.median)}]`).join(' | ')} |`,
      `| ECE, 15 equal-mass bins, before -> after | ${r.methods.map((k) => arrow(m[k].equalMassTestBefore, m[k].equalMassTestAfter)).join(' | ')} |`,
      `| debiased L2 calibration error, before -> after | ${r.methods.map((k) => arrow(m[k].debiasedTestBefore, m[k].debiasedTestAfter)).join(' | ')} |`,
      `| members first: ECE (shipped ECE, same runs) | ${r.methods.map((k) => `${num(m[k].membersFirstEce.median)} (${num(m[k].shippedEceOfThoseEnsembles.median)})`).join(' | ')} |`,
      `| test-fitted T (bound): ECE | ${r.methods.map((k) => num(m[k].testOracleEce.median)).join(' | ')} |`,
      `| epochs to reach random search's final best validation | ${r.methods.map((k) => `${st(m[k].epochsToRandomBest, ep)} (${m[k].reachedRandomBest}/${s.seeds.length})`).join(' | ')} |`,
      `| configurations tried (pruned) | ${r.methods.map((k) => `${st(m[k].trials, String)} (${st(m[k].pruned, String)})`).join(' | ')} |`,
      '',
      `Acceptance on ${dataset}: TPE reaches random search's final best validation accuracy in <= 60% of the budget: ${yes(a.tpeReachesIn60)} (median ${ep(m.tpe.epochsToRandomBest.median)} of ${r.budget} epochs, ${pct(a.tpeEpochsFraction)}); TPE median test accuracy >= random's: ${yes(a.tpeTestAtLeastRandom)} (${pct(m.tpe.bestTest.median)} vs ${pct(m.random.bestTest.median)}); ensemble test >= best single (median, every method): ${yes(a.ensembleAtLeastBestSingle)} (ensemble - best single, all runs: ${st(a.ensembleMinusBestSingleTest)}); ECE after <= half of before (every method): ${yes(a.eceHalved)}; ECE before >= 2 x floor, i.e. halving observable at all (every method): ${yes(a.eceBeforeAboveTwiceFloor)}; ECE after within the floor's 90th percentile (every method): ${yes(a.eceAfterWithinFloor)}; debiased L2 error after <= half of before (every method): ${yes(a.debiasedHalved)}.`,
      '',
      `| seed | ${r.methods.map((k) => `${k}: best val / test / ensemble test`).join(' | ')} |`,
      `|---|${r.methods.map(() => '---').join('|')}|`,
      ...s.perSeed.map(
        (p) =>
          `| ${p.seed} | ${r.methods.map((k) => `${pct(p[k].best?.val ?? null)} / ${pct(p[k].best?.test ?? null)} / ${pct(p[k].ensemble?.test ?? null)}`).join(' | ')} |`,
      ),
      '',
    );
  }
  return lines.join('\n');
}
