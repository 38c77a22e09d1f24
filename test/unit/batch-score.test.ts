import { describe, expect, it } from 'vitest';
import { scoreOnnxInWorkerThread } from '../../src/ml/batch-score';
import { predictProba } from '../../src/ml/model';
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
    const scores = await scoreOnnxInWorkerThread(exportLogisticOnnx(model), rows);
    const expected = predictProba(model, rows);
    expect(scores).toBeInstanceOf(Float64Array);
    expect(scores).toHaveLength(rows.length);
    let deviation = 0;
    for (let i = 0; i < rows.length; i++) deviation = Math.max(deviation, Math.abs(scores[i] - expected[i]));
    expect(deviation).toBeLessThan(1e-5);
  });

  it('rejects bytes that are not a model', async () => {
    await expect(scoreOnnxInWorkerThread(new Uint8Array([1, 2, 3]), [])).rejects.toThrow(/not an ONNX model/);
  });
});
