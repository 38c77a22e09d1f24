import { linearPredictor, type EncodedMatrix } from './encoded-matrix';
import { binaryLabels } from './labels';
import { minimizeLbfgs } from './lbfgs';
import { checkValidation, curveRecorder, type LinearCurves, type LinearFitOptions } from './linear-curves';
import { addPenalisedGradient } from './penalised-gradient';

/** The parameters of every linear trainer (binary and multinomial logistic, linear regression). */
export interface LinearParams {
  /**
   * L2 penalty strength λ: the objective is the mean loss + λ/2·‖w‖² (intercepts are not
   * penalised). Scaled to the mean loss, so a value means the same whatever the row count.
   */
  l2: number;
  maxIterations: number;
  /**
   * Converged when every component of the objective's gradient is at most this (or when the
   * loss stops changing at float64 precision, see lbfgs.ts).
   */
  tolerance: number;
}

export type LogisticParams = LinearParams;

export interface LinearFit extends LinearCurves {
  weights: number[];
  intercept: number;
  iterations: number;
  converged: boolean;
  /** The objective (penalised mean loss) after each iteration. */
  lossHistory: number[];
}
export type LogisticFit = LinearFit;

/**
 * Fits L2-regularised binary logistic regression with L-BFGS, deterministically. With
 * `validation` (labels 0/1), the validation curve records the mean log loss on those rows.
 */
export function trainLogistic(
  matrix: EncodedMatrix,
  y: ArrayLike<number>,
  params: LogisticParams,
  { onIteration, validation }: LinearFitOptions<ArrayLike<number>> = {},
): LogisticFit {
  checkLinearParams(params);
  if (y.length !== matrix.rowCount) {
    throw new Error(`got ${y.length} labels for ${matrix.rowCount} rows`);
  }
  const labels = binaryLabels(y, 'the labels');
  const { width } = matrix;
  checkValidation(validation, width);
  // Parameters: the weights, then the intercept. Start from the base rate's log-odds, the
  // optimum when every weight is zero, so early iterations are spent on the features.
  const start = new Float64Array(width + 1);
  const baseRate = labels.reduce((sum, label) => sum + label, 0) / labels.length;
  start[width] = Math.log(baseRate / (1 - baseRate));

  const objective = logisticObjective(matrix, labels, params.l2);
  const validationScores = validation && new Float64Array(validation.matrix.rowCount);
  const recorder = curveRecorder(
    'logloss',
    objective.meanLoss,
    validation
      ? (parameters) =>
          meanLogLoss(validation.matrix, validation.targets, parameters.subarray(0, width), parameters[width], validationScores)
      : null,
    onIteration,
  );
  const result = minimizeLbfgs(objective.evaluate, start, {
    maxIterations: params.maxIterations,
    gradientTolerance: params.tolerance,
    onIteration: recorder.onIteration,
  });
  return {
    weights: Array.from(result.x.subarray(0, width)),
    intercept: result.x[width],
    iterations: result.iterations,
    converged: result.converged,
    lossHistory: result.valueHistory,
    ...recorder.curves,
  };
}

/** Mean log loss of a logistic model over labelled rows (the same expression the objective sums). */
function meanLogLoss(
  matrix: EncodedMatrix,
  labels: ArrayLike<number>,
  weights: ArrayLike<number>,
  intercept: number,
  scores?: Float64Array,
): number {
  const z = linearPredictor(matrix, weights, intercept, scores);
  let lossSum = 0;
  for (let i = 0; i < matrix.rowCount; i++) lossSum += Math.max(z[i], 0) + Math.log1p(Math.exp(-Math.abs(z[i]))) - labels[i] * z[i];
  return lossSum / matrix.rowCount;
}

/** 1 / (1 + e^-z), without overflow for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

export function checkLinearParams({ l2, maxIterations, tolerance }: LinearParams): void {
  if (!(l2 >= 0) || !Number.isFinite(l2)) throw new Error(`l2 must be a finite number >= 0, got ${l2}`);
  if (!Number.isInteger(maxIterations) || maxIterations < 1) {
    throw new Error(`maxIterations must be a positive integer, got ${maxIterations}`);
  }
  if (!(tolerance > 0)) throw new Error(`tolerance must be > 0, got ${tolerance}`);
}

/**
 * Mean log-loss + λ/2·‖w‖² and its gradient, over parameters [w..., intercept]; `meanLoss` is the
 * unpenalised mean log loss of the latest evaluation.
 */
function logisticObjective(matrix: EncodedMatrix, labels: Uint8Array, l2: number) {
  const { rowCount, width } = matrix;
  const scores = new Float64Array(rowCount);
  const residuals = new Float64Array(rowCount);
  let meanLoss = Number.NaN;
  const evaluate = (parameters: Float64Array, gradient: Float64Array): number => {
    const weights = parameters.subarray(0, width);
    linearPredictor(matrix, weights, parameters[width], scores);
    let lossSum = 0;
    let residualSum = 0;
    for (let i = 0; i < rowCount; i++) {
      const z = scores[i];
      const y = labels[i];
      // One exponential serves both the loss and the probability (the hot loop of training).
      const e = Math.exp(-Math.abs(z));
      // log(1 + e^z) - y·z, the negative log-likelihood, in a form that cannot overflow.
      lossSum += Math.max(z, 0) + Math.log1p(e) - y * z;
      const probability = z >= 0 ? 1 / (1 + e) : e / (1 + e);
      const residual = (probability - y) / rowCount;
      residuals[i] = residual;
      residualSum += residual;
    }
    gradient.fill(0);
    const squaredNorm = addPenalisedGradient(matrix, residuals, residualSum, weights, l2, gradient);
    meanLoss = lossSum / rowCount;
    return meanLoss + (l2 / 2) * squaredNorm;
  };
  return { evaluate, meanLoss: () => meanLoss };
}
