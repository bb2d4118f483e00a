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

/** Mean test accuracy of the run's `k` best complete trials by validation (accuracy, then loss); null on older results. */
function topTest(run, k) {
  const c = run.points.filter((p) => p.outcome === 'complete' && p.test !== undefined && p.test !== null);
  if (!c.length) return null;
  const top = [...c].sort((a, b) => b.val - a.val || a.loss - b.loss || a.trial - b.trial).slice(0, k);
  return top.reduce((a, p) => a + p.test, 0) / top.length;
}

/** Two-sided sign test: the chance of a split at least this uneven among the non-zero differences if each sign were a coin flip. */
export function signTest(diffs) {
  const pos = diffs.filter((d) => d > 0).length;
  const neg = diffs.filter((d) => d < 0).length;
  const n = pos + neg;
  if (!n) return 1;
  const k = Math.min(pos, neg);
  let tail = 0;
  for (let i = 0; i <= k; i++) tail += binomial(n, i) / 2 ** n;
  return Math.min(1, 2 * tail);
}

function binomial(n, k) {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

export function summarise({ seeds: allSeeds, seedsRun, methods, runs, budget, datasets: shapes, pooled: allPooled }) {
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
        // A seed that never reaches it counts as never (infinite) in the median, not as a missing value.
        epochsToRandomBest: stat(reach),
        reachedRandomBest: reach.filter((x) => x !== null).length,
        valTestGap: stat(rs.map((r) => (r.best ? r.best.val - r.best.test : null))),
        top3Test: stat(rs.map((r) => topTest(r, 3))),
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
    // Paired by seed: TPE's start-up trials are random search's, so a seed's difference is the search's doing.
    const paired = seeds.map((s) => {
      const t = of('tpe', s).best?.test;
      const r = of('random', s).best?.test;
      return t === undefined || r === undefined ? null : t - r;
    });
    // One model's test accuracy on n rows has a binomial standard error sqrt(a (1 - a) / n).
    const n = shapes?.[dataset]?.test ?? null;
    const a = m.random.bestTest.median;
    // Calibration over every seed's test rows at once (absent in results from before it was measured).
    const pooled = allPooled?.[dataset] ?? null;
    const pooledAll = pooled && methods.every((k) => pooled[k]);
    out[dataset] = {
      perMethod,
      pooled,
      pairedTpeMinusRandom: {
        perSeed: paired,
        median: median(paired),
        wins: paired.filter((d) => d !== null && d > 0).length,
        ties: paired.filter((d) => d === 0).length,
        losses: paired.filter((d) => d !== null && d < 0).length,
        signTestP: signTest(paired.filter((d) => d !== null)),
      },
      testStandardError: n && a !== null ? Math.sqrt((a * (1 - a)) / n) : null,
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
        pooledEceHalved: pooledAll ? methods.every((k) => pooled[k].eceAfter <= pooled[k].eceBefore / 2) : null,
        pooledHalvingObservable: pooledAll
          ? methods.every((k) => pooled[k].eceBefore >= 2 * pooled[k].eceFloor.mean)
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
const pt = (x) => (x === null || !Number.isFinite(x) ? '–' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}`);
/** Epochs to reach a target: the range ends at "never" when a seed never got there. */
const reachCell = (m, seeds) =>
  `${ep(m.epochsToRandomBest.median)} [${m.epochsToRandomBest.range ? ep(m.epochsToRandomBest.range[0]) : 'never'}–${m.reachedRandomBest < seeds ? 'never' : ep(m.epochsToRandomBest.range?.[1] ?? null)}] (${m.reachedRandomBest}/${seeds})`;

/** Pooled calibration: before -> after over all the seeds' test rows, with the floor of a calibrated model on as many rows. */
const pooledCell = (p) =>
  p
    ? `${num(p.eceBefore)} -> ${num(p.eceAfter)} [${num(p.eceFloor.mean)}, ${num(p.eceFloor.p90)}] (${p.rows} rows)`
    : '–';

/** What the figures say, generated from them (so a new run cannot leave a stale reading behind). */
function reading(dataset, s, r) {
  const m = s.perMethod;
  const d = s.pairedTpeMinusRandom;
  const n = s.seeds.length;
  const half = Math.floor(n / 2) + 1;
  const se = s.testStandardError;
  const out = [
    `Reading the ${dataset} figures:`,
    '',
    `- **Epochs to reach random search's best validation.** TPE got there on ${m.tpe.reachedRandomBest} of ${n} seeds; a seed that never did counts as never (infinite) in the median, so the median is within ${0.6 * r.budget} epochs only if at least ${half} seeds got there within them. Random search itself needed ${ep(m.random.epochsToRandomBest.median)} (its own final best)${m['tpe+asha'] ? `; TPE + ASHA ${ep(m['tpe+asha'].epochsToRandomBest.median)} (${m['tpe+asha'].reachedRandomBest}/${n})` : ''}.`,
    `- **Test accuracy of the chosen trial, TPE - random search, paired by seed** (same start-up trials): ${d.perSeed.map(pt).join(', ')} pt; median ${pt(d.median)} pt; TPE higher on ${d.wins}, equal on ${d.ties}, lower on ${d.losses} seed(s); two-sided sign test p = ${d.signTestP.toFixed(2)}.` +
      (se === null
        ? ''
        : ` One test row is ${(100 / r.datasets[dataset].test).toFixed(2)} pt and one model's test accuracy has a binomial standard error of about ${(100 * se).toFixed(2)} pt here, so a difference of two chosen trials on one seed carries about ${(100 * Math.SQRT2 * se).toFixed(2)} pt of noise from the test rows alone.`) +
      (2 / 2 ** n >= 0.05
        ? ` Even if all ${n} seeds agreed, the sign test's p would be ${(2 / 2 ** n).toFixed(4)}: ${n} seeds cannot call the difference either way at the 5% level.`
        : ''),
    `- **Where a gap comes from.** Validation - test of the chosen trial (median): random ${pt(m.random.valTestGap.median)} pt, TPE ${pt(m.tpe.valTestGap.median)} pt. Picking the best of many near-equal trials on ${r.datasets[dataset].validation} validation rows favours the one whose validation rows happened to go its way (winner's curse); the mean test accuracy of the 3 best trials by validation is less exposed to that pick: random ${pct(m.random.top3Test.median)}, TPE ${pct(m.tpe.top3Test.median)} (medians over seeds).`,
    '',
  ];
  return out;
}

/** The seeds check (more seeds, random vs TPE on digits): what the paired differences show beyond the main run. */
function seedsCheck(c) {
  return Object.entries(c.summary).flatMap(([dataset, s]) => {
    const m = s.perMethod;
    const d = s.pairedTpeMinusRandom;
    const n = s.seeds.length;
    return [
      `**Seeds check** (${dataset}, random vs TPE only, ${n} seeds ${s.seeds[0]}-${s.seeds.at(-1)}, the main run's seeds among them; \`node experiment/run-search.mjs --seeds-check\`, ${c.generated_at.slice(0, 10)}${c.load ? `, load average ${c.load.start.toFixed(1)} -> ${c.load.end.toFixed(1)}` : ''}; \`experiment/search-check-results.json\`): ` +
        `test accuracy of the chosen trial, median random ${pct(m.random.bestTest.median)} vs TPE ${pct(m.tpe.bestTest.median)}; ` +
        `TPE - random per seed ${d.perSeed.map(pt).join(', ')} pt (median ${pt(d.median)}; TPE higher on ${d.wins}, equal on ${d.ties}, lower on ${d.losses}; sign test p = ${d.signTestP.toFixed(2)}); ` +
        `best validation median random ${pct(m.random.bestVal.median)} vs TPE ${pct(m.tpe.bestVal.median)}; ` +
        `TPE reaches random search's best validation in ${reachCell(m.tpe, n)} epochs of ${c.budget}; mean test accuracy of the 3 best trials by validation random ${pct(m.random.top3Test.median)} vs TPE ${pct(m.tpe.top3Test.median)}; ` +
        `promoted model's test accuracy, median random ${pct(m.random.promotedTest.median)} vs TPE ${pct(m.tpe.promotedTest.median)}` +
        (s.pooled
          ? `; promoted model's test ECE before -> after scaling, pooled over the seeds' test rows [floor mean, p90]: random ${pooledCell(s.pooled.random)}, TPE ${pooledCell(s.pooled.tpe)}; ECE before >= 2 x its floor (halving observable): ${yes(s.acceptance.pooledHalvingObservable)}; ECE after <= half of before (both): ${yes(s.acceptance.pooledEceHalved)}.`
          : '.'),
      '',
    ];
  });
}

export function renderSection(r, check = null) {
  const lines = [
    '## Search: random vs TPE vs TPE + ASHA, ensembles, calibration',
    '',
    `Generated by \`npm run experiment:search\` (${r.generated_at.slice(0, 10)}, ${r.runSeconds} s${r.load ? `, load average ${r.load.start.toFixed(1)} at the start, ${r.load.end.toFixed(1)} at the end` : ''}; raw runs in \`experiment/search-results.json\`).`,
    `Default search space, ${r.seeds.length} study seeds (${r.seeds.join(', ')}), split seed ${r.splitSeed}. Same total budget for every method:`,
    `**${r.budget} epochs per seed** — random search trains ${r.budget / r.epochs} configurations x ${r.epochs} epochs; TPE the same number, proposed from the`,
    `results so far (its first trials are random search's trials); TPE + ASHA (rungs at ${r.rungs.join(', ')} epochs, reduction factor ${r.asha.reductionFactor})`,
    'until the same epochs are spent. Trials run one after another. Best = the promotable best single trial (complete trials only);',
    `ensemble = greedy selection with replacement over the ${r.ensemblePool} best complete trials on validation; promoted = the ensemble if it beats`,
    "the best single trial on validation, else that trial (decided by the coordinator's own code, shared/study/candidate.ts); ECE (15 bins) of",
    'the promoted model on the test split before/after temperature scaling (T fitted on validation). Medians [ranges] over the seeds.',
    'Epochs to reach a target: a seed that never reaches it counts as never (infinite) in the median and ends the range.',
    '',
    'Calibration on a few hundred test rows is measured with noise the standard ECE cannot tell from miscalibration, so other figures',
    "stand beside it. **Floor**: the ECE a *perfectly calibrated* model with the scaled model's confidences reads on these rows (labels",
    'drawn from its own probabilities, 200 seeded draws; mean, and the 90th percentile in brackets): a scaled ECE at the floor is as',
    'calibrated as the rows can show, and halving is only observable when ECE before >= 2 x floor. **Equal-mass**: the same ECE with',
    '15 equal-count bins. **Debiased L2** (Kumar, Liang & Ma 2019, "Verified Uncertainty Calibration"): the root of the per-bin squared',
    'gap minus its sampling variance, equal-mass bins; ~0 for a calibrated model at any row count (an L2 error: compare it with itself).',
    '**Members first**: each member scaled on validation, then averaged (what ships scales the average; ensembles only, median of the',
    'shipped figure on the same runs beside it). **Test-fitted T**: a bound, not a model: T fitted on the test rows themselves.',
    "**Pooled**: every seed's promoted model on the same test rows, taken together (seeds x rows pairs, with the floor of a calibrated",
    'model on as many rows): the floor falls with about the square root of the seed count, so a halving one seed cannot show can show',
    'here. It measures what scaling does to the models a study promotes, not one model.',
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
      ...(s.pooled
        ? [
            `| pooled over the seeds' test rows: ECE before -> after [floor mean, p90] | ${r.methods.map((k) => pooledCell(s.pooled[k])).join(' | ')} |`,
            `| pooled: debiased L2 error, before -> after | ${r.methods.map((k) => (s.pooled[k] ? `${num(s.pooled[k].debiasedBefore)} -> ${num(s.pooled[k].debiasedAfter)}` : '–')).join(' | ')} |`,
          ]
        : []),
      `| epochs to reach random search's final best validation | ${r.methods.map((k) => reachCell(m[k], s.seeds.length)).join(' | ')} |`,
      `| chosen trial: validation - test (pt) | ${r.methods.map((k) => st(m[k].valTestGap, pt)).join(' | ')} |`,
      `| test accuracy, mean of the 3 best trials by validation | ${r.methods.map((k) => st(m[k].top3Test)).join(' | ')} |`,
      `| configurations tried (pruned) | ${r.methods.map((k) => `${st(m[k].trials, String)} (${st(m[k].pruned, String)})`).join(' | ')} |`,
      '',
      `Acceptance on ${dataset}: TPE reaches random search's final best validation accuracy in <= 60% of the budget: ${yes(a.tpeReachesIn60)} (median ${ep(m.tpe.epochsToRandomBest.median)} of ${r.budget} epochs, ${pct(a.tpeEpochsFraction)}); TPE median test accuracy >= random's: ${yes(a.tpeTestAtLeastRandom)} (${pct(m.tpe.bestTest.median)} vs ${pct(m.random.bestTest.median)}); ensemble test >= best single (median, every method): ${yes(a.ensembleAtLeastBestSingle)} (ensemble - best single, all runs: ${st(a.ensembleMinusBestSingleTest)}); ECE after <= half of before (every method): ${yes(a.eceHalved)}; ECE before >= 2 x floor, i.e. halving observable at all (every method): ${yes(a.eceBeforeAboveTwiceFloor)}; ECE after within the floor's 90th percentile (every method): ${yes(a.eceAfterWithinFloor)}; debiased L2 error after <= half of before (every method): ${yes(a.debiasedHalved)}; pooled over the seeds' test rows, ECE before >= 2 x its floor (halving observable): ${yes(a.pooledHalvingObservable)}, and ECE after <= half of before (every method): ${yes(a.pooledEceHalved)}.`,
      '',
      `| seed | ${r.methods.map((k) => `${k}: best val / test / ensemble test`).join(' | ')} |`,
      `|---|${r.methods.map(() => '---').join('|')}|`,
      ...s.perSeed.map(
        (p) =>
          `| ${p.seed} | ${r.methods.map((k) => `${pct(p[k].best?.val ?? null)} / ${pct(p[k].best?.test ?? null)} / ${pct(p[k].ensemble?.test ?? null)}`).join(' | ')} |`,
      ),
      '',
      ...(m.tpe && m.random ? reading(dataset, s, r) : []),
    );
  }
  if (check) lines.push(...seedsCheck(check));
  return lines.join('\n');
}
