/**
 * Where training data comes from. The embedded digits set is always present; its split is computed
 * once per isolate (deterministic, so every isolate derives the same split).
 */
import { prepareSplit, type Split } from '../models/dataset';
import { loadEmbeddedDigits } from '../models/digits-embedded';

/** Seed of the train/validation/test split of a dataset; part of a model's provenance. */
export const SPLIT_SEED = 42;

export const EMBEDDED_DATASETS = ['digits'] as const;

const splits = new Map<string, Promise<Split>>();

export function isKnownDataset(name: string): boolean {
  return (EMBEDDED_DATASETS as readonly string[]).includes(name);
}

export class UnknownDatasetError extends Error {
  override name = 'UnknownDatasetError';
}

/** The standardised split of a dataset (cached per isolate: immutable once computed). */
export function loadSplit(name: string): Promise<Split> {
  if (!isKnownDataset(name)) return Promise.reject(new UnknownDatasetError(`unknown dataset "${name}"`));
  let split = splits.get(name);
  if (!split) {
    split = loadEmbeddedDigits().then((d) => prepareSplit(d, SPLIT_SEED));
    split.catch(() => splits.delete(name));
    splits.set(name, split);
  }
  return split;
}
