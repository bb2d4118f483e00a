/**
 * Real tables (issue 13), inside workerd:
 *   - one-row prediction of a 20-column mixed table including its preprocessing: a request object through
 *     the gathered first layer (TablePredictor, as served), against encode-then-predict (encodeRecord + the
 *     full Predictor) and the Predictor on an already-encoded row, interleaved repeat by repeat;
 *   - parsing a 20,000-row x 30-column mixed CSV (as an upload does) and encoding it (the split a trial
 *     trains on: preprocessing fitted on the training rows, every part encoded and standardised).
 */
import { inject, it } from 'vitest';
import { prepareTableSplit } from '../../models/dataset';
import { foldNetwork } from '../../models/fold';
import { Predictor } from '../../models/infer';
import { specOf } from '../../models/network';
import { resolveConfig } from '../../models/config';
import { encodeRecord, type RecordValue } from '../../models/preprocess';
import { Rng } from '../../models/random';
import { TablePredictor } from '../../models/table-predictor';
import { parseCsvDataset } from '../../models/tabular';
import { train } from '../../models/train';
import { initBackend } from '../../shared/tf/backend';
import { emit, microsPerCall, stat, type Stat } from './measure';

const REPEATS = Math.max(5, inject('benchRepeats'));
const CATEGORIES = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'];

/**
 * A mixed table: `numeric` numbers (every third with NA / ? / empty cells), `categorical` text columns
 * of 6 values (some missing), `boolean` yes/no columns; 3 classes from a noisy rule over a few columns.
 */
function mixedCsv(rows: number, numeric: number, categorical: number, boolean: number, seed: number): string {
  const rng = new Rng(seed);
  const header = [
    ...Array.from({ length: numeric }, (_, i) => `n${i}`),
    ...Array.from({ length: categorical }, (_, i) => `c${i}`),
    ...Array.from({ length: boolean }, (_, i) => `b${i}`),
    'label',
  ];
  const lines = [header.join(',')];
  const missing = ['NA', '?', ''];
  for (let r = 0; r < rows; r++) {
    const cells: string[] = [];
    let score = 0;
    for (let i = 0; i < numeric; i++) {
      const v = rng.normal() * 10 + i;
      if (i < 3) score += v / 10;
      cells.push(i % 3 === 0 && rng.next() < 0.1 ? missing[Math.floor(rng.next() * 3)]! : v.toFixed(2));
    }
    for (let i = 0; i < categorical; i++) {
      const k = Math.floor(rng.next() * CATEGORIES.length);
      if (i === 0) score += k - 2.5;
      cells.push(i % 2 === 0 && rng.next() < 0.05 ? 'NA' : CATEGORIES[k]!);
    }
    for (let i = 0; i < boolean; i++) {
      const yes = rng.next() < 0.5;
      if (i === 0) score += yes ? 1 : -1;
      cells.push(yes ? 'yes' : 'no');
    }
    score += rng.normal() * 0.5;
    cells.push(score < -1 ? 'low' : score < 1 ? 'mid' : 'high');
    lines.push(cells.join(','));
  }
  return `${lines.join('\n')}\n`;
}

const r = (s: Stat, digits = 2) => ({
  median: +s.median.toFixed(digits),
  min: +s.min.toFixed(digits),
  max: +s.max.toFixed(digits),
});

it('tables: predict one mixed row including preprocessing; parse + encode a 20,000 x 30 mixed CSV', async () => {
  const info = await initBackend();
  if (info.backend !== 'wasm' || !info.simd) throw new Error(`bench needs wasm SIMD, got ${JSON.stringify(info)}`);

  // 20 input columns: 10 numeric, 7 categorical, 3 boolean.
  const small = parseCsvDataset('mixed20', mixedCsv(3000, 10, 7, 3, 1));
  const split = prepareTableSplit(small, 42);
  const pre = split.table!.preprocessing;
  const config = resolveConfig({ depth: 2, width: 64, batchNorm: true, activation: 'relu', epochs: 3, batchSize: 64 });
  const trained = await train(config, split, 1);
  const folded = foldNetwork(trained.weights!, specOf(config), split.standardisation);
  const table = new TablePredictor(pre, folded);
  const full = new Predictor(folded);
  const row: Record<string, RecordValue> = {};
  for (const c of pre.columns)
    row[c.column] = c.type === 'categorical' ? (c.categories[2] ?? null) : c.type === 'boolean' ? 'yes' : 4.25;
  row.n0 = null; // a missing value, imputed
  const encoded = encodeRecord(pre, row, 0);
  const cases = {
    one_row_us: () => table.predictInstances([row]),
    encode_then_predict_one_row_us: () => full.predictProba(encodeRecord(pre, row, 0), 1),
    encoded_one_row_us: () => full.predictProba(encoded, 1),
  };
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let rep = 0; rep < REPEATS; rep++)
    for (const [name, fn] of Object.entries(cases)) samples[name]!.push(microsPerCall(fn, 1).median);
  const results: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(samples)) results[`tables.predict_${name}`] = r(stat(s));
  results['tables.predict_setup'] = {
    columns: '20 (10 numeric, 7 categorical of 6 values, 3 boolean)',
    encoded_width: pre.width,
    model: `${pre.width}-64-BN-ReLU-64-BN-ReLU-3 softmax, BN folded`,
    row: 'an object with one null (imputed) and text categories',
    repeats: REPEATS,
  };
  table.dispose();
  full.dispose();

  // 20,000 rows x 30 columns (15 numeric, 10 categorical, 5 boolean) + the label.
  const text = mixedCsv(20_000, 15, 10, 5, 2);
  const parseMs: number[] = [];
  const encodeMs: number[] = [];
  let width = 0;
  // Each step is long enough for the coarse isolate clock; it only advances across I/O, hence the yields.
  const tick = () => new Promise((res) => setTimeout(res, 0));
  for (let rep = 0; rep < Math.min(REPEATS, 5); rep++) {
    await tick();
    const t0 = performance.now();
    const d = parseCsvDataset('mixed30', text);
    await tick();
    const t1 = performance.now();
    const s = prepareTableSplit(d, 42);
    await tick();
    const t2 = performance.now();
    width = s.features;
    parseMs.push(t1 - t0);
    encodeMs.push(t2 - t1);
  }
  results['tables.parse_20000x30_ms'] = r(stat(parseMs), 0);
  results['tables.encode_20000x30_ms'] = r(stat(encodeMs), 0);
  results['tables.parse_setup'] = {
    csv_bytes: text.length,
    rows: 20_000,
    columns: '30 (15 numeric with NA/?/empty cells, 10 categorical of 6 values, 5 boolean) + label',
    encoded_width: width,
    encode: 'prepareTableSplit: fit on the training rows, encode and standardise train/validation/test',
  };
  emit('tables', results);
});
