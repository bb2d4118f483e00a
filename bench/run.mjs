/**
 * The benchmark suite: runs each section, merges their partial results and writes bench/results.json.
 *
 *   npm run bench                       # every section
 *   npm run bench -- --only workerd     # some sections (comma-separated names); the others'
 *                                       # figures are kept from the previous results.json
 *   BENCH_REPEATS=9 npm run bench       # more repeats per measurement (default 5)
 *
 * A section is `{ name, run(): Promise<Record<string, unknown>> }` returning flat, dotted keys
 * ('train.engine_samples_per_s', ...). To add one (e.g. HTTP throughput or cold start), write
 * bench/sections/<name>.mjs and list it in SECTIONS below. Keys in REQUIRED that no section fills
 * are written as null with a note.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import bundle from './sections/bundle.mjs';
import environment from './sections/environment.mjs';
import http from './sections/http.mjs';
import workerd from './sections/workerd.mjs';

const SECTIONS = [environment, workerd, bundle, http];

const REQUIRED = {
  'train.fit_samples_per_s': null,
  'train.engine_samples_per_s': null,
  'train.engine_vs_fit': null,
  'train.cpu_fit_samples_per_s': null,
  'infer.one_row_us': null,
  'infer.predict_one_row_us': null,
  'infer.batch256_us': null,
  'infer.predict_batch256_us': null,
  'http.predict_rps': 'pending: measured by the HTTP/cold-start bench',
  'http.noop_rps': 'pending: measured by the HTTP/cold-start bench',
  'http.ratio': 'pending: measured by the HTTP/cold-start bench',
  'http.p50_ms': 'pending: measured by the HTTP/cold-start bench',
  'http.p99_ms': 'pending: measured by the HTTP/cold-start bench',
  cold_start_ms: 'pending: measured by the HTTP/cold-start bench',
  bundle_gzip_bytes: null,
};

const only = (() => {
  const i = process.argv.indexOf('--only');
  return i > 0 ? new Set(process.argv[i + 1].split(',')) : null;
})();

const out = fileURLToPath(new URL('./results.json', import.meta.url));

/** With --only, the other sections' figures of the previous run are kept (each section's time says which run it is from). */
function previous() {
  if (!only || !existsSync(out)) return {};
  const { notes: _notes, generated_at: _at, ...rest } = JSON.parse(readFileSync(out, 'utf8'));
  return rest;
}

const results = { ...previous(), generated_at: new Date().toISOString() };
results.section_times = { ...(results.section_times ?? {}) };
// The two cores are shared: each section records the load it started under.
results.section_load_average = { ...(results.section_load_average ?? {}) };
const notes = {};
const failures = [];
for (const section of SECTIONS) {
  if (only && !only.has(section.name)) continue;
  const t0 = Date.now();
  process.stderr.write(`[bench] ${section.name} ...\n`);
  results.section_load_average[section.name] = os.loadavg().map((v) => +v.toFixed(2));
  try {
    Object.assign(results, await section.run());
    results.section_times[section.name] = new Date().toISOString();
    process.stderr.write(`[bench] ${section.name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  } catch (err) {
    failures.push(section.name);
    notes[`section.${section.name}`] = `failed: ${err instanceof Error ? err.message : String(err)}`;
    process.stderr.write(`[bench] ${section.name} FAILED: ${err instanceof Error ? err.stack : String(err)}\n`);
  }
}
for (const [key, note] of Object.entries(REQUIRED)) {
  if (key in results) continue;
  results[key] = null;
  notes[key] = note ?? (only ? 'not run (--only)' : 'not measured: its section failed');
}
results.notes = notes;
writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
process.stderr.write(`[bench] wrote ${out}\n`);
if (failures.length) process.exit(1);
