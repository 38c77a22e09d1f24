import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { exportMultinomialOnnx } from '../../src/ml/onnx/export-multinomial';
import type { Row } from '../../src/ml/row';
import { trainInWorkerThread, trainLinearModel, type LinearTrainingRequest } from '../../src/ml/train';
import { contractOf, exportOnnx, predictOutputs, taskOf } from '../../src/ml/trained-model';
import { modelContractSchema } from '../../src/shared/model-contract';
import { runOnnx } from './support/linear-models';
import { seededRandom } from './support/synthetic';
import { jsonRoundTrip } from '../fixtures/json';

/** The true model: scores per class (fox, cat, owl) from x1, x2 and the colour. */
function trueScores(x1: number, x2: number, colour: string): number[] {
  return [0, 1.5 * x1 - 1 + (colour === 'red' ? 1 : 0), -x2 + 0.5];
}
const names = ['fox', 'cat', 'owl'];

function softmax(scores: number[]): number[] {
  const max = Math.max(...scores);
  const e = scores.map((s) => Math.exp(s - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

function animals(count: number, seed: number): Row[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const x1 = random() * 4 - 2;
    const x2 = random() * 4 - 2;
    const colour = random() < 0.5 ? 'red' : 'grey';
    const p = softmax(trueScores(x1, x2, colour));
    const u = random();
    const animal = u < p[0] ? names[0] : u < p[0] + p[1] ? names[1] : names[2];
    return { x1, x2, colour, animal };
  });
}

const features: LinearTrainingRequest['features'] = [
  { name: 'x1', kind: 'numeric' },
  { name: 'x2', kind: 'numeric' },
  { name: 'colour', kind: 'categorical' },
];
const request = {
  task: 'multiclass',
  features,
  target: 'animal',
  params: { l2: 1e-6, maxIterations: 300, tolerance: 1e-8 },
  train: animals(20_000, 5),
} as const;
const model = trainLinearModel(request);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('multinomial logistic regression', () => {
  it('recovers the class probabilities of a known softmax model', () => {
    expect(model.kind).toBe('multinomial-logistic');
    expect(taskOf(model)).toBe('multiclass');
    // Classes are the label values, sorted (code units), not in order of appearance.
    expect(model.classes).toEqual(['cat', 'fox', 'owl']);
    expect(model.training.converged).toBe(true);
    expect(model.intercepts.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 12);
    const grid: Row[] = [];
    for (const x1 of [-1.5, 0, 1.5]) for (const x2 of [-1.5, 0, 1.5]) for (const colour of ['red', 'grey']) grid.push({ x1, x2, colour });
    const predicted = predictOutputs(model, grid);
    let worst = 0;
    grid.forEach((row, i) => {
      const truth = softmax(trueScores(row.x1 as number, row.x2 as number, row.colour as string));
      model.classes.forEach((name, k) => {
        worst = Math.max(worst, Math.abs(predicted[i * 3 + k] - truth[names.indexOf(name)]));
      });
      expect(predicted.subarray(i * 3, i * 3 + 3).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    });
    expect(worst).toBeLessThan(0.03);
  });

  it('exports ONNX whose probabilities match within 1e-5 and whose label is their argmax', async () => {
    const contract = contractOf(model);
    expect(modelContractSchema.parse(contract)).toEqual(contract);
    expect(contract).toMatchObject({
      task: 'multiclass',
      classes: ['cat', 'fox', 'owl'],
      outputs: [
        { name: 'probabilities', type: 'float32', shape: [-1, 3] },
        { name: 'label', type: 'int64', shape: [-1, 1] },
      ],
    });
    const scoring: Row[] = [...animals(300, 99), { x1: null, x2: null, colour: null }, { x1: '1', x2: -3, colour: 'purple' }];
    const { probabilities, label } = await runOnnx(exportMultinomialOnnx(model), contract.inputs, scoring);
    expect(probabilities.dims).toEqual([scoring.length, 3]);
    expect(label.dims).toEqual([scoring.length, 1]);
    const expected = predictOutputs(model, scoring);
    const onnx = probabilities.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(onnx[i] - expected[i]));
    expect(worst).toBeLessThan(1e-5);
    const labels = label.data as BigInt64Array;
    for (let row = 0; row < scoring.length; row++) {
      const p = Array.from(onnx.subarray(row * 3, row * 3 + 3));
      expect(Number(labels[row])).toBe(p.indexOf(Math.max(...p)));
    }
  });

  it('is deterministic: same bytes twice, after a JSON round trip, and from a worker thread', async () => {
    const bytes = exportOnnx(model);
    expect(sha256(exportOnnx(jsonRoundTrip(model)))).toBe(sha256(bytes));
    const small = { ...request, train: request.train.slice(0, 3_000) };
    const progress: number[] = [];
    const inWorker = await trainInWorkerThread(small, (_, loss) => progress.push(loss));
    const inThread = trainLinearModel(small);
    expect(inWorker).toEqual(inThread);
    expect(progress).toEqual(inThread.training.lossHistory);
    expect(sha256(exportOnnx(inWorker))).toBe(sha256(exportOnnx(inThread)));
  });

  it('rejects one class only, a missing label and unknown parameters, naming them', async () => {
    const rows = request.train.slice(0, 200);
    expect(() => trainLinearModel({ ...request, train: rows.map((row) => ({ ...row, animal: 'owl' })) })).toThrow(
      'target "animal" is constant (every row is "owl"): a classifier needs at least two classes',
    );
    await expect(
      trainInWorkerThread({ ...request, train: rows.map((row, i) => (i === 11 ? { ...row, animal: null } : row)) }),
    ).rejects.toThrow('target "animal" is missing in split row 12');
    const params = { ...request.params, C: 1 } as LinearTrainingRequest['params'];
    expect(() => trainLinearModel({ ...request, params })).toThrow('unknown parameter "C" of a linear model');
  });
});
