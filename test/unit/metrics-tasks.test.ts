import { describe, expect, it } from 'vitest';
import { regressionMetrics } from '../../src/ml/metrics-regression';
import { multiclassMetrics } from '../../src/ml/metrics-multiclass';

describe('regressionMetrics', () => {
  it('computes RMSE, MAE, R² and the means of a small case', () => {
    const m = regressionMetrics([1, 2, 3, 4], [1.5, 2, 2, 5]);
    expect(m).toMatchObject({ task: 'regression', n: 4, meanLabel: 2.5, meanPrediction: 2.625 });
    expect(m.rmse).toBeCloseTo(Math.sqrt((0.25 + 0 + 1 + 1) / 4), 14);
    expect(m.mae).toBeCloseTo((0.5 + 0 + 1 + 1) / 4, 14);
    expect(m.r2).toBeCloseTo(1 - 2.25 / 5, 14);
  });

  it('gives NaN R² for constant labels, and rejects bad input', () => {
    expect(regressionMetrics([2, 2], [1, 3]).r2).toBeNaN();
    expect(() => regressionMetrics([1], [1, 2])).toThrow('got 2 predictions for 1 labels');
    expect(() => regressionMetrics([], [])).toThrow(/zero predictions/);
    expect(() => regressionMetrics([1, Number.NaN], [1, 2])).toThrow('label 1 must be a finite number, got NaN');
  });
});

describe('multiclassMetrics', () => {
  const classes = ['a', 'b', 'c'];

  it('predicts the most probable class, the lowest index on ties, and fills every field', () => {
    // Row 2 ties a and b: predicted a (index 0), like numpy's argmax.
    const codes = [0, 1, 1, 2];
    const proba = [0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.4, 0.4, 0.2, 0.3, 0.3, 0.4];
    const m = multiclassMetrics(codes, proba, classes);
    expect(m.confusionMatrix).toEqual([
      [1, 0, 0],
      [1, 1, 0],
      [0, 0, 1],
    ]);
    expect(m).toMatchObject({ task: 'multiclass', n: 4, classes, accuracy: 0.75 });
    expect(m.perClass[0]).toEqual({ class: 'a', support: 1, precision: 0.5, recall: 1, f1: 2 / 3 });
    expect(m.perClass[1]).toEqual({ class: 'b', support: 2, precision: 1, recall: 0.5, f1: 2 / 3 });
    expect(m.precisionMacro).toBeCloseTo(2.5 / 3, 14);
    expect(m.recallWeighted).toBeCloseTo((1 + 1 + 1) / 4, 14);
    expect(m.logLoss).toBeCloseTo(-(Math.log(0.7) + Math.log(0.8) + Math.log(0.4) + Math.log(0.4)) / 4, 14);
    expect(m.rocAucOvr).toBeGreaterThan(0.5);
  });

  it('leaves a class out of the macro averages when it is neither in the labels nor predicted (sklearn default labels)', () => {
    const m = multiclassMetrics([0, 1], [0.9, 0.1, 0, 0.1, 0.9, 0], classes);
    expect(m.f1Macro).toBe(1);
    expect(m.perClass[2]).toEqual({ class: 'c', support: 0, precision: 0, recall: 0, f1: 0 });
    // Its one-vs-rest AUC has no positives: averaged over a and b only.
    expect(m.rocAucOvr).toBe(1);
  });

  it('rejects bad input naming the row', () => {
    expect(() => multiclassMetrics([0, 1], [1, 0, 0, 1, 0], classes)).toThrow('got 5 probabilities for 2 rows of 3 classes');
    expect(() => multiclassMetrics([0], [1, 0], ['a'])).toThrow('need at least 2 classes, got 1');
    expect(() => multiclassMetrics([0, 5], [1, 0, 0, 0, 1, 0], classes)).toThrow('label 1 must be a class index in 0..2, got 5');
    expect(() => multiclassMetrics([0], [1, 0, Number.NaN], classes)).toThrow(
      'probability of class "c" in row 0 must lie in [0, 1], got NaN',
    );
  });
});
