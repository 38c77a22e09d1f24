import { createHash } from 'node:crypto';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { fitGbdt, type GbdtTable } from '../../src/ml/gbdt/booster';
import { gbdtContract, predictGbdt, type GbdtModel } from '../../src/ml/gbdt/model';
import { toGbdtTable } from '../../src/ml/gbdt/train';
import { exportGbdtOnnx } from '../../src/ml/onnx/export-gbdt';
import { onnxFeedColumns } from '../../src/ml/onnx/feed-columns';
import type { Row } from '../../src/ml/row';
import { flightFeatures, seededRandom, syntheticFlights } from './support/synthetic';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const train = syntheticFlights(8_000, 31);

/** Unseen rows with every kind of missing, unknown or odd value. */
const scoringRows: Row[] = [
  ...syntheticFlights(1_500, 32),
  { hour: 99, weekday: 9, distance: 12_000, origin: 'ZZZ', destination: 'YYY' },
  { hour: null, weekday: null, distance: null, origin: null, destination: null },
  { hour: '', weekday: '', distance: Number.NaN, origin: '', destination: '' },
  { hour: 7, weekday: 2, distance: Number.POSITIVE_INFINITY, origin: 'ATL', destination: 'SEA' },
  { hour: 7, weekday: 2, distance: Number.NEGATIVE_INFINITY, origin: 'ATL', destination: 'SEA' },
  { hour: 7, weekday: 2, distance: 1e300, origin: 'ATL', destination: 'SEA' },
  { hour: '7', weekday: '2', distance: '640', origin: 'ATL', destination: 'SEA' },
  { distance: -5 },
];

/** Regression and multiclass targets derived from the flight rows. */
function table(objective: 'binary' | 'regression' | 'multiclass', params: Partial<GbdtTable['params']> = {}): GbdtTable {
  const random = seededRandom(33);
  const rows = train.map((row) => ({
    ...row,
    y:
      objective === 'binary'
        ? row.delayed
        : objective === 'regression'
          ? 20 + 0.01 * Number(row.distance ?? 1500) + 2 * Number(row.hour ?? 12) * (row.origin === 'ORD' ? 2 : 1) + random()
          : Number(row.delayed) + (Number(row.hour ?? 0) > 16 ? 1 : 0),
  }));
  return toGbdtTable({
    features: [...flightFeatures],
    target: 'y',
    params: { objective, numTrees: 40, maxLeaves: 31, minSamplesLeaf: 10, learningRate: 0.2, ...params },
    train: rows,
  });
}

async function runOnnx(model: GbdtModel, rows: Row[]): Promise<Record<string, Tensor>> {
  const session = await InferenceSession.create(exportGbdtOnnx(model));
  const { inputs } = gbdtContract(model);
  expect(session.inputNames).toEqual(inputs.map((input) => input.name));
  const columns = onnxFeedColumns(inputs, rows);
  return session.run(Object.fromEntries(inputs.map(({ name, type }) => [name, new Tensor(type, columns[name], [rows.length, 1])])));
}

describe('exportGbdtOnnx', () => {
  it('binary: probability and label match predictGbdt within 1e-5 on every row', async () => {
    const model = fitGbdt(table('binary'));
    const outputs = await runOnnx(model, scoringRows);
    expect(Object.keys(outputs)).toEqual(['probability', 'label']);
    const { probability, label } = outputs;
    expect(probability.dims).toEqual([scoringRows.length, 1]);
    expect(label.dims).toEqual([scoringRows.length, 1]);
    const expected = predictGbdt(model, scoringRows);
    const got = probability.data as Float32Array;
    for (let i = 0; i < scoringRows.length; i++) {
      expect(Math.abs(got[i] - expected[i]), `row ${i}`).toBeLessThan(1e-5);
      expect((label.data as BigInt64Array)[i], `row ${i}`).toBe(got[i] > 0.5 ? 1n : 0n);
    }
    // The contract is the logistic model's (serving and evaluation treat both alike).
    expect(gbdtContract(model).outputs).toEqual([
      { name: 'probability', type: 'float32', shape: [-1, 1] },
      { name: 'label', type: 'int64', shape: [-1, 1] },
    ]);
  });

  it('regression: prediction matches within 1e-5 relative', async () => {
    const model = fitGbdt(table('regression'));
    const { prediction } = await runOnnx(model, scoringRows);
    expect(prediction.dims).toEqual([scoringRows.length, 1]);
    const expected = predictGbdt(model, scoringRows);
    const got = prediction.data as Float32Array;
    // ONNX sums float32 leaf values: agreement is to float32 precision, relative to the value.
    for (let i = 0; i < scoringRows.length; i++)
      expect(Math.abs(got[i] - expected[i]) / Math.max(1, Math.abs(expected[i])), `row ${i}`).toBeLessThan(1e-5);
  });

  it('multiclass: probabilities [N,K] and the argmax label', async () => {
    const model = fitGbdt(table('multiclass'));
    expect(model.outputs).toBe(3);
    const { probabilities, label } = await runOnnx(model, scoringRows);
    expect(probabilities.dims).toEqual([scoringRows.length, 3]);
    expect(label.dims).toEqual([scoringRows.length, 1]);
    const expected = predictGbdt(model, scoringRows);
    const got = probabilities.data as Float32Array;
    for (let i = 0; i < expected.length; i++) expect(Math.abs(got[i] - expected[i]), `value ${i}`).toBeLessThan(1e-5);
    for (let r = 0; r < scoringRows.length; r++) {
      const p = Array.from(got.subarray(r * 3, r * 3 + 3));
      expect(Number((label.data as BigInt64Array)[r])).toBe(p.indexOf(Math.max(...p)));
    }
  });

  it('routes missing, unknown and infinite values like predictGbdt (learned default directions)', async () => {
    const model = fitGbdt(table('binary', { maxCategories: 6 }));
    expect(model.trees.some((tree) => tree.missingLeft.includes(true))).toBe(true);
    expect(model.trees.some((tree) => tree.missingLeft.includes(false))).toBe(true);
    const tail = scoringRows.slice(-8);
    const got = (await runOnnx(model, tail)).probability.data as Float32Array;
    const expected = predictGbdt(model, tail);
    tail.forEach((_, i) => expect(Math.abs(got[i] - expected[i])).toBeLessThan(1e-5));
    // ±Infinity and a float32 overflow are missing, as a null distance is.
    const nullDistance = predictGbdt(model, [{ ...tail[3], distance: null }])[0];
    expect([expected[3], expected[4], expected[5]]).toEqual([nullDistance, nullDistance, nullDistance]);
  });

  it('gives byte-identical output for the same model, also after a JSON round trip and a retrain', () => {
    const model = fitGbdt(table('binary'));
    const first = sha256(exportGbdtOnnx(model));
    expect(sha256(exportGbdtOnnx(model))).toBe(first);
    expect(sha256(exportGbdtOnnx(JSON.parse(JSON.stringify(model)) as GbdtModel))).toBe(first);
    expect(sha256(exportGbdtOnnx(fitGbdt(table('binary'))))).toBe(first);
    expect(sha256(exportGbdtOnnx({ ...model, threshold: 0.3 }))).not.toBe(first);
  });

  it('rejects an inconsistent model', () => {
    const model = fitGbdt(table('multiclass', { numTrees: 2 }));
    expect(() => exportGbdtOnnx({ ...model, trees: model.trees.slice(1) })).toThrow(/not a multiple of its 3 outputs/);
  });
});
