/**
 * One memory scenario, run in its own Node process by bench/memory/run.mjs: the dataset code of an
 * upload (the CSV text held as the handler holds it, parse, split counts, the stored bytes) or of a
 * trial (the stored bytes as R2 returns them, the standardised split). Prints JSON: the process's peak
 * resident set (ru_maxrss) and the live heap + ArrayBuffers after a forced GC at each stage.
 */
import { prepareSplit, stratifiedSplit, type Dataset } from '../../models/dataset';
import { DATASET_LIMITS, parseCsvDataset } from '../../models/tabular';
import { encodeTableData } from '../../shared/datasets';

/** Exposed by --expose-gc. */
declare const gc: () => void;

const MB = 1024 * 1024;
const [, , kind, rowsArg, featuresArg] = process.argv;
const rows = Number(rowsArg);
const features = Number(featuresArg);

function live(): number {
  gc();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / MB;
}

/**
 * Four-character numbers ("12.5"), so the text is about 5 bytes per cell with the separator. Written
 * into one byte buffer and decoded once, so the text is one flat string (as a request body's text is)
 * and generating it leaves no garbage that would inflate the peak.
 */
function csv(): string {
  const header = `${[...Array.from({ length: features }, (_, i) => `f${i}`), 'label'].join(',')}\n`;
  const bytes = new Uint8Array(header.length + rows * (features * 5 + 2));
  let at = 0;
  for (let i = 0; i < header.length; i++) bytes[at++] = header.charCodeAt(i);
  const digit = (d: number) => 48 + d;
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < features; f++) {
      const v = (r * 31 + f * 17) % 997; // 0..996 -> "dd.d" with leading digits kept at two
      bytes[at++] = digit(Math.floor(v / 100) % 10);
      bytes[at++] = digit(Math.floor(v / 10) % 10);
      bytes[at++] = 46;
      bytes[at++] = digit(v % 10);
      bytes[at++] = 44;
    }
    bytes[at++] = digit(r % 10);
    bytes[at++] = 10;
  }
  return new TextDecoder().decode(bytes.subarray(0, at));
}

function stored(): ArrayBuffer {
  const bytes = new ArrayBuffer(rows * features * 4 + rows * 4);
  const x = new Float32Array(bytes, 0, rows * features);
  const y = new Int32Array(bytes, rows * features * 4, rows);
  for (let i = 0; i < x.length; i++) x[i] = (i % 997) / 10;
  for (let r = 0; r < rows; r++) y[r] = r % 10;
  return bytes;
}

// Twice the cap is measured with the cap lifted, to show what the cap prevents.
(DATASET_LIMITS as { maxCells: number }).maxCells = Infinity;

const stages: Record<string, number> = { baseline: live() };
const baselineRss = process.resourceUsage().maxRSS / 1024;
let keep: unknown[];
if (kind === 'upload') {
  const text = csv();
  stages.text = live();
  // The transient of parsing: a column's float64 builder and its float32 copy are alive together for a
  // moment, beside every finished column (float32) and the labels.
  stages.parsing_transient = stages.text + (rows * features * 4 + rows * 8 * 3 + rows * 4) / MB;
  const d = parseCsvDataset('m', text);
  stages.parsed = live();
  const s = stratifiedSplit(d, 42);
  const bytes = encodeTableData(d).data;
  stages.encoded = live();
  keep = [text, d, s, bytes];
} else {
  const bytes = stored();
  stages.read = live();
  const d: Dataset = {
    name: 'm',
    featureNames: Array.from({ length: features }, (_, i) => `f${i}`),
    classNames: Array.from({ length: 10 }, (_, i) => String(i)),
    x: new Float32Array(bytes, 0, rows * features),
    y: new Int32Array(bytes, rows * features * 4, rows),
    rows,
    features,
  };
  const split = prepareSplit(d, 42);
  stages.split = live();
  keep = [split];
}
const peakRss = process.resourceUsage().maxRSS / 1024;
console.log(
  JSON.stringify({
    kind,
    rows,
    features,
    cells: rows * features,
    stages,
    peakLiveMb: Math.max(...Object.values(stages)) - stages.baseline!,
    peakRssOverBaselineMb: peakRss - baselineRss,
    kept: keep.length,
  }),
);
