/**
 * npm run experiment:asha — ASHA vs random search at the same total epoch budget on digits.
 *
 * Runs experiment/workers/asha.experiment.test.ts inside workerd, then writes experiment/asha-results.json
 * (every run's best-accuracy-vs-cumulative-epochs curve, plus the summary) and replaces the
 * "## ASHA vs random search" section of BENCHMARKS.md (the rest of that file is left as it is).
 * Knobs: ASHA_SEEDS (5), ASHA_EPOCHS (27), ASHA_RANDOM_TRIALS (10; budget = trials x epochs).
 * `node experiment/run-asha.mjs --report-only` rewrites the BENCHMARKS.md section from the existing results.
 */
import { renderSection, summarise } from './asha-report.mjs';
import { runExperiment } from './run-experiment.mjs';

await runExperiment({
  name: 'asha',
  testFile: 'experiment/workers/asha.experiment.test.ts',
  resultsFile: 'experiment/asha-results.json',
  heading: '## ASHA vs random search',
  summarise,
  renderSection,
});
