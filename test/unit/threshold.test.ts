import { describe, expect, it } from 'vitest';
import { binaryClassificationMetrics } from '../../src/ml/metrics';
import { f1OptimalThreshold } from '../../src/ml/threshold';

describe('F1-optimal decision threshold', () => {
  it('separates perfectly separable scores', () => {
    const labels = [0, 0, 0, 1, 1];
    const proba = [0.1, 0.2, 0.3, 0.35, 0.4];
    const threshold = f1OptimalThreshold(labels, proba);
    expect(threshold).toBeGreaterThan(0.3);
    expect(threshold).toBeLessThan(0.35);
    expect(binaryClassificationMetrics(labels, proba, threshold).f1).toBe(1);
  });

  it('beats 0.5 on a minority class whose scores stay below 0.5', () => {
    const labels = [0, 0, 0, 0, 0, 0, 0, 1, 1, 0];
    const proba = [0.05, 0.1, 0.12, 0.15, 0.18, 0.2, 0.22, 0.3, 0.32, 0.31];
    const threshold = f1OptimalThreshold(labels, proba);
    expect(binaryClassificationMetrics(labels, proba, 0.5).f1).toBe(0);
    expect(binaryClassificationMetrics(labels, proba, threshold).f1).toBeCloseTo(0.8, 10);
  });

  it('never splits tied scores and is float32-exact', () => {
    const labels = [1, 0, 1, 0];
    const proba = [0.6, 0.6, 0.2, 0.2];
    const threshold = f1OptimalThreshold(labels, proba);
    expect(Math.fround(threshold)).toBe(threshold);
    // Tied rows always get the same label; here labelling all four positive gives the best F1.
    expect(proba.map((p) => p > threshold)).toEqual([true, true, true, true]);
  });

  it('keeps 0.5 when the held-out rows have no positive', () => {
    expect(f1OptimalThreshold([0, 0], [0.2, 0.7])).toBe(0.5);
  });
});
