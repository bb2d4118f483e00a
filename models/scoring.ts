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
