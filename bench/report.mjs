/**
 * Prints the results of bench/results.json as the markdown table BENCHMARKS.md carries, next to the
 * anchors of the performance issue (plain Node 20, same tfjs 4.22, this kind of machine).
 *
 *   node bench/report.mjs [path/to/results.json]    # prints it
 *   node bench/report.mjs --write                   # replaces the table between the markers in BENCHMARKS.md
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const write = args.includes('--write');
const path = args.find((a) => !a.startsWith('--')) ?? fileURLToPath(new URL('./results.json', import.meta.url));
const r = JSON.parse(readFileSync(path, 'utf8'));

const n = (v, digits = 0) =>
  v == null
    ? 'n/a'
    : Number(v).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mmm = (s, digits = 0, unit = '') =>
  s == null ? 'pending' : `**${n(s.median, digits)}${unit}** (${n(s.min, digits)}–${n(s.max, digits)})`;
const at = (key, batch) => r[key]?.[batch];

const rows = [
  ['Training, layers `fit` wasm-SIMD, batch 32 (samples/s)', mmm(at('train.fit_samples_per_s', 32)), '9.3k', ''],
  ['Training, layers `fit` wasm-SIMD, batch 128 (samples/s)', mmm(at('train.fit_samples_per_s', 128)), '14.4k', ''],
  ['Training, engine, batch 32 (samples/s)', mmm(at('train.engine_samples_per_s', 32)), '—', ''],
  ['Training, engine, batch 128 (samples/s)', mmm(at('train.engine_samples_per_s', 128)), '—', ''],
  ['Engine ÷ fit, batch 32 (same run)', mmm(at('train.engine_vs_fit', 32), 2, '×'), '—', '≥ 4×'],
  ['Engine ÷ fit, batch 128 (same run)', mmm(at('train.engine_vs_fit', 128), 2, '×'), '—', '≥ 4×'],
  [
    'Training, layers `fit` cpu backend, batch 32 / 128 (samples/s)',
    `${mmm(at('train.cpu_fit_samples_per_s', 32))} / ${mmm(at('train.cpu_fit_samples_per_s', 128))}`,
    '~5× slower than wasm',
    '',
  ],
];
for (const batch of [32, 128]) {
  const p = r['train.val_accuracy_parity']?.[batch];
  if (p)
    rows.push([
      `Validation accuracy, batch ${batch}, mean of ${p.seeds} seeds, ${p.epochs} epochs: engine vs fit`,
      `${n(p.engine_mean * 100, 2)}% vs ${n(p.fit_mean * 100, 2)}% (**${p.diff_points >= 0 ? '+' : ''}${n(p.diff_points, 2)} pt**)`,
      '—',
      'within 0.5 pt',
    ]);
}
rows.push(
  ['Predict 1 row, Predictor (µs)', mmm(r['infer.one_row_us'], 1), 'plain JS 17.5, onnxruntime-web 13.5', '≤ 15'],
  ['Predict 1 row, `model.predict` (µs)', mmm(r['infer.predict_one_row_us'], 1), '63', ''],
  ['Predict 256 rows, Predictor (µs)', mmm(r['infer.batch256_us'], 0), 'plain JS 4,966, onnxruntime-web 658', '≤ 600'],
  ['Predict 256 rows, `model.predict` batchSize 256 (µs)', mmm(r['infer.predict_batch256_us'], 0), '612', ''],
  [
    'Predictor speed-up over `model.predict`, 1 row / 256 rows (same run)',
    r['infer.speedup_vs_predict']
      ? `**${n(r['infer.speedup_vs_predict'].one_row, 1)}×** / **${n(r['infer.speedup_vs_predict'].batch256, 2)}×**`
      : 'n/a',
    '—',
    '',
  ],
  [
    'HTTP predict / no-op Hono route (req/s)',
    r['http.predict_rps'] == null ? 'pending' : `${mmm(r['http.predict_rps'])} / ${mmm(r['http.noop_rps'])}`,
    '—',
    '',
  ],
  ['HTTP predict ÷ no-op (same run)', r['http.ratio'] == null ? 'pending' : mmm(r['http.ratio'], 2), '—', '≥ 0.80'],
  [
    'Cold start to first prediction (ms)',
    r.cold_start_ms == null ? 'pending' : mmm(r.cold_start_ms, 1),
    '~53 (spike)',
    '≤ 25',
  ],
  [
    'Bundle, gzip (bytes)',
    r.bundle_gzip_bytes == null ? 'n/a' : `**${n(r.bundle_gzip_bytes)}** (${n(r.bundle_gzip_bytes / 1024, 1)} KiB)`,
    '~487 KiB (spike)',
    '≤ 600 KiB',
  ],
);

const lines = [
  `Results of ${Object.entries(r.section_times ?? { all: r.generated_at })
    .map(([k, t]) => `${k} ${t}`)
    .join(', ')} on ${r.machine?.cpu ?? '?'}, ${r.machine?.cores ?? '?'} cores.`,
  `Load average (1/5/15 min) when each section started: ${
    Object.entries(r.section_load_average ?? {})
      .map(([k, l]) => `${k} ${l.join(' / ')}`)
      .join('; ') ||
    r.machine?.load_average_at_start?.join(' / ') ||
    '?'
  }. Medians with (min–max).`,
  '',
  '| Measure | This run, in workerd | Anchor (plain Node) | Target |',
  '|---|---|---|---|',
  ...rows.map((row) => `| ${row.join(' | ')} |`),
];
if (!write) {
  console.log(lines.join('\n'));
} else {
  // Re-read right before writing: other sections of BENCHMARKS.md are written by other scripts.
  const doc = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
  const text = readFileSync(doc, 'utf8');
  const start = text.indexOf('<!-- bench-table:start');
  const end = text.indexOf('<!-- bench-table:end -->');
  if (start < 0 || end < start) throw new Error('BENCHMARKS.md has no bench-table markers');
  const open = text.indexOf('\n', start) + 1;
  writeFileSync(doc, `${text.slice(0, open)}${lines.join('\n')}\n${text.slice(end)}`);
  console.error(`wrote the table of ${r.generated_at} into ${doc}`);
}
