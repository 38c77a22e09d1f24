import { addTransposedProduct, type EncodedMatrix } from './encoded-matrix';

/**
 * The gradient of one linear predictor's part of a penalised objective (mean loss + λ/2·‖w‖²,
 * intercept not penalised), added into `gradient` (laid out [w..., intercept], zeroed by the
 * caller): Xᵀ·residuals + λ·w for the weights, the sum of the residuals for the intercept, where
 * a residual is the derivative of the mean loss with respect to that row's score.
 *
 * Returns `squaredNorm` + ‖w‖², summed weight by weight onto the running total, so a multinomial
 * objective adding one class after the other gets the same bits as one sum over all weights.
 */
export function addPenalisedGradient(
  matrix: EncodedMatrix,
  residuals: Float64Array,
  residualSum: number,
  weights: ArrayLike<number>,
  l2: number,
  gradient: Float64Array,
  squaredNorm = 0,
): number {
  const { width } = matrix;
  addTransposedProduct(matrix, residuals, gradient);
  for (let j = 0; j < width; j++) {
    squaredNorm += weights[j] * weights[j];
    gradient[j] += l2 * weights[j];
  }
  gradient[width] = residualSum;
  return squaredNorm;
}
