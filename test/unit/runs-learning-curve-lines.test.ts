import { describe, expect, it } from 'vitest';
import { learningCurveLines } from '../../src/cli/runs-command';
import { trainLinearModel } from '../../src/ml/train';
import { learningCurveOf, readLearningCurve } from '../../src/ml/trained-model';
import { flightFeatures, syntheticFlights } from './support/synthetic';

const rows = syntheticFlights(1_500, 43);

describe('keel runs show: learning curve lines', () => {
  it('draws a train and a validation sparkline for a linear run, with both values per sampled iteration', () => {
    const model = trainLinearModel({
      features: [...flightFeatures],
      target: 'delayed',
      params: { l2: 1e-3, maxIterations: 25, tolerance: 1e-10 },
      train: rows.slice(0, 1_200),
      validation: rows.slice(1_200),
    });
    // As `keel runs show` reads it: stored as JSON with the training run, read back.
    const curve = readLearningCurve(JSON.parse(JSON.stringify(learningCurveOf(model))));
    const { trainCurve, validationCurve } = model.training;
    const lines = learningCurveLines(curve);
    expect(lines[0]).toBe('curve      logloss over 25 iterations');
    expect(lines[1]).toMatch(/^ {2}train {6}[▁▂▃▄▅▆▇█]{25}$/);
    expect(lines[2]).toMatch(/^ {2}validation [▁▂▃▄▅▆▇█]{25}$/);
    // One bar per iteration (25 ≤ 60): each curve's highest value is the full bar, its lowest the empty one.
    const bars = (line: string) => [...line.slice(13)];
    for (const [line, values] of [
      [lines[1], trainCurve],
      [lines[2], validationCurve!],
    ] as const) {
      expect(bars(line)[values.indexOf(Math.max(...values))]).toBe('█');
      expect(bars(line)[values.indexOf(Math.min(...values))]).toBe('▁');
    }
    expect(lines[3]).toBe('   iter  train     validation');
    // Every third iteration (25 points, about ten shown) and the last one.
    const shown = [1, 4, 7, 10, 13, 16, 19, 22, 25];
    expect(lines.slice(4)).toEqual(
      shown.map((n) => `  ${String(n).padStart(5)}  ${trainCurve[n - 1].toFixed(6)}  ${validationCurve![n - 1].toFixed(6)}`),
    );
  });

  it('draws the train sparkline alone for a run without validation rows', () => {
    const train = rows.map((row, i) => ({ ...row, minutes: row.delayed ? 20 + (i % 40) : -(i % 7) }));
    const model = trainLinearModel({
      task: 'regression',
      features: [...flightFeatures],
      target: 'minutes',
      params: { l2: 0, maxIterations: 5, tolerance: 1e-10 },
      train,
    });
    const lines = learningCurveLines(learningCurveOf(model));
    expect(lines[0]).toBe('curve      rmse over 5 iterations');
    expect(lines.some((line) => line.startsWith('  validation'))).toBe(false);
    expect(lines[2]).toBe('   iter  train');
  });
});
