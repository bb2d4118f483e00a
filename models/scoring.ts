/**
 * Scoring class probabilities against labels. Every place that turns probabilities into a class (the
 * test accuracy at promotion, the confusion matrix of /evaluation, the champion's side of the guard,
 * the label of a prediction) goes through `argmax`, so they agree on ties: the lowest class index wins.
 */

/** The most probable class of row `r` of a row-major [rows x classes] matrix; the lowest index on ties. */
export function argmax(probs: Float32Array, classes: number, r: number): number {
  const base = r * classes;
  let arg = 0;
  for (let c = 1; c < classes; c++) if (probs[base + c]! > probs[base + arg]!) arg = c;
  return arg;
}

export interface SplitScore {
  /** Per row, 1 where the predicted class is the label (in the split's row order). */
  correct: Uint8Array;
  /** confusion[actual][predicted]: row counts. */
  confusion: number[][];
  /** Right rows over all rows. */
  accuracy: number;
}

/** One pass over the rows: correctness, the confusion matrix and the accuracy all from the same arg-max. */
export function scoreRows(probs: Float32Array, labels: Int32Array, classes: number): SplitScore {
  const correct = new Uint8Array(labels.length);
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let hits = 0;
  for (let r = 0; r < labels.length; r++) {
    const predicted = argmax(probs, classes, r);
    confusion[labels[r]!]![predicted]! += 1;
    if (predicted === labels[r]) {
      correct[r] = 1;
      hits++;
    }
  }
  return { correct, confusion, accuracy: hits / labels.length };
}

/** Per-class and class-balanced figures of a confusion matrix (confusion[actual][predicted]). */
export interface ClassMetrics {
  /** Per class (in class order): right rows of that class over its rows; null for a class with no rows. */
  recall: (number | null)[];
  /** Per class: right predictions of that class over its predictions; null when it was never predicted. */
  precision: (number | null)[];
  /** Mean over the classes with rows of 2PR/(P+R) (0 where P+R is 0 or P is undefined). */
  macroF1: number;
  /** Mean recall over the classes with rows: accuracy as if every class were equally frequent. */
  balancedAccuracy: number;
}

/**
 * Accuracy hides a rare class: 95% right while never answering the 5% class. Recall per class, macro-F1
 * and balanced accuracy weigh every class alike. Classes without rows are left out of the means.
 */
export function classMetrics(confusion: number[][]): ClassMetrics {
  const k = confusion.length;
  const recall: (number | null)[] = [];
  const precision: (number | null)[] = [];
  let f1Sum = 0;
  let recallSum = 0;
  let present = 0;
  for (let c = 0; c < k; c++) {
    const rows = confusion[c]!.reduce((a, b) => a + b, 0);
    let predicted = 0;
    for (let a = 0; a < k; a++) predicted += confusion[a]![c]!;
    const hit = confusion[c]![c]!;
    const r = rows > 0 ? hit / rows : null;
    const p = predicted > 0 ? hit / predicted : null;
    recall.push(r);
    precision.push(p);
    if (r === null) continue;
    present++;
    recallSum += r;
    f1Sum += p !== null && p + r > 0 ? (2 * p * r) / (p + r) : 0;
  }
  return {
    recall,
    precision,
    macroF1: present ? f1Sum / present : 0,
    balancedAccuracy: present ? recallSum / present : 0,
  };
}
