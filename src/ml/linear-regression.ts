import { linearPredictor, type EncodedMatrix } from './encoded-matrix';
import { minimizeLbfgs } from './lbfgs';
import { checkValidation, curveRecorder, type LinearFitOptions } from './linear-curves';
import { checkLinearParams, type LinearFit, type LinearParams } from './logistic';
import { addPenalisedGradient } from './penalised-gradient';

/**
 * Fits linear regression (l2 = 0: ordinary least squares; l2 > 0: ridge) by L-BFGS. The
 * objective, over weights w and an unpenalised intercept b, is
 *
 *   mean squared error + l2/2·‖w‖²  =  (1/n)·Σᵢ (yᵢ - xᵢ·w - b)² + (l2/2)·‖w‖²
 *
 * which is n times smaller than scikit-learn Ridge's ‖y - Xw - b‖² + α‖w‖² with α = n·l2/2:
 * the same minimiser, so keel(l2) = Ridge(alpha = n·l2/2) on the same encoded matrix.
 *
 * The optimiser works on the target standardised to mean 0 and standard deviation 1, which leaves
 * the minimiser unchanged (every term scales by the variance) but makes `tolerance` mean the same
 * for prices in dollars and delays in minutes; weights, intercept and losses are reported in the
 * target's units. Deterministic: same input, bit-identical output. The curves are the RMSE, in
 * the target's units, on the training rows and (with `validation`) on the validation rows.
 */
export function trainLinearRegression(
  matrix: EncodedMatrix,
  targets: Float64Array,
  params: LinearParams,
  { onIteration, validation }: LinearFitOptions<Float64Array> = {},
): LinearFit {
  checkLinearParams(params);
  const { rowCount, width } = matrix;
  if (targets.length !== rowCount) throw new Error(`got ${targets.length} targets for ${rowCount} rows`);
  checkValidation(validation, width);
  let sum = 0;
  for (let i = 0; i < rowCount; i++) sum += targets[i];
  const mean = sum / rowCount;
  let squares = 0;
  for (let i = 0; i < rowCount; i++) squares += (targets[i] - mean) ** 2;
  const scale = Math.sqrt(squares / rowCount);
  if (!(scale > 0)) throw new Error('the target is constant: there is nothing to learn');
  const standardised = Float64Array.from(targets, (y) => (y - mean) / scale);
  const variance = scale * scale;

  const objective = squaredErrorObjective(matrix, standardised, params.l2);
  // Validation predictions use the parameters in the target's units, computed as the returned
  // model's are, so the last point of the curve is the final model's validation RMSE.
  const unitWeights = new Float64Array(width);
  const validationPredictions = validation && new Float64Array(validation.matrix.rowCount);
  const recorder = curveRecorder(
    'rmse',
    () => Math.sqrt(objective.meanSquaredError()) * scale,
    validation
      ? (parameters) => {
          for (let j = 0; j < width; j++) unitWeights[j] = parameters[j] * scale;
          return rootMeanSquaredError(
            validation.matrix,
            validation.targets,
            unitWeights,
            mean + parameters[width] * scale,
            validationPredictions,
          );
        }
      : null,
    onIteration && ((iteration, loss) => onIteration(iteration, loss * variance)),
  );
  // Start at w = 0, b = 0: the optimum of the intercept alone on the standardised target.
  const result = minimizeLbfgs(objective.evaluate, new Float64Array(width + 1), {
    maxIterations: params.maxIterations,
    gradientTolerance: params.tolerance,
    onIteration: recorder.onIteration,
  });
  return {
    weights: Array.from(result.x.subarray(0, width), (w) => w * scale),
    intercept: mean + result.x[width] * scale,
    iterations: result.iterations,
    converged: result.converged,
    lossHistory: result.valueHistory.map((loss) => loss * variance),
    ...recorder.curves,
  };
}

/** RMSE of a linear model over rows with their targets. */
function rootMeanSquaredError(
  matrix: EncodedMatrix,
  targets: ArrayLike<number>,
  weights: ArrayLike<number>,
  intercept: number,
  predictions?: Float64Array,
): number {
  const predicted = linearPredictor(matrix, weights, intercept, predictions);
  let squaredErrorSum = 0;
  for (let i = 0; i < matrix.rowCount; i++) squaredErrorSum += (predicted[i] - targets[i]) ** 2;
  return Math.sqrt(squaredErrorSum / matrix.rowCount);
}

/**
 * Mean squared error + λ/2·‖w‖² and its gradient, over parameters [w..., intercept];
 * `meanSquaredError` is the unpenalised term of the latest evaluation.
 */
function squaredErrorObjective(matrix: EncodedMatrix, targets: Float64Array, l2: number) {
  const { rowCount, width } = matrix;
  const predictions = new Float64Array(rowCount);
  const residuals = new Float64Array(rowCount);
  let meanSquaredError = Number.NaN;
  const evaluate = (parameters: Float64Array, gradient: Float64Array): number => {
    const weights = parameters.subarray(0, width);
    linearPredictor(matrix, weights, parameters[width], predictions);
    let squaredErrorSum = 0;
    let residualSum = 0;
    for (let i = 0; i < rowCount; i++) {
      const error = predictions[i] - targets[i];
      squaredErrorSum += error * error;
      // d/dŷ of (1/n)·(ŷ - y)²
      const residual = (2 * error) / rowCount;
      residuals[i] = residual;
      residualSum += residual;
    }
    gradient.fill(0);
    const squaredNorm = addPenalisedGradient(matrix, residuals, residualSum, weights, l2, gradient);
    meanSquaredError = squaredErrorSum / rowCount;
    return meanSquaredError + (l2 / 2) * squaredNorm;
  };
  return { evaluate, meanSquaredError: () => meanSquaredError };
}
