import { describe, expect, it } from 'vitest';
import { toGbdtTable, trainGbdt } from '../../src/ml/gbdt';
import { predictOutputsInWorkerThread } from '../../src/ml/predict-in-worker-thread';
import { trainInWorkerThread, trainLogisticModel, type LogisticTrainingRequest } from '../../src/ml/train';
import { predictOutputs } from '../../src/ml/trained-model';
import { flightFeatures, syntheticFlights } from './support/synthetic';

const request: LogisticTrainingRequest = {
  features: [...flightFeatures],
  target: 'delayed',
  params: { l2: 1e-3, maxIterations: 100, tolerance: 1e-7 },
  train: syntheticFlights(5_000, 11),
};

describe('trainLogisticModel', () => {
  it('returns a JSON-serialisable model over the requested features', () => {
    const model = trainLogisticModel({ ...request, params: { ...request.params, maxCategories: 5 } });
    expect(model.kind).toBe('logistic-regression');
    expect(model.target).toBe('delayed');
    expect(model.pipeline.features.map((feature) => feature.name)).toEqual(flightFeatures.map((feature) => feature.name));
    // hour has 24 categories, capped at 5; weekday 7 → 5; distance 1; origin, destination 12 → 5.
    expect(model.pipeline.width).toBe(5 + 5 + 1 + 5 + 5);
    expect(model.weights).toHaveLength(model.pipeline.width);
    expect(model.training.converged).toBe(true);
    expect(model.training.lossHistory).toHaveLength(model.training.iterations);
    expect(JSON.parse(JSON.stringify(model))).toEqual(model);
  });

  it('names the target column in label errors', () => {
    const constant = request.train.map((row) => ({ ...row, delayed: 1 }));
    expect(() => trainLogisticModel({ ...request, train: constant })).toThrow('target "delayed" is constant (every row is 1)');
    const withNull = request.train.map((row, i) => (i === 3 ? { ...row, delayed: null } : row));
    expect(() => trainLogisticModel({ ...request, train: withNull })).toThrow('target "delayed" must be 0 or 1, but split row 4 has null');
    expect(() => trainLogisticModel({ ...request, features: [...request.features, { name: 'delayed', kind: 'numeric' }] })).toThrow(
      'the target "delayed" is also listed as a feature',
    );
  });
});

describe('trainInWorkerThread', () => {
  it('trains exactly the model trainLogisticModel trains, reporting every iteration', async () => {
    const progress: number[] = [];
    const inWorker = await trainInWorkerThread(request, (iteration, loss) => {
      expect(iteration).toBe(progress.length + 1);
      progress.push(loss);
    });
    const inThread = trainLogisticModel(request);
    expect(inWorker).toEqual(inThread);
    expect(progress).toEqual(inThread.training.lossHistory);
  });

  it('rejects with the error thrown inside the worker', async () => {
    const missingDistance = request.train.map((row) => ({ ...row, distance: null }));
    await expect(trainInWorkerThread({ ...request, train: missingDistance })).rejects.toThrow('numeric feature "distance" has no values');
  });

  it('rejects on an invalid target before starting a worker', async () => {
    const constant = request.train.map((row) => ({ ...row, delayed: 0 }));
    await expect(trainInWorkerThread({ ...request, train: constant })).rejects.toThrow('target "delayed" is constant');
  });

  it('stops the worker when aborted', async () => {
    const controller = new AbortController();
    const training = trainInWorkerThread(
      { ...request, params: { ...request.params, tolerance: 1e-300 } },
      (iteration) => {
        if (iteration === 2) controller.abort(new Error('cancelled by the test'));
      },
      { signal: controller.signal },
    );
    await expect(training).rejects.toThrow('cancelled by the test');
  });
});

describe('predictOutputsInWorkerThread', () => {
  it('gives bit for bit the outputs predictOutputs gives in process, for a linear model and a GBDT', async () => {
    const rows = syntheticFlights(2_000, 12);
    const logistic = trainLogisticModel(request);
    const gbdt = await trainGbdt(
      toGbdtTable({
        features: [...flightFeatures],
        target: 'delayed',
        params: { objective: 'binary', numTrees: 15, seed: 5 },
        train: request.train,
      }),
    );
    for (const model of [logistic, gbdt]) {
      const inWorker = await predictOutputsInWorkerThread(model, rows);
      expect(inWorker).toBeInstanceOf(Float64Array);
      expect(Buffer.from(inWorker.buffer).equals(Buffer.from(predictOutputs(model, rows).buffer))).toBe(true);
    }
    expect(await predictOutputsInWorkerThread(logistic, [])).toHaveLength(0);
  });
});
