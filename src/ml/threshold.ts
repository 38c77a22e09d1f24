import type { Row } from './row';
import { predictProbability, type TrainedModel, withThreshold } from './trained-model';

/**
 * The decision threshold that maximises F1 on held-out rows. With a minority positive class
 * (a fifth of flights are late) 0.5 labels almost nothing positive; a threshold chosen on the
 * validation split — never on the test split, which must stay unseen — makes `label` useful.
 *
 * A row is positive when probability > threshold (the ONNX `label` rule). The threshold is set
 * midway between two distinct probabilities and rounded to float32, so a float32 probability
 * computed by onnxruntime falls on the same side as the float64 one computed here.
 */
export function f1OptimalThreshold(labels: ArrayLike<number>, proba: ArrayLike<number>): number {
  const n = proba.length;
  if (n === 0 || labels.length !== n) throw new Error(`need as many labels as probabilities (got ${labels.length} and ${n})`);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => proba[b] - proba[a]);
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i] === 1 ? 1 : 0;
  if (positives === 0) return 0.5;

  let bestF1 = -1;
  let bestThreshold = 0.5;
  let truePositives = 0;
  for (let k = 0; k < n; k++) {
    truePositives += labels[order[k]] === 1 ? 1 : 0;
    const current = proba[order[k]];
    const next = k + 1 < n ? proba[order[k + 1]] : current - 1;
    if (next === current) continue; // ties: a threshold can only fall between distinct values
    const predicted = k + 1;
    const f1 = (2 * truePositives) / (predicted + positives);
    if (f1 > bestF1) {
      bestF1 = f1;
      bestThreshold = k + 1 < n ? Math.fround((current + next) / 2) : Math.fround(Math.max(0, current - 1e-6));
    }
  }
  return bestThreshold;
}

/**
 * Sets the model's decision threshold from validation rows (labels in `model.target`).
 * `probabilities`: the model's P(positive) on those rows when already computed (in a worker).
 */
export function withValidatedThreshold<T extends TrainedModel>(
  model: T,
  validation: readonly Row[],
  probabilities: ArrayLike<number> = predictProbability(model, validation),
): T {
  if (validation.length === 0) return model;
  const labels = validation.map((row) => Number(row[model.target]));
  return withThreshold(model, f1OptimalThreshold(labels, probabilities));
}
