/**
 * npm run experiment:search — random search vs TPE vs TPE + ASHA at the same total epoch budget, each with and
 * without the top-k ensemble, plus temperature scaling, on digits and a wide synthetic table.
 *
 * Runs experiment/workers/search.experiment.test.ts inside workerd, then writes experiment/search-results.json
 * (every run's curve, ensemble and calibration, plus the summary) and replaces the "## Search: ..." section of
 * BENCHMARKS.md (the rest of that file is left as it is).
 * Knobs: SEARCH_SEEDS (5), SEARCH_EPOCHS (6), SEARCH_TRIALS (20; budget = trials x epochs), SEARCH_DATASETS.
 * `node experiment/run-search.mjs --report-only` rewrites the BENCHMARKS.md section from the existing results.
 */
import { renderSection, summarise } from './search-report.mjs';
import { runExperiment } from './run-experiment.mjs';

await runExperiment({
  name: 'search',
  testFile: 'experiment/workers/search.experiment.test.ts',
  resultsFile: 'experiment/search-results.json',
  heading: '## Search: random vs TPE vs TPE + ASHA, ensembles, calibration',
  summarise,
  renderSection,
});
