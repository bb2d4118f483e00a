/**
 * The embedded default dataset (see models/data/README.md for provenance and licence).
 * Decoding is separate from importing so plain-Node tests can feed the same bytes.
 */
import type { Dataset } from './dataset';

export const DIGITS_FEATURES = 64;
export const DIGITS_CLASSES = 10;

/** A non-negative decimal integer, or null; stricter than Number(), which reads '' as 0 and '0x3' as 3. */
function integerCell(cell: string): number | null {
  const t = cell.trim();
  return /^[0-9]{1,6}$/.test(t) ? Number(t) : null;
}

/** Parses the headerless numeric CSV: 64 pixel values then the label, one row per line. */
export function parseDigitsCsv(text: string): Dataset {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const x = new Float32Array(lines.length * DIGITS_FEATURES);
  const y = new Int32Array(lines.length);
  lines.forEach((line, r) => {
    const cells = line.split(',');
    if (cells.length !== DIGITS_FEATURES + 1)
      throw new Error(`digits row ${r + 1}: expected ${DIGITS_FEATURES + 1} cells, got ${cells.length}`);
    for (let f = 0; f < DIGITS_FEATURES; f++) {
      const v = integerCell(cells[f]!);
      if (v === null || v > 16)
        throw new Error(`digits row ${r + 1}, column ${f + 1}: bad pixel ${JSON.stringify(cells[f])}`);
      x[r * DIGITS_FEATURES + f] = v;
    }
    const label = integerCell(cells[DIGITS_FEATURES]!);
    if (label === null || label >= DIGITS_CLASSES)
      throw new Error(`digits row ${r + 1}: bad label ${JSON.stringify(cells[DIGITS_FEATURES])}`);
    y[r] = label;
  });
  return {
    name: 'digits',
    featureNames: Array.from({ length: DIGITS_FEATURES }, (_, i) => `px_${Math.floor(i / 8)}_${i % 8}`),
    classNames: Array.from({ length: DIGITS_CLASSES }, (_, i) => String(i)),
    x,
    y,
    rows: lines.length,
    features: DIGITS_FEATURES,
  };
}

/** Gunzips with the platform's DecompressionStream (present in workerd and Node). */
export async function gunzipText(gz: ArrayBuffer | Uint8Array): Promise<string> {
  const stream = new Blob([gz]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Response(stream).text();
}

export async function decodeDigits(gz: ArrayBuffer | Uint8Array): Promise<Dataset> {
  return parseDigitsCsv(await gunzipText(gz));
}
