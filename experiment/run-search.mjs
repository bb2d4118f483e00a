/**
 * npm run experiment:search — random search vs TPE vs TPE + ASHA at the same total epoch budget, each with and
 * without the top-k ensemble, plus temperature scaling, on digits and a wide synthetic table.
 *
 * Runs experiment/workers/search.experiment.test.ts inside workerd, then writes experiment/search-results.json
 * (every run's curve, ensemble and calibration, plus the summary) and replaces the "## Search: ..." section of
 * BENCHMARKS.md (the rest of that file is left as it is).
 * Knobs: SEARCH_SEEDS (20: about an hour; 5 seeds cannot resolve the paired test-accuracy difference, see
 * BENCHMARKS.md), SEARCH_EPOCHS (6), SEARCH_TRIALS (20; budget = trials x epochs), SEARCH_DATASETS,
 * SEARCH_METHODS, SEARCH_DEADLINE (no seed starts after it), EXPERIMENT_TIMEOUT_MS (4 h).
 * `--seeds-check`: random vs TPE on digits over 20 seeds, written to experiment/search-check-results.json (about
 * 3 minutes; from when the main run had 5 seeds, which cannot resolve the paired test-accuracy difference; at the
 * default 20 seeds it repeats the main run's digits pairs). The main run's acceptance figures never use it.
 * `node experiment/run-search.mjs --report-only` rewrites the BENCHMARKS.md section from the existing results.
 */
import { existsSync, readFileSync } from 'node:fs';
import { renderSection, summarise } from './search-report.mjs';
import { runExperiment } from './run-experiment.mjs';

const MAIN = 'experiment/search-results.json';
const CHECK = 'experiment/search-check-results.json';
const read = (file) => {
  const url = new URL(`../${file}`, import.meta.url);
  if (!existsSync(url)) return null;
  const results = JSON.parse(readFileSync(url, 'utf8'));
  return { ...results, summary: summarise(results) };
};
const check = process.argv.includes('--seeds-check');
if (check) {
  process.env.SEARCH_SEEDS ??= '20';
  process.env.SEARCH_DATASETS ??= 'digits';
  process.env.SEARCH_METHODS ??= 'random,tpe';
}

await runExperiment({
  name: check ? 'search seeds check' : 'search',
  testFile: 'experiment/workers/search.experiment.test.ts',
  resultsFile: check ? CHECK : MAIN,
  heading: '## Search: random vs TPE vs TPE + ASHA, ensembles, calibration',
  summarise,
  // The section is always the main run's, with the seeds check beside it when there is one.
  renderSection: (results) => (check ? renderSection(read(MAIN), results) : renderSection(results, read(CHECK))),
});
