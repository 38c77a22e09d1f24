/** Evaluation metrics of a binary classifier's probabilities. */
export interface BinaryClassificationMetrics {
  n: number;
  positives: number;
  accuracy: number;
  /** tp / (tp + fp); 0 when nothing is predicted positive (sklearn's zero_division=0). */
  precision: number;
  /** tp / (tp + fn); 0 when there are no positives. */
  recall: number;
  /** Harmonic mean of precision and recall; 0 when both are 0. */
  f1: number;
  /** Area under the ROC curve, ties counted as half; NaN when only one class is present. */
  rocAuc: number;
  /** Mean negative log-likelihood, probabilities clipped to [1e-15, 1 - 1e-15]. */
  logLoss: number;
  confusionMatrix: { tp: number; fp: number; tn: number; fn: number };
}

const probabilityClip = 1e-15;

/** A row is predicted positive when its probability is > threshold, as the ONNX `label` output. */
export function binaryClassificationMetrics(
  yTrue: ArrayLike<number>,
  proba: ArrayLike<number>,
  threshold = 0.5,
): BinaryClassificationMetrics {
  const n = yTrue.length;
  if (proba.length !== n) throw new Error(`got ${proba.length} probabilities for ${n} labels`);
  if (n === 0) throw new Error('cannot compute metrics of zero predictions');
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  let logLossSum = 0;
  for (let i = 0; i < n; i++) {
    const label = yTrue[i];
    const p = proba[i];
    if (label !== 0 && label !== 1) throw new Error(`label ${i} must be 0 or 1, got ${label}`);
    if (!(p >= 0 && p <= 1)) throw new Error(`probability ${i} must lie in [0, 1], got ${p}`);
    const predictedPositive = p > threshold;
    if (label === 1) predictedPositive ? tp++ : fn++;
    else predictedPositive ? fp++ : tn++;
    const clipped = Math.min(Math.max(p, probabilityClip), 1 - probabilityClip);
    logLossSum -= label === 1 ? Math.log(clipped) : Math.log(1 - clipped);
  }
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  return {
    n,
    positives: tp + fn,
    accuracy: (tp + tn) / n,
    precision,
    recall,
    f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
    rocAuc: rocAuc(yTrue, proba),
    logLoss: logLossSum / n,
    confusionMatrix: { tp, fp, tn, fn },
  };
}

/**
 * The Mann-Whitney form of ROC AUC: the probability that a random positive scores above a random
 * negative, with tied scores counting one half (the trapezoid over distinct thresholds).
 */
function rocAuc(yTrue: ArrayLike<number>, proba: ArrayLike<number>): number {
  const order = Array.from({ length: yTrue.length }, (_, i) => i).sort((a, b) => proba[a] - proba[b]);
  let positives = 0;
  let positiveRankSum = 0;
  for (let start = 0; start < order.length; ) {
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
