import type { RegressionMetrics } from '../shared/model-metrics';

/**
 * Metrics of a regression model's predictions, as scikit-learn defines them:
 * RMSE = √(mean (y - ŷ)²) (root_mean_squared_error), MAE = mean |y - ŷ| (mean_absolute_error),
 * R² = 1 - Σ(y - ŷ)² / Σ(y - ȳ)² (r2_score). Where sklearn's r2_score returns 0 or 1 for constant
 * labels (force_finite), R² here is NaN: there is no variance to explain, and a number would mislead a gate.
 */
export function regressionMetrics(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): RegressionMetrics {
  const n = yTrue.length;
  if (yPred.length !== n) throw new Error(`got ${yPred.length} predictions for ${n} labels`);
  if (n === 0) throw new Error('cannot compute metrics of zero predictions');
  let labelSum = 0;
  let predictionSum = 0;
  let squaredErrorSum = 0;
  let absoluteErrorSum = 0;
  for (let i = 0; i < n; i++) {
    const y = yTrue[i];
    const prediction = yPred[i];
    if (!Number.isFinite(y)) throw new Error(`label ${i} must be a finite number, got ${y}`);
    if (!Number.isFinite(prediction)) throw new Error(`prediction ${i} must be a finite number, got ${prediction}`);
    const error = y - prediction;
    labelSum += y;
    predictionSum += prediction;
    squaredErrorSum += error * error;
    absoluteErrorSum += Math.abs(error);
  }
  const meanLabel = labelSum / n;
  let totalSquares = 0;
  for (let i = 0; i < n; i++) totalSquares += (yTrue[i] - meanLabel) ** 2;
  return {
    task: 'regression',
    n,
    rmse: Math.sqrt(squaredErrorSum / n),
    mae: absoluteErrorSum / n,
    r2: totalSquares > 0 ? 1 - squaredErrorSum / totalSquares : Number.NaN,
    meanLabel,
    meanPrediction: predictionSum / n,
  };
}
