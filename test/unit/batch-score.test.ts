import { describe, expect, it } from 'vitest';
import { scoreOnnxInWorkerThread } from '../../src/ml/batch-score';
import { predictGbdt } from '../../src/ml/gbdt/model';
import { toGbdtTable, trainGbdt } from '../../src/ml/gbdt/train';
import { predictProba } from '../../src/ml/model';
import { exportGbdtOnnx } from '../../src/ml/onnx/export-gbdt';
import { exportLogisticOnnx } from '../../src/ml/onnx/export-logistic';
import { trainLogisticModel } from '../../src/ml/train';
import { flightFeatures, syntheticFlights } from './support/synthetic';

describe('scoreOnnxInWorkerThread', () => {
  it('scores every row with the exported model, in several chunks, as predictProba does', async () => {
    const model = trainLogisticModel({
      features: [...flightFeatures],
      target: 'delayed',
      params: { l2: 1e-3, maxIterations: 50, tolerance: 1e-6, maxCategories: 10 },
      train: syntheticFlights(3_000, 31),
    });
    // More rows than one session.run chunk (16,384), so chunk boundaries are exercised.
    const rows = syntheticFlights(40_000, 32);
    const { task, width, values: scores } = await scoreOnnxInWorkerThread(exportLogisticOnnx(model), rows);
    const expected = predictProba(model, rows);
    expect({ task, width }).toEqual({ task: 'binary', width: 1 });
    expect(scores).toBeInstanceOf(Float64Array);
    expect(scores).toHaveLength(rows.length);
    let deviation = 0;
    for (let i = 0; i < rows.length; i++) deviation = Math.max(deviation, Math.abs(scores[i] - expected[i]));
    expect(deviation).toBeLessThan(1e-5);
  });

  it('reads the output of a regression and of a multiclass model, K values per row for multiclass', async () => {
    const train = syntheticFlights(2_000, 33).map((row, i) => ({ ...row, minutes: Number(row.distance) / 10 + (i % 7), bucket: i % 3 }));
    const rows = syntheticFlights(20_000, 34);
    for (const [objective, target, width] of [
      ['regression', 'minutes', 1],
      ['multiclass', 'bucket', 3],
    ] as const) {
      const model = await trainGbdt(
        toGbdtTable({ features: [...flightFeatures], target, params: { objective, numTrees: 5, maxLeaves: 8 }, train }),
      );
      const scores = await scoreOnnxInWorkerThread(exportGbdtOnnx(model), rows);
      expect(scores.task).toBe(objective);
      expect(scores.width).toBe(width);
      const expected = predictGbdt(model, rows);
      expect(scores.values).toHaveLength(expected.length);
      let deviation = 0;
      for (let i = 0; i < expected.length; i++)
        deviation = Math.max(deviation, Math.abs(scores.values[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
      expect(deviation).toBeLessThan(1e-5);
    }
  });

  it('rejects bytes that are not a model', async () => {
    await expect(scoreOnnxInWorkerThread(new Uint8Array([1, 2, 3]), [])).rejects.toThrow(/not an ONNX model/);
  });
});
