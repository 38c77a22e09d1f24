import { createHash } from 'node:crypto';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { fitGbdt } from '../../src/ml/gbdt/booster';
import { gbdtContract, predictGbdt } from '../../src/ml/gbdt/model';
import { toGbdtTable } from '../../src/ml/gbdt/train';
import { modelContract, predictProba } from '../../src/ml/model';
import { exportGbdtOnnx } from '../../src/ml/onnx/export-gbdt';
import { exportLogisticOnnx } from '../../src/ml/onnx/export-logistic';
import { onnxFeedColumns } from '../../src/ml/onnx/feed-columns';
import type { Row } from '../../src/ml/row';
import { trainLogisticModel } from '../../src/ml/train';
import { everyOptionFeatures, everyOptionRows, unusualRows } from './support/feature-table';
import { jsonRoundTrip } from '../fixtures/json';

/**
 * The served model is the ONNX graph; training and in-process inference are TypeScript. Both read
 * raw rows through src/ml/row.ts and must agree on every row — missing, non-finite, huge and
 * unseen values included — for every feature option, in both model families.
 */

const train = everyOptionRows(6_000, 41);
const testSplit = [...everyOptionRows(2_000, 42), ...unusualRows];
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function runOnnx(onnx: Uint8Array, inputs: { name: string; type: 'float32' | 'string' | 'float64' }[], rows: readonly Row[]) {
  const session = await InferenceSession.create(onnx);
  expect(session.inputNames).toEqual(inputs.map((input) => input.name));
  const columns = onnxFeedColumns(inputs, rows);
  return session.run(Object.fromEntries(inputs.map(({ name, type }) => [name, new Tensor(type, columns[name], [rows.length, 1])])));
}

function expectClose(onnx: Float32Array, expected: Float64Array, tolerance: number): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const difference = Math.abs(onnx[i] - expected[i]);
    if (!(difference <= tolerance)) expect.fail(`row ${i}: ONNX ${onnx[i]} vs TypeScript ${expected[i]} (${JSON.stringify(testSplit[i])})`);
    worst = Math.max(worst, difference);
  }
  return worst;
}

describe('feature options: ONNX = in-process TypeScript', () => {
  it('logistic regression: probabilities agree within 1e-5 on the test split and on unusual rows', async () => {
    const model = trainLogisticModel({
      features: everyOptionFeatures,
      target: 'delayed',
      params: { l2: 1e-3, maxIterations: 200, tolerance: 1e-8, maxCategories: 50 },
      train,
    });
    const byName = Object.fromEntries(model.pipeline.features.map((feature) => [feature.name, feature]));
    // Every option made it into the fitted pipeline.
    expect(byName.amount).toMatchObject({ clip: { min: 0, max: 5000 }, scale: 'minmax', min: 0, max: 5000 });
    expect(byName.amount).toHaveProperty('fill');
    expect(byName.score).toMatchObject({ fill: -1, scale: 'none' });
    expect(byName.origin).toMatchObject({ categories: expect.any(Array) });
    expect(byName.origin).not.toHaveProperty('encoding');
    // minCount 100 drops the three rare carriers (about 66 rows each): they are unknown.
    expect(byName.carrier).toMatchObject({ encoding: 'ordinal' });
    expect(byName.carrier.kind === 'categorical' && [...byName.carrier.categories].sort()).toEqual(['AA', 'AS', 'B6', 'DL', 'UA', 'WN']);
    expect(byName.city).toMatchObject({ encoding: 'frequency' });
    expect(byName.member).toMatchObject({ kind: 'boolean' });
    expect(byName.departure).toMatchObject({ parts: [{ part: 'hour', encoding: 'one-hot' }, { part: 'weekday' }, { part: 'month' }] });
    expect(byName.opened).toMatchObject({ parts: [{ part: 'year', encoding: 'numeric' }, {}, {}, {}, {}] });
    expect(model.training.converged).toBe(true);

    const contract = modelContract(model);
    expect(contract.inputs.map((input) => input.type)).toEqual([
      'float32',
      'float32',
      'float32',
      'float32',
      'string',
      'string',
      'string',
      'string',
      'float64',
      'float64',
    ]);
    const onnx = exportLogisticOnnx(model);
    const { probability } = await runOnnx(onnx, contract.inputs, testSplit);
    const worst = expectClose(probability.data as Float32Array, predictProba(model, testSplit), 1e-5);
    expect(worst).toBeGreaterThan(0); // float32 in the graph: equality would mean the comparison is not real
    expect(sha256(exportLogisticOnnx(jsonRoundTrip(model)))).toBe(sha256(onnx));
  });

  it('gradient-boosted trees: probabilities agree within 1e-5 on the test split and on unusual rows', async () => {
    const table = toGbdtTable({
      features: everyOptionFeatures,
      target: 'delayed',
      params: { objective: 'binary', numTrees: 40, maxLeaves: 31, minSamplesLeaf: 10, learningRate: 0.2, maxCategories: 50 },
      train,
    });
    const model = fitGbdt(table);
    const byName = Object.fromEntries(model.pipeline.features.map((feature) => [feature.name, feature]));
    expect(byName.distance).toEqual({ name: 'distance', kind: 'numeric' });
    expect(byName.score).toMatchObject({ fill: -1 });
    expect(byName.temperature).toMatchObject({ clip: { max: 40 } });
    expect(byName.city).toMatchObject({ encoding: 'frequency' });
    expect(byName.departure).toEqual({ name: 'departure', kind: 'datetime', parts: ['hour', 'weekday', 'month'] });
    // The trees use the new kinds (a datetime part, the boolean), not only the old ones.
    const used = new Set(model.trees.flatMap((tree) => tree.feature));
    expect(used.size).toBeGreaterThan(8);

    const contract = gbdtContract(model);
    const onnx = exportGbdtOnnx(model);
    const { probability } = await runOnnx(onnx, contract.inputs, testSplit);
    expectClose(probability.data as Float32Array, predictGbdt(model, testSplit), 1e-5);
    expect(sha256(exportGbdtOnnx(jsonRoundTrip(model)))).toBe(sha256(onnx));
  });

  it('trains the same pipeline and bytes from the same rows (determinism)', () => {
    const request = {
      features: everyOptionFeatures,
      target: 'delayed',
      params: { l2: 1e-3, maxIterations: 50, tolerance: 1e-8, maxCategories: 50 },
      train,
    };
    const first = sha256(exportLogisticOnnx(trainLogisticModel(request)));
    expect(sha256(exportLogisticOnnx(trainLogisticModel({ ...request, train: [...train] })))).toBe(first);
  });
});
