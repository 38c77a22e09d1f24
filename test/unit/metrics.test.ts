import { describe, expect, it } from 'vitest';
import { binaryClassificationMetrics } from '../../src/ml/metrics';

describe('binaryClassificationMetrics', () => {
  it('computes the confusion matrix and the threshold metrics of a small case', () => {
    // Predicted positive (> 0.5): rows 1, 3, 4. tp = rows 3, 4; fp = row 1; fn = row 2; tn = row 0.
    const m = binaryClassificationMetrics([0, 0, 1, 1, 1], [0.2, 0.7, 0.4, 0.9, 0.6]);
    expect(m.confusionMatrix).toEqual({ tp: 2, fp: 1, tn: 1, fn: 1 });
    expect(m.n).toBe(5);
    expect(m.positives).toBe(3);
    expect(m.accuracy).toBeCloseTo(3 / 5, 12);
    expect(m.precision).toBeCloseTo(2 / 3, 12);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    expect(m.f1).toBeCloseTo(2 / 3, 12);
    // Positive/negative pairs ranked correctly: (0.4 > 0.2), (0.9 > both), (0.6 > 0.2): 4 of 6.
    expect(m.rocAuc).toBeCloseTo(4 / 6, 12);
    const expectedLogLoss = -(Math.log(0.8) + Math.log(0.3) + Math.log(0.4) + Math.log(0.9) + Math.log(0.6)) / 5;
    expect(m.logLoss).toBeCloseTo(expectedLogLoss, 12);
  });

  it('counts a probability equal to the threshold as negative, like the ONNX label', () => {
    expect(binaryClassificationMetrics([1, 0], [0.5, 0.2]).confusionMatrix).toEqual({ tp: 0, fp: 0, tn: 1, fn: 1 });
    expect(binaryClassificationMetrics([1, 0], [0.5, 0.2], 0.3).confusionMatrix).toEqual({ tp: 1, fp: 0, tn: 1, fn: 0 });
  });

  it('computes ROC AUC from ranks', () => {
    expect(binaryClassificationMetrics([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]).rocAuc).toBeCloseTo(0.75, 12);
    expect(binaryClassificationMetrics([0, 1], [0.2, 0.9]).rocAuc).toBe(1);
    expect(binaryClassificationMetrics([1, 0], [0.2, 0.9]).rocAuc).toBe(0);
  });

  it('counts tied scores as half a correct ranking', () => {
    expect(binaryClassificationMetrics([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.3]).rocAuc).toBe(0.5);
    // Pairs: (p=0.5 vs n=0.5) tie → ½, (p=0.5 vs n=0.1) → 1, (p=0.9 vs both) → 2: 3.5 of 4.
    expect(binaryClassificationMetrics([0, 1, 0, 1], [0.5, 0.5, 0.1, 0.9]).rocAuc).toBeCloseTo(3.5 / 4, 12);
  });

  it('reports precision 0 when nothing is predicted positive, and AUC NaN with one class', () => {
    const noPredictedPositives = binaryClassificationMetrics([1, 0, 1], [0.1, 0.2, 0.3]);
    expect(noPredictedPositives.precision).toBe(0);
    expect(noPredictedPositives.recall).toBe(0);
    expect(noPredictedPositives.f1).toBe(0);
    expect(binaryClassificationMetrics([1, 1], [0.6, 0.7]).rocAuc).toBeNaN();
  });

  it('clips probabilities in the log-loss so certainty that is wrong stays finite', () => {
    const { logLoss } = binaryClassificationMetrics([1, 0], [0, 1]);
    // 1 - (1 - 1e-15) is not exactly 1e-15 in float64; the clip is applied as written.
    expect(logLoss).toBeCloseTo(-(Math.log(1e-15) + Math.log(1 - (1 - 1e-15))) / 2, 9);
    expect(logLoss).toBeCloseTo(34.54, 2);
  });

  it('rejects invalid input', () => {
    expect(() => binaryClassificationMetrics([], [])).toThrow(/zero predictions/);
    expect(() => binaryClassificationMetrics([0, 1], [0.5])).toThrow(/1 probabilities for 2 labels/);
    expect(() => binaryClassificationMetrics([0, 2], [0.5, 0.5])).toThrow(/label 1 must be 0 or 1/);
    expect(() => binaryClassificationMetrics([0, 1], [0.5, Number.NaN])).toThrow(/probability 1 must lie in \[0, 1\]/);
  });
});
