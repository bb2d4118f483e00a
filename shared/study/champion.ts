/**
 * Scoring the current champion on a challenger's rows, and the one promotion path every challenger
 * takes (a study's best trial, a session's weights, an ensemble): score the champion on the
 * challenger's test split, hand the evidence to the model's registry, which decides atomically.
 *
 * The champion reads the rows through its own stored preprocessing (a table's: its columns, medians and
 * categories; else its feature names and order; and its standardisation folded into the first layer) and is
 * built as it is served (an ensemble's members averaged, served-model.ts), so it is scored exactly as it is
 * served. When it
 * cannot read them (a feature it needs is gone, the classes changed) it is not comparable: the caller
 * reports that instead of guessing.
 */
import type { Split } from '../../models/dataset';
import { encodeTable, type RawTable } from '../../models/preprocess';
import type { ProbabilityModel } from '../../models/infer';
import type { Store } from '../storage/store';
import { compareOnRows, type ChampionEvidence, type GuardSettings } from './compare';
import { scoreRows } from '../../models/scoring';
import { rawRows } from './evaluate-split';
import { loadServedModel } from './served-model';
import type { ModelVersion, PromotionOutcome, VersionCandidate } from './types';

/** Where the challenger's rows come from: its dataset version's test split. */
export interface ChallengerRows {
  dataset: string;
  datasetVersion: string;
  split: Split;
  /** Per test row, 1 where the challenger is right (same order as split.test). */
  correct: Uint8Array;
}

type ChampionInputs = { ok: true; x: Float32Array; labels: Int32Array } | { ok: false; reason: string };

/**
 * The challenger's test rows as a table: as uploaded when its split is a table's, else its numeric
 * features as number columns (a table-trained champion reads those like any numeric column).
 */
function testTable(split: Split): RawTable {
  if (split.table) return split.table.test;
  const raw = rawRows(split, split.test);
  const f = split.features;
  return {
    rows: split.test.rows,
    columns: split.featureNames.map((name, j) => ({
      name,
      kind: 'number' as const,
      values: Float32Array.from({ length: split.test.rows }, (_, r) => raw[r * f + j]!),
    })),
  };
}

/** A champion without preprocessing: its features picked by name, in its own order. */
function numericInputs(champion: ModelVersion, split: Split): ChampionInputs {
  const column = new Map(split.featureNames.map((n, i) => [n, i]));
  const missing = champion.featureNames.filter((n) => !column.has(n));
  if (missing.length)
    return {
      ok: false,
      reason: `${missing.length} of its ${champion.featureNames.length} input features are not in the dataset (${missing
        .slice(0, 5)
        .map((n) => `"${n}"`)
        .join(', ')}${missing.length > 5 ? ', …' : ''})`,
    };
  const raw = rawRows(split, split.test);
  const f = split.features;
  const picks = champion.featureNames.map((n) => column.get(n)!);
  const x = new Float32Array(split.test.rows * picks.length);
  for (let r = 0; r < split.test.rows; r++)
    for (let j = 0; j < picks.length; j++) x[r * picks.length + j] = raw[r * f + picks[j]!]!;
  return { ok: true, x, labels: new Int32Array(0) };
}

/**
 * The test rows as the champion reads them: through its own stored preprocessing when it has one (the
 * challenger's rows as uploaded, encoded with the champion's categories and medians), else its features
 * picked by name in its own order; and the true labels as indices into its own classes. Anything it
 * cannot map makes it not comparable.
 */
export function championInputs(champion: ModelVersion, split: Split): ChampionInputs {
  const classIndex = new Map(champion.classNames.map((n, i) => [n, i]));
  let inputs: ChampionInputs;
  if (champion.preprocessing) {
    const all = Array.from({ length: split.test.rows }, (_, i) => i);
    const encoded = encodeTable(champion.preprocessing, testTable(split), all);
    inputs = encoded.ok
      ? { ok: true, x: encoded.x, labels: new Int32Array(0) }
      : { ok: false, reason: `its preprocessing cannot read the rows: ${encoded.reason}` };
  } else inputs = numericInputs(champion, split);
  if (!inputs.ok) return inputs;
  const sameClasses =
    champion.classNames.length === split.classNames.length && split.classNames.every((n) => classIndex.has(n));
  if (!sameClasses)
    return {
      ok: false,
      reason: `its classes (${champion.classNames.join(', ')}) differ from the dataset's (${split.classNames.join(', ')})`,
    };
  const labels = Int32Array.from(split.test.y, (y) => classIndex.get(split.classNames[y]!)!);
  return { ok: true, x: inputs.x, labels };
}

/** The champion scored on the challenger's test rows, paired with the challenger's own per-row results. */
export async function scoreChampion(
  champion: ModelVersion,
  rows: ChallengerRows,
  store: Store,
): Promise<ChampionEvidence> {
  const where = { championVersion: champion.version, dataset: rows.dataset, datasetVersion: rows.datasetVersion };
  const notComparable = (reason: string): ChampionEvidence => ({ comparable: false, ...where, reason });
  if (rows.correct.length !== rows.split.test.rows)
    throw new RangeError(`challenger scored ${rows.correct.length} rows, the test split has ${rows.split.test.rows}`);
  const inputs = championInputs(champion, rows.split);
  if (!inputs.ok) return notComparable(inputs.reason);
  let model: ProbabilityModel;
  try {
    model = await loadServedModel(champion, (key) => store.getBytes(key));
  } catch (err) {
    return notComparable(`its weights cannot be read (${err instanceof Error ? err.message : String(err)})`);
  }
  try {
    const probs = model.predictProba(inputs.x, rows.split.test.rows);
    return compareOnRows(where, scoreRows(probs, inputs.labels, champion.classNames.length).correct, rows.correct);
  } finally {
    model.dispose();
  }
}

/**
 * The registry methods the promotion path needs: a structural view of the registry's contract
 * (functions/durable/contracts.ts), which answers a refusal as { ok: false, error }.
 */
export interface PromotionRegistry {
  current(): Promise<ModelVersion | null>;
  promote(
    candidate: VersionCandidate,
    settings: GuardSettings,
    evidence: ChampionEvidence | null,
  ): Promise<{ ok: true; value: PromotionOutcome } | { ok: false; error: { code: string; message: string } }>;
}

/** A champion replaced this many times while we scored it is given up on (the caller reports the error). */
const MAX_ATTEMPTS = 3;

export class ChampionMovedError extends Error {
  override name = 'ChampionMovedError';
}

/**
 * Scores the registry's current champion on the challenger's rows and asks the registry to decide. The
 * registry refuses evidence about another champion than its current one (a promotion or rollback landed
 * while we scored); then the new champion is scored and the registry asked again.
 */
export async function promoteThroughGuard(
  registry: PromotionRegistry,
  store: Store,
  candidate: VersionCandidate,
  rows: ChallengerRows,
  settings: GuardSettings,
): Promise<PromotionOutcome> {
  if (rows.dataset !== candidate.dataset || rows.datasetVersion !== candidate.datasetVersion)
    throw new RangeError(
      `challenger rows (${rows.dataset}@${rows.datasetVersion}) are not its dataset (${candidate.dataset}@${candidate.datasetVersion})`,
    );
  let refusal = '';
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const champion = await registry.current();
    const evidence = champion ? await scoreChampion(champion, rows, store) : null;
    const answer = await registry.promote(candidate, settings, evidence);
    if (answer.ok) return answer.value;
    refusal = answer.error.message;
  }
  throw new ChampionMovedError(
    `the champion of "${candidate.model}" changed ${MAX_ATTEMPTS} times while it was being scored (last: ${refusal})`,
  );
}
