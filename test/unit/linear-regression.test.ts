import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeRows } from '../../src/ml/features';
import { predictLinearRegression } from '../../src/ml/model';
import { exportLinearRegressionOnnx } from '../../src/ml/onnx/export-linear-regression';
import type { Row } from '../../src/ml/row';
import { trainInWorkerThread, trainLinearModel, type LinearTrainingRequest } from '../../src/ml/train';
import { contractOf, predictOutputs } from '../../src/ml/trained-model';
import { modelContractSchema } from '../../src/shared/model-contract';
import { denseRows, ridgeClosedForm, runOnnx } from './support/linear-models';
import { seededNormal, seededRandom } from './support/synthetic';
import { jsonRoundTrip } from '../fixtures/json';

const zones = ['north', 'south', 'east', 'west'];

/** House-like rows: price in dollars from size, age and zone, with noise and a few missing values. */
function houses(count: number, seed: number): Row[] {
  const random = seededRandom(seed);
  const normal = seededNormal(seed + 1);
  return Array.from({ length: count }, () => {
    const sqft = 600 + random() * 2_400;
    const age = Math.floor(random() * 60);
    const zone = zones[Math.floor(random() * zones.length)];
    const price = 150_000 + 310 * sqft - 2_100 * age + (zone === 'west' ? 90_000 : zone === 'north' ? -40_000 : 0) + 25_000 * normal();
    return { sqft: random() < 0.03 ? null : sqft, age, zone: random() < 0.03 ? null : zone, price };
  });
}

const features: LinearTrainingRequest['features'] = [
  { name: 'sqft', kind: 'numeric' },
  { name: 'age', kind: 'numeric' },
  { name: 'zone', kind: 'categorical' },
];
const train = houses(1_500, 3);
const request = {
  task: 'regression',
  features,
  target: 'price',
  params: { l2: 0.01, maxIterations: 500, tolerance: 1e-10 },
  train,
} as const;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function expectClose(actual: number, expected: number, relative: number, what: string): void {
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(relative * Math.max(1, Math.abs(expected)));
}

describe('linear regression', () => {
  it('matches ridge in closed form (scikit-learn Ridge, alpha = n·l2/2) on the same encoded matrix', () => {
    for (const l2 of [0.01, 0.5]) {
      const model = trainLinearModel({ ...request, params: { ...request.params, l2 } });
      expect(model.kind).toBe('linear-regression');
      expect(model.training.converged).toBe(true);
      const expected = ridgeClosedForm(
        denseRows(encodeRows(model.pipeline, train)),
        train.map((row) => Number(row.price)),
        (train.length * l2) / 2,
      );
      // Relative to the largest coefficient: L-BFGS stops when the objective stops changing in float64.
      const scale = Math.max(...expected.weights.map(Math.abs));
      model.weights.forEach((w, j) => expect(Math.abs(w - expected.weights[j]), `l2=${l2} weight ${j}`).toBeLessThanOrEqual(1e-7 * scale));
      expectClose(model.intercept, expected.intercept, 1e-7, `l2=${l2} intercept`);
    }
  });

  it('with l2 = 0 is least squares, recovering exact coefficients from noise-free data', () => {
    const random = seededRandom(9);
    const rows = Array.from({ length: 300 }, () => {
      const x1 = random() * 10;
      const x2 = random() * 1_000 - 500;
      return { x1, x2, y: 3 + 2 * x1 - 0.5 * x2 };
    });
    const numeric = [
      { name: 'x1', kind: 'numeric' },
      { name: 'x2', kind: 'numeric' },
    ] as const;
    const model = trainLinearModel({
      task: 'regression',
      features: [...numeric],
      target: 'y',
      params: { l2: 0, maxIterations: 200, tolerance: 1e-12 },
      train: rows,
    });
    const fresh = [
      { x1: 0, x2: 0 },
      { x1: 100, x2: -2_000 },
      { x1: -7, x2: 31 },
    ];
    const predicted = predictLinearRegression(model, fresh);
    fresh.forEach((row, i) => expectClose(predicted[i], 3 + 2 * row.x1 - 0.5 * row.x2, 1e-8, `row ${i}`));
  });

  it('exports ONNX that predicts what the model predicts (relative 1e-5), contract and bytes deterministic', async () => {
    const model = trainLinearModel(request);
    const contract = contractOf(model);
    expect(modelContractSchema.parse(contract)).toEqual(contract);
    expect(contract).toEqual({
      task: 'regression',
      inputs: [
        { name: 'sqft', type: 'float32' },
        { name: 'age', type: 'float32' },
        { name: 'zone', type: 'string' },
      ],
      outputs: [{ name: 'prediction', type: 'float32', shape: [-1, 1] }],
    });
    const scoring: Row[] = [
      ...houses(400, 77),
      { sqft: null, age: null, zone: null },
      { sqft: '1200', age: 3, zone: 'unknown zone' },
      { sqft: Infinity, age: 1, zone: '' },
    ];
    const bytes = exportLinearRegressionOnnx(model);
    const { prediction } = await runOnnx(bytes, contract.inputs, scoring);
    expect(prediction.dims).toEqual([scoring.length, 1]);
    const expected = predictOutputs(model, scoring);
    expected.forEach((y, i) => expectClose((prediction.data as Float32Array)[i], y, 1e-5, `row ${i}`));
    expect(sha256(exportLinearRegressionOnnx(jsonRoundTrip(model)))).toBe(sha256(bytes));
    expect(sha256(exportLinearRegressionOnnx(trainLinearModel(request)))).toBe(sha256(bytes));
  });

  it('trains the same model in a worker thread as in this one, reporting every iteration', async () => {
    const losses: number[] = [];
    const inWorker = await trainInWorkerThread(request, (iteration, loss) => {
      expect(iteration).toBe(losses.length + 1);
      losses.push(loss);
    });
    const inThread = trainLinearModel(request);
    expect(inWorker).toEqual(inThread);
    expect(losses).toEqual(inThread.training.lossHistory);
    // The objective is reported in the target's units (squared dollars): at least the noise variance.
    expect(losses.at(-1)).toBeGreaterThan(20_000 ** 2);
    expect(losses.at(-1)).toBeLessThan(losses[0]);
  });

  it('rejects a constant, missing or non-numeric target and unknown parameters, naming them', async () => {
    const constant = train.map((row) => ({ ...row, price: 5 }));
    expect(() => trainLinearModel({ ...request, train: constant })).toThrow(
      'target "price" is constant (every row is 5): there is nothing to learn',
    );
    const missing = train.map((row, i) => (i === 7 ? { ...row, price: null } : row));
    await expect(trainInWorkerThread({ ...request, train: missing })).rejects.toThrow(
      'target "price" must be a finite number, but split row 8 has null',
    );
    const text = train.map((row, i) => (i === 2 ? { ...row, price: 'call us' } : row));
    expect(() => trainLinearModel({ ...request, train: text })).toThrow(
      'target "price" must be a finite number, but split row 3 has "call us"',
    );
    const params = { ...request.params, learningRate: 0.1 } as LinearTrainingRequest['params'];
    expect(() => trainLinearModel({ ...request, params })).toThrow(
      'unknown parameter "learningRate" of a linear model (known: l2, maxIterations, tolerance, maxCategories)',
    );
    expect(() => trainLinearModel({ ...request, params: { ...request.params, l2: -1 } })).toThrow(
      'l2 must be a finite number >= 0, got -1',
    );
  });
});
