/**
 * The champion/challenger comparison: both models scored on the same rows, a paired significance test on
 * the rows where they disagree, and the promotion decision that follows. Pure; every promotion path
 * (studies, sessions, ensembles) decides through `decidePromotion`, in the model's registry.
 *
 * Why McNemar's exact test: the two models answer the same rows, so their accuracies are not independent
 * samples. Rows both get right (or both wrong) say nothing about which is better; only the discordant rows
 * do. Under "equally good", each discordant row is a fair coin between "only the champion is right" and
 * "only the challenger is right", so the count is Binomial(n, 1/2) and the exact two-sided tail is the
 * p-value. No normal approximation: discordant counts are small exactly when the decision is close.
 */

/** How the guard is configured: the accuracy margin and the significance level of the paired test. */
export interface GuardSettings {
  /** The challenger must be better by more than this (accuracy, 0..1). */
  margin: number;
  /** The paired test must reject "equally good" at this level (p <= significance). */
  significance: number;
}

export const DEFAULT_SIGNIFICANCE = 0.05;

/** Per-row agreement of two models on the same rows, in the shape the outcome records. */
export interface PairedCounts {
  rows: number;
  championHits: number;
  challengerHits: number;
  /** championOnly: the champion is right and the challenger wrong; challengerOnly: the reverse. */
  discordant: { championOnly: number; challengerOnly: number };
}

/** The evidence behind a decision: both models scored on the same held-out rows. */
export interface Comparison {
  comparable: true;
  /** The champion version scored; the registry refuses evidence about any other version than its current one. */
  championVersion: number;
  /** `test`: the challenger study's test split; `reviewed`: served inputs labelled by reviewers (live decisions). */
  split: 'test' | 'reviewed';
  dataset: string;
  datasetVersion: string;
  rows: number;
  championAccuracy: number;
  challengerAccuracy: number;
  discordant: { championOnly: number; challengerOnly: number };
  /** McNemar's exact two-sided p-value on the discordant rows. */
  pValue: number;
}

/** The champion cannot read the challenger's rows (its columns or classes are gone): nothing to compare. */
export interface NotComparable {
  comparable: false;
  championVersion: number;
  dataset: string;
  datasetVersion: string;
  reason: string;
}

/** What a promotion request brings about the champion; null when there is no champion. */
export type ChampionEvidence = Comparison | NotComparable;

export interface GuardDecision {
  promote: boolean;
  reason: string;
}

/**
 * Exact two-sided p-value of k successes in n fair-coin trials: twice the smaller tail, capped at 1
 * (the distribution is symmetric, so this equals the sum of all outcomes no more likely than k).
 * Summed in log space term by term, so n in the thousands neither overflows nor loses the tail.
 */
export function binomialTwoSidedP(k: number, n: number): number {
  if (!Number.isInteger(k) || !Number.isInteger(n) || k < 0 || n < 0 || k > n)
    throw new RangeError(`binomialTwoSidedP: need integers 0 <= k <= n, got k=${k}, n=${n}`);
  if (n === 0) return 1;
  const tail = Math.min(k, n - k);
  let logTerm = -n * Math.LN2; // log P(X = 0)
  let sum = Math.exp(logTerm);
  for (let i = 0; i < tail; i++) {
    logTerm += Math.log(n - i) - Math.log(i + 1); // log P(X = i + 1) from log P(X = i)
    sum += Math.exp(logTerm);
  }
  return Math.min(1, 2 * sum);
}

/** McNemar's exact test: the two-sided binomial p of b against c discordant rows. */
export function mcnemarExactP(championOnly: number, challengerOnly: number): number {
  return binomialTwoSidedP(Math.min(championOnly, challengerOnly), championOnly + challengerOnly);
}

/** Counts agreement of two per-row correctness vectors (1 = right) over the same rows. */
export function pairCounts(champion: Uint8Array, challenger: Uint8Array): PairedCounts {
  if (champion.length !== challenger.length)
    throw new RangeError(`paired rows differ: champion ${champion.length}, challenger ${challenger.length}`);
  let championHits = 0;
  let challengerHits = 0;
  let championOnly = 0;
  let challengerOnly = 0;
  for (let i = 0; i < champion.length; i++) {
    const a = champion[i] ? 1 : 0;
    const b = challenger[i] ? 1 : 0;
    championHits += a;
    challengerHits += b;
    if (a > b) championOnly++;
    else if (b > a) challengerOnly++;
  }
  return { rows: champion.length, championHits, challengerHits, discordant: { championOnly, challengerOnly } };
}

/** The full evidence from two correctness vectors over the same rows of one dataset version's test split. */
export function compareOnRows(
  where: { championVersion: number; dataset: string; datasetVersion: string },
  champion: Uint8Array,
  challenger: Uint8Array,
  split: Comparison['split'] = 'test',
): Comparison {
  const counts = pairCounts(champion, challenger);
  if (counts.rows === 0) throw new RangeError('no rows to compare on');
  return {
    comparable: true,
    championVersion: where.championVersion,
    split,
    dataset: where.dataset,
    datasetVersion: where.datasetVersion,
    rows: counts.rows,
    championAccuracy: counts.championHits / counts.rows,
    challengerAccuracy: counts.challengerHits / counts.rows,
    discordant: counts.discordant,
    pValue: mcnemarExactP(counts.discordant.championOnly, counts.discordant.challengerOnly),
  };
}

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
const pText = (p: number) => (p < 1e-4 ? p.toExponential(2) : String(Number(p.toPrecision(3))));

/**
 * The guard. With no champion the challenger is promoted; a champion that cannot be compared is kept;
 * otherwise the challenger must be better on the shared rows by more than `margin` AND the paired test
 * must reject "equally good" at `significance`. Both conditions: the margin is about size (is it worth a
 * new version), the test about chance (would the ranking survive other rows).
 */
export function decidePromotion(evidence: ChampionEvidence | null, settings: GuardSettings): GuardDecision {
  if (!evidence) return { promote: true, reason: 'no current champion' };
  if (!evidence.comparable)
    return {
      promote: false,
      reason: `champion v${evidence.championVersion} is not comparable on ${evidence.dataset}@${evidence.datasetVersion}: ${evidence.reason}`,
    };
  const c = evidence;
  const { championOnly, challengerOnly } = c.discordant;
  const facts =
    `challenger ${pct(c.challengerAccuracy)} vs champion v${c.championVersion} ${pct(c.championAccuracy)} on the same ` +
    `${c.rows} ${c.split} rows of ${c.dataset}@${c.datasetVersion}; ${challengerOnly} rows only the challenger gets right, ` +
    `${championOnly} only the champion (McNemar exact p = ${pText(c.pValue)})`;
  const gain = c.challengerAccuracy - c.championAccuracy;
  if (!(gain > settings.margin))
    return { promote: false, reason: `${facts}: not better by more than the margin ${settings.margin}` };
  if (!(c.pValue <= settings.significance))
    return {
      promote: false,
      reason: `${facts}: better, but not significantly at ${settings.significance} (the difference may be chance)`,
    };
  return {
    promote: true,
    reason: `${facts}: better by more than the margin ${settings.margin}, significant at ${settings.significance}`,
  };
}
