import { describe, expect, it } from 'vitest';
import { fitGbdt } from '../../src/ml/gbdt';
import { toGbdtTable } from '../../src/ml/gbdt/train';
import type { Row } from '../../src/ml/row';
import { trainLinearModel } from '../../src/ml/train';
import {
  classesOf,
  contractOf,
  exportOnnx,
  learningCurveOf,
  predictOutputs,
  predictProbability,
  taskOf,
  withThreshold,
  type TrainedModel,
} from '../../src/ml/trained-model';
import { modelContractSchema } from '../../src/shared/model-contract';
import { runOnnx } from './support/linear-models';
import { flightFeatures, syntheticFlights } from './support/synthetic';

/** Flights with a text class (delay bucket) and a numeric target (minutes) derived from the binary label. */
const rows: Row[] = syntheticFlights(2_000, 31).map((row, i) => ({
  ...row,
  bucket: row.delayed ? (i % 3 === 0 ? 'late' : 'very late') : 'on time',
  minutes: row.delayed ? 20 + (i % 40) : -(i % 7),
}));
const features = [...flightFeatures];
const linearParams = { l2: 1e-3, maxIterations: 50, tolerance: 1e-6 };

const models: Record<string, TrainedModel> = {
  logistic: trainLinearModel({ features, target: 'delayed', params: linearParams, train: rows }),
  multinomial: trainLinearModel({ task: 'multiclass', features, target: 'bucket', params: linearParams, train: rows }),
  linear: trainLinearModel({ task: 'regression', features, target: 'minutes', params: linearParams, train: rows }),
  gbdtBinary: fitGbdt(toGbdtTable({ features, target: 'delayed', params: { objective: 'binary', numTrees: 4 }, train: rows })),
  gbdtMulticlass: fitGbdt(toGbdtTable({ features, target: 'bucket', params: { objective: 'multiclass', numTrees: 4 }, train: rows })),
  // Numeric strings are numbers for a regression target.
  gbdtRegression: fitGbdt(
    toGbdtTable({
      features,
      target: 'minutes',
      params: { objective: 'regression', numTrees: 4 },
      train: rows.map((row) => ({ ...row, minutes: String(row.minutes) })),
    }),
  ),
};

describe('trained models of every kind and task', () => {
  it('know their task and classes, and give contracts the shared schema accepts', () => {
    const tasks = Object.fromEntries(Object.entries(models).map(([name, model]) => [name, taskOf(model)]));
    expect(tasks).toEqual({
      logistic: 'binary',
      multinomial: 'multiclass',
      linear: 'regression',
      gbdtBinary: 'binary',
      gbdtMulticlass: 'multiclass',
      gbdtRegression: 'regression',
    });
    for (const [name, model] of Object.entries(models)) {
      const contract = contractOf(model);
      expect(modelContractSchema.parse(contract), name).toEqual(contract);
      expect(contract.task).toBe(taskOf(model));
      expect(contract.classes).toEqual(classesOf(model));
    }
    expect(classesOf(models.gbdtMulticlass)).toEqual(['late', 'on time', 'very late']);
    expect(classesOf(models.multinomial)).toEqual(['late', 'on time', 'very late']);
  });

  it('predict one value per row, or K for multiclass, equal to their ONNX outputs', async () => {
    const scoring = syntheticFlights(200, 32);
    for (const [name, model] of Object.entries(models)) {
      const contract = contractOf(model);
      const width = contract.outputs[0].shape[1];
      const expected = predictOutputs(model, scoring);
      expect(expected.length, name).toBe(scoring.length * width);
      const outputs = await runOnnx(exportOnnx(model), contract.inputs, scoring);
      const onnx = outputs[contract.outputs[0].name].data as Float32Array;
      let worst = 0;
      expected.forEach((value, i) => (worst = Math.max(worst, Math.abs(onnx[i] - value) / Math.max(1, Math.abs(value)))));
      expect(worst, name).toBeLessThan(1e-5);
    }
  });

  it('keep the binary-only helpers binary', () => {
    expect(predictProbability(models.logistic, rows.slice(0, 3))).toHaveLength(3);
    expect(() => predictProbability(models.linear, rows)).toThrow(
      'predictProbability needs a binary model, got a regression linear-regression model',
    );
    expect(withThreshold(models.gbdtBinary, 0.3)).toMatchObject({ threshold: 0.3 });
    expect(() => withThreshold(models.multinomial, 0.3)).toThrow('only a binary model has a decision threshold, got a multiclass model');
    // Trained without validation rows: a train curve only, in GBDT's metrics.
    expect(learningCurveOf(models.linear)).toMatchObject({ metric: 'rmse', validation: null });
    expect(learningCurveOf(models.logistic).metric).toBe('logloss');
    expect(learningCurveOf(models.multinomial)).toMatchObject({
      metric: 'multi_logloss',
      train: (models.multinomial as { training: { trainCurve: number[] } }).training.trainCurve,
    });
  });
});
