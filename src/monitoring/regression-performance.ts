import type { PerformanceConfig } from '../shared/monitoring';
import { boundFigure, judgeConcept, type Bound } from './concept-bounds';
import type { LivePerformance, RegressionLiveMetrics, VersionPerformance } from './live-performance-types';
import { labelCoverage, rollingBuckets, rowsByVersion } from './live-rows';

/**
 * Live performance of a regression model: its logged `prediction` against the observed value
 * that arrived as feedback (`{"prediction_id", "value"}`), per version, compared with the
 * version's test-split RMSE (or MAE).
 *
 * Concept drift when the live error is above a ceiling by more than `confidenceZ` standard
 * errors. The ceilings: the test-split value × (1 + maxIncrease) — relative, because errors are
 * in the target's units — and `maxValue` when configured. Standard errors: for MAE, that of a
 * mean, sd(|e|)/√n; for RMSE, the delta method on the mean squared error,
 * se(RMSE) ≈ sd(e²) / (√n · 2·RMSE). Both rest on the central limit theorem over the window's
 * errors; with heavy-tailed errors (a few huge misses) they are optimistic for small n, which
 * `minLabelled` (default 200) guards against.
 *
 * Label drift is not judged for regression (status `off`): the shift of the observed values'
 * distribution shows as data drift of the inputs and prediction drift of the outputs.
 */
export interface LoggedRegression {
  version: number;
  at: number;
  prediction: number;
  /** The observed value, or null when none arrived yet. */
  actual: number | null;
}

/** What a version is compared with: its registered test-split metrics. */
export interface RegressionReference {
  rmse: number;
  mae: number;
  n: number;
}

export function regressionPerformance(
  rows: readonly LoggedRegression[],
  options: {
    config: PerformanceConfig;
    metric: 'rmse' | 'mae';
    window: { start: string; end: string };
    references: ReadonlyMap<number, RegressionReference>;
  },
): LivePerformance {
  const { config, metric, window, references } = options;
  const versions = rowsByVersion(rows).map(([version, all]): VersionPerformance => {
    const labelled = all.filter((r) => r.actual !== null && Number.isFinite(r.actual) && Number.isFinite(r.prediction));
    const measured = labelled.length ? regressionMetrics(labelled) : null;
    const value = measured ? measured.metrics[metric] : null;
    const standardError = measured ? measured.standardErrors[metric] : null;
    const reference = references.get(version);
    const referenceValue = reference && Number.isFinite(reference[metric]) ? reference[metric] : null;
    const bounds: Bound[] = [];
    if (config.maxValue !== undefined) bounds.push({ value: config.maxValue, why: `the maximum ${config.maxValue}` });
    if (referenceValue !== null) {
      bounds.push({
        value: referenceValue * (1 + config.maxIncrease),
        why: `its test-split ${metric} ${boundFigure(referenceValue)} × ${1 + config.maxIncrease}`,
      });
    }
    return {
      ...labelCoverage(version, all.length, labelled.length),
      metrics: measured?.metrics ?? null,
      metric: { name: metric, value, standardError, reference: referenceValue },
      concept: judgeConcept({
        metric,
        direction: 'lower',
        value,
        standardError,
        labelled: labelled.length,
        minLabelled: config.minLabelled,
        bounds,
        z: config.confidenceZ,
      }),
      labelShift: { status: 'off', rate: null, referenceRate: null, change: null, pValue: null },
      rolling: config.bucketMinutes
        ? rollingBuckets(
            all,
            window,
            config.bucketMinutes * 60_000,
            (r) => r.actual !== null && Number.isFinite(r.actual),
            (labelled) => regressionMetrics(labelled).metrics[metric],
          )
        : [],
    };
  });
  return { task: 'regression', metric, window, minLabelled: config.minLabelled, versions };
}

/** RMSE and MAE of labelled predictions, with their standard errors (see the module comment). */
export function regressionMetrics(rows: readonly LoggedRegression[]): {
  metrics: RegressionLiveMetrics;
  standardErrors: { rmse: number; mae: number };
} {
  const n = rows.length;
  let squared = 0;
  let absolute = 0;
  let actual = 0;
  let predicted = 0;
  for (const row of rows) {
    const error = row.prediction - row.actual!;
    squared += error * error;
    absolute += Math.abs(error);
    actual += row.actual!;
    predicted += row.prediction;
  }
  const mse = squared / n;
  const mae = absolute / n;
  // Second pass: the spread of the squared and absolute errors around their means.
  let squaredSpread = 0;
  let absoluteSpread = 0;
  for (const row of rows) {
    const error = row.prediction - row.actual!;
    squaredSpread += (error * error - mse) ** 2;
    absoluteSpread += (Math.abs(error) - mae) ** 2;
  }
  const rmse = Math.sqrt(mse);
  const denominator = Math.max(1, n - 1);
  const seMse = Math.sqrt(squaredSpread / denominator / n);
  return {
    metrics: { n, rmse, mae, meanActual: actual / n, meanPrediction: predicted / n },
    standardErrors: { rmse: rmse > 0 ? seMse / (2 * rmse) : 0, mae: Math.sqrt(absoluteSpread / denominator / n) },
  };
}
