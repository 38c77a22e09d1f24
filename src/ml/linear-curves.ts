import type { EncodedMatrix } from './encoded-matrix';

/**
 * Learning curves of keel's linear models, in the names and units of GBDT's (gbdt/objective.ts),
 * so runs of either family compare on one scale: binary `logloss` (mean log loss), multiclass
 * `multi_logloss` (mean cross-entropy), regression `rmse` (in the target's units). The train curve
 * has no L2 penalty in it: it is the loss the model makes, not the objective it minimises.
 */
export type LinearCurveMetric = 'logloss' | 'multi_logloss' | 'rmse';

export interface LinearCurves {
  metric: LinearCurveMetric;
  /** The metric on the training rows after each iteration (index i: after iteration i + 1). */
  trainCurve: number[];
  /** The same on the validation rows; null without validation rows. */
  validationCurve: number[] | null;
}

/**
 * Rows the fit is observed on, encoded with the pipeline fitted on the training rows, and their
 * targets coded as the trainer's own. Observed only: nothing the optimiser does depends on them,
 * so the weights are the same with or without (and the exported ONNX bytes too).
 */
export interface LinearValidation<Targets> {
  matrix: EncodedMatrix;
  targets: Targets;
}

export function checkValidation(validation: LinearValidation<ArrayLike<unknown>> | undefined, width: number): void {
  if (!validation) return;
  const { matrix, targets } = validation;
  if (matrix.width !== width) throw new Error(`the validation rows are encoded to ${matrix.width} columns, the training rows to ${width}`);
  if (targets.length !== matrix.rowCount)
    throw new Error(`got ${targets.length} validation targets for ${matrix.rowCount} validation rows`);
}

export interface LinearFitOptions<Targets> {
  /** After each iteration: the objective (mean loss + L2 penalty), as the optimiser sees it. */
  onIteration?: (iteration: number, loss: number) => void;
  validation?: LinearValidation<Targets>;
}

/**
 * Collects the curves during a fit; pass `onIteration` to minimizeLbfgs. `trainMetric` returns
 * the metric of the objective's latest evaluation, which is the accepted point (see
 * LbfgsOptions.onIteration), so the train curve costs nothing extra; `validationMetric` computes
 * the metric at the accepted parameters, one predictor pass over the validation rows.
 */
export function curveRecorder(
  metric: LinearCurveMetric,
  trainMetric: () => number,
  validationMetric: ((parameters: Float64Array) => number) | null,
  report?: (iteration: number, objective: number) => void,
): { curves: LinearCurves; onIteration: (iteration: number, objective: number, parameters: Float64Array) => void } {
  const curves: LinearCurves = { metric, trainCurve: [], validationCurve: validationMetric ? [] : null };
  return {
    curves,
    onIteration(iteration, objective, parameters) {
      curves.trainCurve.push(trainMetric());
      if (validationMetric) curves.validationCurve!.push(validationMetric(parameters));
      report?.(iteration, objective);
    },
  };
}
