/**
 * Request rows -> feature matrix, and probabilities -> TF-Serving-style predictions. Pure.
 */
import type { RecordValue } from '../../models/preprocess';
import { argmax } from '../../models/scoring';

/** A request row that does not fit the model's features; the message names the instance and the field. */
export class InvalidInstanceError extends Error {
  override name = 'InvalidInstanceError';
}

/** A request row: by position or by name; strings and null only mean something to a table model. */
export type Instance = RecordValue[] | Record<string, RecordValue>;

function numberAt(v: RecordValue | undefined, i: number, field: string): number {
  if (typeof v !== 'number')
    throw new InvalidInstanceError(`instances[${i}]${field}: ${JSON.stringify(v)?.slice(0, 40)} is not a number`);
  return v;
}

/** Row-major matrix in the model's feature order; errors name the offending instance and field. */
export function toMatrix(
  instances: Instance[],
  featureNames: string[],
  featureIndex: Map<string, number>,
): Float32Array {
  const f = featureNames.length;
  const x = new Float32Array(instances.length * f);
  instances.forEach((inst, i) => {
    if (Array.isArray(inst)) {
      if (inst.length !== f)
        throw new InvalidInstanceError(`instances[${i}]: expected ${f} features, got ${inst.length}`);
      inst.forEach((v, j) => (x[i * f + j] = numberAt(v, i, `[${j}]`)));
      return;
    }
    const names = Object.keys(inst);
    for (const name of names) {
      if (!featureIndex.has(name))
        throw new InvalidInstanceError(`instances[${i}]: unknown feature "${name.slice(0, 64)}"`);
    }
    if (names.length !== f) {
      const missing = featureNames.find((n) => !(n in inst));
      throw new InvalidInstanceError(
        `instances[${i}]: missing feature "${missing}" (expected ${f} features, got ${names.length})`,
      );
    }
    for (const name of names) x[i * f + featureIndex.get(name)!] = numberAt(inst[name], i, `.${name}`);
  });
  return x;
}

export interface Prediction {
  label: string;
  classIndex: number;
  confidence: number;
  probabilities: Record<string, number>;
  review: boolean;
}

export function formatPredictions(
  probs: Float32Array,
  classNames: string[],
  threshold: number,
  topK?: number,
): Prediction[] {
  const c = classNames.length;
  const rows = probs.length / c;
  const out: Prediction[] = [];
  for (let r = 0; r < rows; r++) {
    const row = probs.subarray(r * c, (r + 1) * c);
    const arg = argmax(probs, c, r);
    let order = Array.from({ length: c }, (_, k) => k);
    if (topK !== undefined && topK < c) order = order.sort((a, b) => row[b]! - row[a]! || a - b).slice(0, topK);
    const probabilities: Record<string, number> = {};
    for (const k of order) probabilities[classNames[k]!] = row[k]!;
    out.push({
      label: classNames[arg]!,
      classIndex: arg,
      confidence: row[arg]!,
      probabilities,
      review: row[arg]! < threshold,
    });
  }
  return out;
}
