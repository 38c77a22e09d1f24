import type { BinaryMetrics } from '../shared/model-metrics';
import { probabilityClip, rocAuc } from './metrics-common';

/**
 * Evaluation metrics of a binary classifier's probabilities (sklearn's definitions):
 * - precision tp / (tp + fp), 0 when nothing is predicted positive (zero_division=0);
 * - recall tp / (tp + fn), 0 when there are no positives; F1 their harmonic mean, 0 when both are 0;
 * - ROC AUC with ties counted as half, NaN when only one class is present;
 * - log loss: mean negative log-likelihood, probabilities clipped to [1e-15, 1 - 1e-15].
 */
export type BinaryClassificationMetrics = BinaryMetrics & { task: 'binary' };

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
    if (label === 1) {
      if (predictedPositive) tp++;
      else fn++;
    } else if (predictedPositive) fp++;
    else tn++;
    const clipped = Math.min(Math.max(p, probabilityClip), 1 - probabilityClip);
    logLossSum -= label === 1 ? Math.log(clipped) : Math.log(1 - clipped);
  }
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  return {
    task: 'binary',
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
