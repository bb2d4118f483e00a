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
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderSection, summarise } from './search-report.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const ANSI = /\u001b\[[0-9;]*m/g;
const MARKER = 'EXPERIMENT_RESULT ';

function runVitest() {
  const vitest = join(root, 'node_modules/vitest/vitest.mjs');
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        vitest,
        'run',
        '--config',
        'experiment/vitest.experiment.config.ts',
        'experiment/workers/search.experiment.test.ts',
      ],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => process.stderr.write(d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`vitest exited with ${code}\n${stdout.slice(-4000)}`)),
    );
  });
}

const resultsPath = join(root, 'experiment/search-results.json');
let results;
if (process.argv.includes('--report-only')) {
  results = JSON.parse(readFileSync(resultsPath, 'utf8'));
} else {
  const started = Date.now();
  const stdout = (await runVitest()).replace(ANSI, '');
  const line = stdout.split('\n').find((l) => l.includes(MARKER));
  if (!line) throw new Error('no EXPERIMENT_RESULT line in the workerd output');
  const raw = JSON.parse(line.slice(line.indexOf(MARKER) + MARKER.length));
  results = {
    generated_at: new Date().toISOString(),
    runSeconds: Math.round((Date.now() - started) / 1000),
    ...raw,
    summary: summarise(raw),
  };
  writeFileSync(resultsPath, JSON.stringify(results, null, 1) + '\n');
}

// Re-read right before writing: others edit the rest of BENCHMARKS.md.
const benchPath = join(root, 'BENCHMARKS.md');
const section = renderSection(results);
const current = existsSync(benchPath) ? readFileSync(benchPath, 'utf8') : '# Benchmarks\n';
const heading = '## Search: random vs TPE vs TPE + ASHA, ensembles, calibration';
const at = current.indexOf(heading);
let next;
if (at < 0) next = `${current.trimEnd()}\n\n${section}`;
else {
  const after = current.indexOf('\n## ', at + heading.length);
  next = current.slice(0, at) + section + (after < 0 ? '' : `\n${current.slice(after + 1)}`);
}
writeFileSync(benchPath, next.endsWith('\n') ? next : `${next}\n`);
process.stderr.write(
  `[search] wrote the "${heading}" section of BENCHMARKS.md (results of ${results.generated_at}, a ${results.runSeconds} s run)\n`,
);
