import { describe, expect, it } from 'vitest';
import { binaryCurves, MAX_CURVE_POINTS, MAX_RESIDUAL_POINTS, regressionCurves, thin } from '../../src/ml/evaluation-curves';
import { binaryClassificationMetrics } from '../../src/ml/metrics';
import { mulberry32 } from '../../src/shared/prng';

/** Labels drawn so that a higher score means a higher chance of 1: a model with some skill. */
function scored(n: number, seed = 7) {
  const random = mulberry32(seed);
  const proba = Float64Array.from({ length: n }, () => random());
  const labels = Float64Array.from(proba, (p) => (random() < p ? 1 : 0));
  return { labels, proba };
}

function trapezoid(points: { x: number; y: number }[]): number {
  let area = 0;
  for (let i = 1; i < points.length; i++) area += ((points[i].x - points[i - 1].x) * (points[i].y + points[i - 1].y)) / 2;
  return area;
}

describe('binaryCurves', () => {
  it('runs from (0,0) to (1,1), thinned, with an area close to the ROC AUC', () => {
    const { labels, proba } = scored(20_000);
    const curves = binaryCurves(labels, proba, 0.5);
    const metrics = binaryClassificationMetrics(labels, proba, 0.5);
    expect(curves.roc.length).toBe(MAX_CURVE_POINTS);
    expect(curves.roc[0]).toMatchObject({ fpr: 0, tpr: 0 });
    expect(curves.roc.at(-1)).toMatchObject({ fpr: 1, tpr: 1 });
    const auc = trapezoid(curves.roc.map((p) => ({ x: p.fpr, y: p.tpr })));
    expect(auc).toBeCloseTo(metrics.rocAuc, 2);
    // Thresholds fall along the curve as more rows are called positive.
    for (let i = 1; i < curves.roc.length; i++) expect(curves.roc[i].threshold).toBeLessThanOrEqual(curves.roc[i - 1].threshold);
  });

  it('puts the operating point where the metrics put the threshold', () => {
    const { labels, proba } = scored(5_000, 11);
    const curves = binaryCurves(labels, proba, 0.3);
    const metrics = binaryClassificationMetrics(labels, proba, 0.3);
    expect(curves.operatingPoint.threshold).toBe(0.3);
    expect(curves.operatingPoint.recall).toBeCloseTo(metrics.recall, 12);
    expect(curves.operatingPoint.precision).toBeCloseTo(metrics.precision, 12);
    const { fp, tn } = metrics.confusionMatrix;
    expect(curves.operatingPoint.fpr).toBeCloseTo(fp / (fp + tn), 12);
  });

  it('bins calibration by predicted probability; counts add up to the rows', () => {
    const { labels, proba } = scored(10_000, 3);
    const { calibration } = binaryCurves(labels, proba, 0.5);
    expect(calibration.reduce((sum, b) => sum + b.count, 0)).toBe(10_000);
    // Labels were drawn with probability p: each bin's observed share is near its mean prediction.
    for (const bin of calibration) expect(Math.abs(bin.observed - bin.meanPredicted)).toBeLessThan(0.06);
  });

  it('keeps every point of a short curve, one per distinct score', () => {
    const curves = binaryCurves([1, 0, 1, 0], [0.9, 0.8, 0.8, 0.1], 0.5);
    expect(curves.roc.map((p) => [p.fpr, p.tpr])).toEqual([
      [0, 0],
      [0, 0.5],
      [0.5, 1],
      [1, 1],
    ]);
    expect(curves.pr[1]).toMatchObject({ recall: 0.5, precision: 1 });
  });
});

describe('regressionCurves', () => {
  it('samples residuals evenly, actual − prediction', () => {
    const actual = Float64Array.from({ length: 2_000 }, (_, i) => i);
    const predicted = Float64Array.from(actual, (v) => v * 0.9);
    const { residuals } = regressionCurves(actual, predicted);
    expect(residuals).toHaveLength(MAX_RESIDUAL_POINTS);
    expect(residuals[0]).toEqual({ prediction: 0, actual: 0, residual: 0 });
    expect(residuals.at(-1)!.residual).toBeCloseTo(1999 * 0.1, 9);
  });
});

describe('thin', () => {
  it('keeps both ends', () => {
    expect(thin([1, 2, 3, 4, 5], 3)).toEqual([1, 3, 5]);
    expect(thin([1, 2], 5)).toEqual([1, 2]);
  });
});
