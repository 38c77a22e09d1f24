import { createHash } from 'node:crypto';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { modelContract, predictProba } from '../../src/ml/model';
import { onnxFeedColumns } from '../../src/ml/onnx/feed-columns';
import { exportLogisticOnnx } from '../../src/ml/onnx/export-logistic';
import type { Row } from '../../src/ml/row';
import { trainLogisticModel } from '../../src/ml/train';
import { flightFeatures, syntheticFlights } from './support/synthetic';
import { jsonRoundTrip } from '../fixtures/json';

const model = trainLogisticModel({
  features: [...flightFeatures],
  target: 'delayed',
  params: { l2: 1e-3, maxIterations: 100, tolerance: 1e-7, maxCategories: 8 },
  train: syntheticFlights(4_000, 21),
});

/** Rows the model has not seen, with every kind of missing or unknown value. */
const scoringRows: Row[] = [
  ...syntheticFlights(500, 22),
  { hour: 99, weekday: 9, distance: 12_000, origin: 'ZZZ', destination: 'YYY' },
  { hour: null, weekday: null, distance: null, origin: null, destination: null },
  { hour: '', weekday: '', distance: Number.NaN, origin: '', destination: '' },
  { hour: 7, weekday: 2, distance: Number.POSITIVE_INFINITY, origin: 'ATL', destination: 'SEA' },
  { hour: '7', weekday: '2', distance: '640', origin: 'ATL', destination: 'SEA' },
  { distance: -5 },
];

/** Feeds built by hand: float32 with NaN for a missing number, '' for a missing category. */
function handMadeFeeds(rows: Row[]): Record<string, Tensor> {
  const shape = [rows.length, 1];
  const category = (value: Row[string]) => (value === null || value === undefined ? '' : String(value));
  const number = (value: Row[string]) => (value === null || value === undefined || value === '' ? Number.NaN : Number(value));
  return {
    hour: new Tensor(
      'string',
      rows.map((row) => category(row.hour)),
      shape,
    ),
    weekday: new Tensor(
      'string',
      rows.map((row) => category(row.weekday)),
      shape,
    ),
    distance: new Tensor(
      'float32',
      Float32Array.from(rows, (row) => number(row.distance)),
      shape,
    ),
    origin: new Tensor(
      'string',
      rows.map((row) => category(row.origin)),
      shape,
    ),
    destination: new Tensor(
      'string',
      rows.map((row) => category(row.destination)),
      shape,
    ),
  };
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('exportLogisticOnnx', () => {
  it('loads in onnxruntime with the inputs and outputs of the contract', async () => {
    const session = await InferenceSession.create(exportLogisticOnnx(model));
    const contract = modelContract(model);
    expect(session.inputNames).toEqual(contract.inputs.map((input) => input.name));
    expect(session.outputNames).toEqual(['probability', 'label']);
    expect(contract.inputs).toEqual([
      { name: 'hour', type: 'string' },
      { name: 'weekday', type: 'string' },
      { name: 'distance', type: 'float32' },
      { name: 'origin', type: 'string' },
      { name: 'destination', type: 'string' },
    ]);
  });

  it('predicts what predictProba predicts, within 1e-5, unknown and missing values included', async () => {
    // maxCategories 8 leaves 4 of the 12 airports out of the vocabulary: unknown in ordinary rows too.
    const origin = model.pipeline.features.find((feature) => feature.name === 'origin');
    const vocabulary = origin?.kind === 'categorical' ? origin.categories : [];
    expect(vocabulary).toHaveLength(8);
    expect(scoringRows.slice(0, 500).filter((row) => !vocabulary.includes(String(row.origin))).length).toBeGreaterThan(100);
    const session = await InferenceSession.create(exportLogisticOnnx(model));
    const { probability, label } = await session.run(handMadeFeeds(scoringRows));
    const expected = predictProba(model, scoringRows);
    expect(probability.dims).toEqual([scoringRows.length, 1]);
    expect(label.dims).toEqual([scoringRows.length, 1]);
    const onnxProbability = probability.data as Float32Array;
    const onnxLabel = label.data as BigInt64Array;
    for (let i = 0; i < scoringRows.length; i++) {
      expect(Math.abs(onnxProbability[i] - expected[i]), `row ${i}`).toBeLessThan(1e-5);
      expect(onnxLabel[i], `row ${i}`).toBe(onnxProbability[i] > 0.5 ? 1n : 0n);
    }
    // Unknown everywhere and missing everywhere both reduce to the intercept (distance imputed).
    const intercept = 1 / (1 + Math.exp(-model.intercept));
    expect(expected[scoringRows.length - 5]).toBeCloseTo(intercept, 12);
    expect(onnxProbability[scoringRows.length - 5]).toBeCloseTo(intercept, 6);
    // Infinity is treated as missing on both sides, as the row with distance null would be.
    expect(onnxProbability[scoringRows.length - 3]).toBe(
      (await session.run(handMadeFeeds([{ ...scoringRows[scoringRows.length - 3], distance: null }]))).probability.data[0],
    );
  });

  it('is fed the same way by onnxFeedColumns', async () => {
    const session = await InferenceSession.create(exportLogisticOnnx(model));
    const columns = onnxFeedColumns(modelContract(model).inputs, scoringRows);
    const feeds = Object.fromEntries(
      modelContract(model).inputs.map(({ name, type }) => [name, new Tensor(type, columns[name], [scoringRows.length, 1])]),
    );
    const fromHelper = await session.run(feeds);
    const byHand = await session.run(handMadeFeeds(scoringRows));
    expect(fromHelper.probability.data).toEqual(byHand.probability.data);
  });

  it('gives byte-identical output for the same model, also after a JSON round trip', () => {
    const first = sha256(exportLogisticOnnx(model));
    expect(sha256(exportLogisticOnnx(model))).toBe(first);
    expect(sha256(exportLogisticOnnx(jsonRoundTrip(model)))).toBe(first);
    const other = { ...model, intercept: model.intercept + 1e-3 };
    expect(sha256(exportLogisticOnnx(other))).not.toBe(first);
  });

  it('rejects a model whose weights do not match its pipeline', () => {
    expect(() => exportLogisticOnnx({ ...model, weights: model.weights.slice(1) })).toThrow(/weights for .* encoded columns/);
  });
});
