/** Pieces every classification metric shares (metrics.ts, metrics-multiclass.ts). */

/** Probabilities are clipped to [probabilityClip, 1 - probabilityClip] in every log loss. */
export const probabilityClip = 1e-15;

/**
 * The Mann-Whitney form of ROC AUC: the probability that a random positive (label 1) scores above
 * a random negative (label 0), with tied scores counting one half (the trapezoid over distinct
 * thresholds, as sklearn's roc_auc_score). NaN when only one class is present.
 */
export function rocAuc(yTrue: ArrayLike<number>, proba: ArrayLike<number>): number {
  const order = Array.from({ length: yTrue.length }, (_, i) => i).sort((a, b) => proba[a] - proba[b]);
  let positives = 0;
  let positiveRankSum = 0;
  for (let start = 0; start < order.length;) {
    let end = start;
    let groupPositives = 0;
    while (end < order.length && proba[order[end]] === proba[order[start]]) {
      groupPositives += yTrue[order[end]];
      end++;
    }
    // Ranks start + 1 ... end share their average.
    positiveRankSum += groupPositives * ((start + 1 + end) / 2);
    positives += groupPositives;
    start = end;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
