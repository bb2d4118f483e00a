/**
 * Peak memory of the dataset code at the caps and at twice the caps, each scenario in a fresh Node
 * process (workerd has no memory API). Bundles bench/memory/scenario.ts with esbuild, runs it with
 * --expose-gc, prints one JSON line per scenario and writes bench/memory/results.json.
 *
 *   node bench/memory/run.mjs
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));
const out = join(mkdtempSync(join(tmpdir(), 'edge-tuner-memory-')), 'scenario.mjs');
await build({
  entryPoints: [join(here, 'scenario.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  outfile: out,
  loader: { '.gz': 'binary' },
  logLevel: 'error',
});

const caps = JSON.parse(process.argv[2] ?? 'null') ?? [
  // [rows, features]: the cell cap as 20,000 x 200 and as 5,000 x 800, then twice each.
  [20_000, 200],
  [5_000, 800],
  [20_000, 400],
  [10_000, 800],
];
const results = [];
for (const kind of ['upload', 'trial']) {
  for (const [rows, features] of caps) {
    try {
      const line = execFileSync(process.execPath, ['--expose-gc', out, kind, String(rows), String(features)], {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      });
      const r = JSON.parse(line.trim().split('\n').pop());
      results.push(r);
      console.log(JSON.stringify(r));
    } catch (err) {
      results.push({ kind, rows, features, error: String(err).slice(0, 200) });
      console.log(JSON.stringify(results.at(-1)));
    }
  }
}
writeFileSync(
  join(here, 'results.json'),
  `${JSON.stringify({ generated_at: new Date().toISOString(), results }, null, 2)}\n`,
);
