/**
 * The one runner behind `npm run experiment:*`: runs one experiment test file inside workerd, reads the
 * EXPERIMENT_RESULT line it prints, writes the results JSON (with the report's summary) and replaces that
 * experiment's section of BENCHMARKS.md, leaving the rest of the file as it is. `--report-only` rewrites the
 * section from the stored results without running anything.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runVitest } from '../scripts/run-vitest.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const MARKER = 'EXPERIMENT_RESULT ';

/** Replaces the section that starts at `heading` (up to the next `## `), or appends it. */
function replaceSection(current, heading, section) {
  const at = current.indexOf(heading);
  if (at < 0) return `${current.trimEnd()}\n\n${section}`;
  const after = current.indexOf('\n## ', at + heading.length);
  return current.slice(0, at) + section + (after < 0 ? '' : `\n${current.slice(after + 1)}`);
}

/**
 * @param {{ name: string, testFile: string, resultsFile: string, heading: string,
 *           summarise: (raw: object) => object, renderSection: (results: object) => string }} experiment
 */
export async function runExperiment({ name, testFile, resultsFile, heading, summarise, renderSection }) {
  const resultsPath = join(root, resultsFile);
  let results;
  if (process.argv.includes('--report-only')) {
    results = JSON.parse(readFileSync(resultsPath, 'utf8'));
    // The summary is derived: recomputed, so a report that gained figures still renders older results.
    results.summary = summarise(results);
  } else {
    const started = Date.now();
    // The machine is shared: the load while it ran says how far wall-clock figures can be compared.
    const loadStart = loadavg()[0];
    const stdout = await runVitest('experiment/vitest.experiment.config.ts', [testFile]);
    const line = stdout.split('\n').find((l) => l.includes(MARKER));
    if (!line) throw new Error('no EXPERIMENT_RESULT line in the workerd output');
    const raw = JSON.parse(line.slice(line.indexOf(MARKER) + MARKER.length));
    results = {
      generated_at: new Date().toISOString(),
      runSeconds: Math.round((Date.now() - started) / 1000),
      load: { start: loadStart, end: loadavg()[0] },
      ...raw,
      summary: summarise(raw),
    };
    writeFileSync(resultsPath, JSON.stringify(results, null, 1) + '\n');
  }
  // Re-read right before writing: other experiments and the bench edit the rest of BENCHMARKS.md.
  const benchPath = join(root, 'BENCHMARKS.md');
  const current = existsSync(benchPath) ? readFileSync(benchPath, 'utf8') : '# Benchmarks\n';
  const next = replaceSection(current, heading, renderSection(results));
  writeFileSync(benchPath, next.endsWith('\n') ? next : `${next}\n`);
  process.stderr.write(
    `[${name}] wrote the "${heading}" section of BENCHMARKS.md (results of ${results.generated_at}, a ${results.runSeconds} s run)\n`,
  );
}
