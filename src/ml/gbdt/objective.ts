import { binaryLabels } from '../labels';
import type { GbdtObjective } from './params';

/** The metric of the learning curves and of early stopping (lower is better for all three). */
export type GbdtMetric = 'rmse' | 'logloss' | 'multi_logloss';

export const metricOf: Record<GbdtObjective, GbdtMetric> = {
  regression: 'rmse',
  binary: 'logloss',
  multiclass: 'multi_logloss',
};

/**
 * Checks the target values for an objective and returns them as float64 (class indices for
 * multiclass). `what` names the column in errors. Throws on a missing value, a value of the wrong
 * kind, no rows, or a constant target (there is nothing to learn).
 */
export function checkLabels(objective: GbdtObjective, values: ArrayLike<unknown>, what: string): { labels: Float64Array; classes: number } {
  if (values.length === 0) throw new Error(`${what} has no rows to train on`);
  if (objective === 'binary') return { labels: Float64Array.from(binaryLabels(values, what)), classes: 2 };
  const labels = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new Error(`${what} must be a finite number, but row ${i} has ${describe(value)}`);
    }
    if (objective === 'multiclass' && !(Number.isInteger(value) && value >= 0 && value < 100_000)) {
      throw new Error(`${what} must be a class index 0, 1, …, K-1 for multiclass, but row ${i} has ${describe(value)}`);
    }
    labels[i] = value;
  }
  if (objective === 'regression') {
    if (labels.every((value) => value === labels[0])) {
      throw new Error(`${what} is constant (every row is ${labels[0]}): there is nothing to learn`);
    }
    return { labels, classes: 1 };
  }
  let classes = 0;
  for (const value of labels) classes = Math.max(classes, value + 1);
  const counts = new Float64Array(classes);
  for (const value of labels) counts[value]++;
  const absent = counts.findIndex((count) => count === 0);
  if (absent >= 0) throw new Error(`${what}: class ${absent} has no training rows (classes must be 0..K-1, each present)`);
  if (classes < 2) throw new Error(`${what} is constant (every row is class 0): a classifier needs at least two classes`);
  return { labels, classes };
}

/** Raw scores before the first tree: the optimum of a constant model. */
export function baseScores(objective: GbdtObjective, labels: Float64Array, classes: number): number[] {
  const n = labels.length;
  if (objective === 'multiclass') {
    const counts = new Float64Array(classes);
    for (let i = 0; i < n; i++) counts[labels[i]]++;
    return Array.from(counts, (count) => Math.log(count / n));
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += labels[i];
  const mean = sum / n;
  return objective === 'regression' ? [mean] : [Math.log(mean / (1 - mean))];
}

/** The metric from a summed loss (squared residuals, or log losses) over n rows. */
export function metricFromLoss(objective: GbdtObjective, lossSum: number, n: number): number {
  return objective === 'regression' ? Math.sqrt(lossSum / n) : lossSum / n;
}

/** Summed loss of raw scores (row-major, `classes` per row for multiclass) against labels. */
export function lossSum(objective: GbdtObjective, scores: Float64Array, labels: Float64Array, classes: number): number {
  let loss = 0;
  const n = labels.length;
  if (objective === 'regression') {
    for (let r = 0; r < n; r++) {
      const d = scores[r] - labels[r];
      loss += d * d;
    }
  } else if (objective === 'binary') {
    for (let r = 0; r < n; r++) {
      const z = scores[r];
      loss += Math.log(1 + Math.exp(-Math.abs(z))) + (z > 0 ? z : 0) - labels[r] * z;
    }
  } else {
    for (let r = 0; r < n; r++) {
      const base = r * classes;
      let max = scores[base];
      for (let k = 1; k < classes; k++) if (scores[base + k] > max) max = scores[base + k];
      let sum = 0;
      for (let k = 0; k < classes; k++) sum += Math.exp(scores[base + k] - max);
      loss += Math.log(sum) - (scores[base + labels[r]] - max);
    }
  }
  return loss;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value) ?? String(value);
}
