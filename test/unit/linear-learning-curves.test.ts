import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Row } from '../../src/ml/row';
import { metricsOfScores } from '../../src/ml/task-evaluation';
import { trainInWorkerThread, trainLinearModel, type LinearTrainingRequest } from '../../src/ml/train';
import { trainForTask } from '../../src/ml/train-for-task';
import {
  classesOf,
  exportOnnx,
  learningCurveOf,
  predictOutputs,
  readLearningCurve,
  taskOf,
  type TrainedModel,
} from '../../src/ml/trained-model';
import type { ModelTask } from '../../src/shared/model-contract';
import { flightFeatures, syntheticFlights } from './support/synthetic';

/** Flights with a text class (delay bucket) and a numeric target (minutes) beside the binary label. */
const rows: Row[] = syntheticFlights(3_000, 41).map((row, i) => ({
  ...row,
  bucket: row.delayed ? (i % 3 === 0 ? 'late' : 'very late') : 'on time',
  minutes: row.delayed ? 20 + (i % 40) : -(i % 7),
}));
const train = rows.slice(0, 2_400);
const validation = rows.slice(2_400);
const features = [...flightFeatures];
const params = { l2: 1e-3, maxIterations: 40, tolerance: 1e-8 };

const tasks: { task: ModelTask; target: string; metric: string }[] = [
  { task: 'binary', target: 'delayed', metric: 'logloss' },
  { task: 'multiclass', target: 'bucket', metric: 'multi_logloss' },
  { task: 'regression', target: 'minutes', metric: 'rmse' },
];
const requestOf = (task: ModelTask, target: string): LinearTrainingRequest => ({ task, features, target, params, train, validation });
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The metric GBDT's curves use, from the model's own predictions (the metrics module, as the training activity scores validation). */
function metricOfPredictions(model: TrainedModel, on: readonly Row[]): number {
  const metrics = metricsOfScores(
    { task: taskOf(model), classes: classesOf(model) },
    on.map((row) => row[model.target]),
    predictOutputs(model, on),
  ) as { logLoss?: number; rmse?: number };
  return (taskOf(model) === 'regression' ? metrics.rmse : metrics.logLoss)!;
}

describe.each(tasks)('learning curves of a linear $task model', ({ task, target, metric }) => {
  const model = trainLinearModel(requestOf(task, target));

  it(`records ${metric} on the train and validation rows, one point per iteration`, () => {
    const { training } = model;
    expect(training.iterations).toBe(params.maxIterations);
    expect(training.metric).toBe(metric);
    expect(training.trainCurve).toHaveLength(training.iterations);
    expect(training.validationCurve).toHaveLength(training.iterations);
    expect(training.lossHistory).toHaveLength(training.iterations);
    expect(learningCurveOf(model)).toEqual({ metric, train: training.trainCurve, validation: training.validationCurve });
    // The model JSON (what the registry stores and compares by sha256) holds only JSON numbers.
    expect(JSON.parse(JSON.stringify(model))).toEqual(model);
  });

  it('measures the validation curve on the validation rows: its last point is the final model’s metric there', () => {
    const last = (curve: number[] | null) => curve![curve!.length - 1];
    expect(last(model.training.validationCurve)).toBeCloseTo(metricOfPredictions(model, validation), 10);
    expect(last(model.training.trainCurve)).toBeCloseTo(metricOfPredictions(model, train), 10);
    // The two differ: distinct rows, not one curve recorded twice.
    expect(Math.abs(last(model.training.validationCurve) - last(model.training.trainCurve))).toBeGreaterThan(1e-4);
  });

  it('leaves the L2 penalty out of the train curve (the objective history keeps it)', () => {
    const { trainCurve, lossHistory } = model.training;
    // Objective = mean loss + penalty: logloss below it; regression, rmse² below it.
    const loss = (value: number) => (metric === 'rmse' ? value ** 2 : value);
    trainCurve.forEach((value, i) => expect(loss(value)).toBeLessThan(lossHistory[i]));
    expect(trainCurve[trainCurve.length - 1]).toBeLessThan(trainCurve[0]);
  });

  it('fits the same weights with or without validation rows (they are only observed)', () => {
    const without = trainLinearModel({ ...requestOf(task, target), validation: undefined });
    const empty = trainLinearModel({ ...requestOf(task, target), validation: [] });
    expect(without.training.validationCurve).toBeNull();
    expect(empty.training.validationCurve).toBeNull();
    const { training: _with, ...withRest } = model;
    const { training: withoutTraining, ...withoutRest } = without;
    expect(withoutRest).toEqual(withRest);
    expect(withoutTraining).toEqual({ ...model.training, validationCurve: null });
    expect(sha256(exportOnnx(without))).toBe(sha256(exportOnnx(model)));
  });

  it('trains in a worker thread exactly what it trains in-thread, curves included', async () => {
    const progress: number[] = [];
    const inWorker = await trainInWorkerThread(requestOf(task, target), (_, loss) => progress.push(loss));
    expect(inWorker).toEqual(model);
    expect(progress).toEqual(model.training.lossHistory);
  });
});

