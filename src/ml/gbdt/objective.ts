import { binaryLabels, classLabels, codeWithClasses, regressionTargets } from '../labels';
import type { GbdtObjective } from './params';

/** The metric of the learning curves and of early stopping (lower is better for all three). */
export type GbdtMetric = 'rmse' | 'logloss' | 'multi_logloss';

export const metricOf: Record<GbdtObjective, GbdtMetric> = {
  regression: 'rmse',
  binary: 'logloss',
  multiclass: 'multi_logloss',
};

/** Checked target values: float64 labels (class codes for multiclass) and the class count. */
export interface CheckedLabels {
  labels: Float64Array;
  /** 2 for binary, K for multiclass, 1 for regression. */
  classes: number;
  /** multiclass: the class names, code i = classNames[i] (see labels.ts classLabels). */
  classNames?: string[];
}

/**
 * Checks the target values for an objective and returns them as float64 (class codes for
 * multiclass). `what` names the column in errors. Throws on a missing value, a value of the wrong
 * kind, no rows, or a constant target (there is nothing to learn). A validation split passes the
 * training classes: its labels are coded with them, and a class unseen in training is an error.
 */
export function checkLabels(
  objective: GbdtObjective,
  values: ArrayLike<unknown>,
  what: string,
  trainingClasses?: readonly string[],
): CheckedLabels {
  if (values.length === 0) throw new Error(`${what} has no rows to train on`);
  switch (objective) {
    case 'binary':
      return { labels: Float64Array.from(binaryLabels(values, what)), classes: 2 };
    case 'regression':
      return { labels: regressionTargets(values, what), classes: 1 };
    case 'multiclass': {
      if (trainingClasses) {
        return {
          labels: Float64Array.from(codeWithClasses(values, trainingClasses, what)),
          classes: trainingClasses.length,
          classNames: [...trainingClasses],
        };
      }
      const { classes, codes } = classLabels(values, what);
      return { labels: Float64Array.from(codes), classes: classes.length, classNames: classes };
    }
  }
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