describe('trainForTask with validation rows', () => {
  /**
   * sha256 of these exports recorded with the code before linear models had validation curves
   * (commit 3e27363, trainForTask passing no validation rows to the linear trainer): the
   * validation rows change nothing in the ONNX bytes. A deliberate change to training or export
   * that alters the bytes must re-record them.
   */
  const before: Record<ModelTask, string> = {
    binary: 'f1419c43936d2aa07c08e1e13c5fb9fc1950b4aaded95fac7d03ad220523766c',
    multiclass: 'ebc695792e310702684b0bf7f79846d7478f4b8602fb1c5f449fff3058974669',
    regression: 'f8694125478b5d7793d48a8fe1f4934c2ef5d0ca650dc312d80359c1e2121923',
  };

  it.each(tasks)('exports the $task model byte for byte as before validation curves existed', async ({ task, target, metric }) => {
    const kind = task === 'regression' ? ('linear-regression' as const) : ('logistic-regression' as const);
    const model = await trainForTask({ task, features, target, trainer: { kind, ...params, maxCategories: 100 }, train, validation });
    expect(learningCurveOf(model)).toMatchObject({ metric, validation: expect.any(Array) });
    expect(sha256(exportOnnx(model))).toBe(before[task]);
  });
});

describe('validation targets', () => {
  it('name the column, the row and the value when one is unusable', async () => {
    const withNull = validation.map((row, i) => (i === 3 ? { ...row, delayed: null } : row));
    expect(() => trainLinearModel({ ...requestOf('binary', 'delayed'), validation: withNull })).toThrow(
      'target "delayed" (validation) must be 0 or 1, but split row 4 has null',
    );
    const text = validation.map((row, i) => (i === 5 ? { ...row, minutes: 'soon' } : row));
    await expect(trainInWorkerThread({ ...requestOf('regression', 'minutes'), validation: text })).rejects.toThrow(
      'target "minutes" (validation) must be a finite number, but split row 6 has "soon"',
    );
    // As for GBDT: the model has no output for a class it never saw, so its log loss is undefined.
    const unseen = validation.map((row, i) => (i === 7 ? { ...row, bucket: 'cancelled' } : row));
    expect(() => trainLinearModel({ ...requestOf('multiclass', 'bucket'), validation: unseen })).toThrow(
      'target "bucket" (validation) has class "cancelled" in split row 8, which is not among the training classes',
    );
  });

  it('may all be equal: a metric needs no spread', () => {
    const onTime = validation.filter((row) => row.delayed === 0);
    const model = trainLinearModel({ ...requestOf('binary', 'delayed'), validation: onTime });
    expect(model.training.validationCurve![params.maxIterations - 1]).toBeCloseTo(metricOfPredictions(model, onTime), 10);
  });
});

describe('readLearningCurve', () => {
  it('still reads the curves stored before linear models had validation curves', () => {
    expect(readLearningCurve([0.7, 0.6])).toEqual({ metric: 'objective (mean log loss + L2)', train: [0.7, 0.6], validation: null });
    const stored = { metric: 'objective (mean squared error + L2)', train: [4, 3], validation: null };
    expect(readLearningCurve(stored)).toEqual(stored);
    expect(readLearningCurve(null)).toEqual({ metric: 'unknown', train: [], validation: null });
  });
});
