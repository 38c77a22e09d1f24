import { createHash } from 'node:crypto';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { fitGbdt, type GbdtTable } from '../../src/ml/gbdt/booster';
import { findCategoricalSplit, type CategoricalSearch } from '../../src/ml/gbdt/categorical-split';
import { BIN_STRIDE } from '../../src/ml/gbdt/kernels';
import { gbdtContract, predictGbdt, type GbdtModel } from '../../src/ml/gbdt/model';
import { toGbdtTable, trainGbdt } from '../../src/ml/gbdt/train';
import { exportGbdtOnnx } from '../../src/ml/onnx/export-gbdt';
import { onnxFeedColumns } from '../../src/ml/onnx/feed-columns';
import type { Row } from '../../src/ml/row';
import { onnxCheckerErrors } from './support/onnx-checker';
import { seededRandom } from './support/synthetic';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Rows whose target depends on a 40-category feature through effects unrelated to the categories'
 * frequency order (so frequency-rank codes put good and bad categories side by side), plus a
 * numeric and a small categorical feature; ~3 % missing values.
 */
function categoricalRows(count: number, seed: number): Row[] {
  const random = seededRandom(seed);
  const effect = Array.from({ length: 40 }, (_, k) => ((k * 7919) % 13) / 6 - 1);
  const rows: Row[] = [];
  for (let i = 0; i < count; i++) {
    // Skewed frequencies: category k has weight ~ 1/(k+3).
    const u = random();
    const k = Math.min(39, Math.floor(Math.exp(u * Math.log(43)) - 1));
    const x = random() * 4 - 2;
    const color = ['red', 'green', 'blue'][Math.floor(random() * 3)];
    const logit = 1.6 * effect[k] + 0.5 * x + (color === 'red' ? 0.4 : 0);
    rows.push({
      shop: random() < 0.03 ? null : `s${k}`,
      x: random() < 0.03 ? null : x,
      color: random() < 0.03 ? null : color,
      y: random() < 1 / (1 + Math.exp(-logit)) ? 1 : 0,
      amount: 10 + 3 * logit + random(),
      grade: logit > 0.6 ? 2 : logit > -0.6 ? 1 : 0,
    });
  }
  return rows;
}

const features = [
  { name: 'shop', kind: 'categorical' },
  { name: 'x', kind: 'numeric' },
  { name: 'color', kind: 'categorical' },
] as const;
const train = categoricalRows(6_000, 1);
const test = categoricalRows(2_000, 2);
/** Unseen rows: missing and unknown categories, and a category rarer than the cut. */
const odd: Row[] = [
  { shop: 'nowhere', x: 0.5, color: 'mauve' },
  { shop: null, x: null, color: null },
  { shop: '', x: Number.NaN, color: '' },
  { shop: 's39', x: 1, color: 'red' },
];

function table(objective: 'binary' | 'regression' | 'multiclass', params: Partial<GbdtTable['params']> = {}): GbdtTable {
  const target = objective === 'binary' ? 'y' : objective === 'regression' ? 'amount' : 'grade';
  return toGbdtTable({
    features: [...features],
    target,
    params: { objective, numTrees: 12, maxLeaves: 15, minSamplesLeaf: 10, categoricalSplits: 'native', minDataPerGroup: 20, ...params },
    train: train.map((row) => ({ ...row, [target]: row[target] })),
  });
}

async function runOnnx(bytes: Uint8Array, model: GbdtModel, rows: Row[]): Promise<Record<string, Tensor>> {
  const session = await InferenceSession.create(bytes);
  const { inputs } = gbdtContract(model);
  const columns = onnxFeedColumns(inputs, rows);
  return session.run(Object.fromEntries(inputs.map(({ name, type }) => [name, new Tensor(type, columns[name], [rows.length, 1])])));
}

const logLoss = (model: GbdtModel) => {
  const p = predictGbdt(model, test);
  return -test.reduce((sum, row, i) => sum + (row.y === 1 ? Math.log(p[i]) : Math.log(1 - p[i])), 0) / test.length;
};

describe('findCategoricalSplit', () => {
  /** A histogram of one feature: bin b holds (g, h, c) = cells[b]. */
  const histogramOf = (cells: [number, number, number][]) => Float64Array.from(cells.flat());
  const searchOf = (hist: Float64Array, params: Partial<CategoricalSearch['params']> = {}): CategoricalSearch => {
    let g = 0;
    let h = 0;
    let c = 0;
    for (let i = 0; i < hist.length; i += BIN_STRIDE) [g, h, c] = [g + hist[i], h + hist[i + 1], c + hist[i + 2]];
    return {
      g,
      h,
      c,
      gradientUnit: 1,
      hessianUnit: 1,
      lambda: 0,
      minSamplesLeaf: 1,
      minHessianLeaf: 0,
      parentScore: (g * g) / h,
      params: { maxCatThreshold: 32, catSmooth: 0, catL2: 0, minDataPerGroup: 1, maxCatToOnehot: 4, ...params },
    };
  };

  it('groups the categories by gradient / hessian, whatever their codes', () => {
    // Missing (bin 0) and categories 1..6: the odd ones pull the score down, the even ones and missing up.
    const hist = histogramOf([
      [20, 10, 10],
      [-30, 10, 10],
      [25, 10, 10],
      [-28, 10, 10],
      [31, 10, 10],
      [-26, 10, 10],
      [29, 10, 10],
    ]);
    const found = findCategoricalSplit(hist, 0, 6, searchOf(hist), 0);
    expect(found?.bins).toEqual([1, 3, 5]);
    expect([found?.g, found?.c]).toEqual([-84, 30]);
  });

  it('tries one category against the rest when there are at most maxCatToOnehot', () => {
    const hist = histogramOf([
      [0, 0, 0],
      [-5, 10, 10],
      [-6, 10, 10],
      [11, 10, 10],
    ]);
    expect(findCategoricalSplit(hist, 0, 3, searchOf(hist), 0)?.bins).toEqual([3]);
  });

  it('respects maxCatThreshold, catSmooth and minDataPerGroup', () => {
    const hist = histogramOf([
      [0, 10, 10],
      [-30, 10, 10],
      [25, 10, 10],
      [-28, 10, 10],
      [31, 10, 10],
      [-26, 10, 10],
      [29, 10, 10],
    ]);
    expect(findCategoricalSplit(hist, 0, 6, searchOf(hist, { maxCatThreshold: 2 }), 0)?.bins.length).toBeLessThanOrEqual(2);
    // Categories with fewer rows than catSmooth never go left on their own: nothing is left to split.
    expect(findCategoricalSplit(hist, 0, 6, searchOf(hist, { catSmooth: 11 }), 0)).toBeNull();
    // Each side needs minDataPerGroup rows.
    expect(findCategoricalSplit(hist, 0, 6, searchOf(hist, { minDataPerGroup: 40 }), 0)).toBeNull();
  });
});

describe('native categorical splits', () => {
  it('learn set splits that beat frequency-rank codes on unordered categories', () => {
    const params = { numTrees: 15, maxLeaves: 7 };
    const native = fitGbdt(table('binary', params));
    const ordinal = fitGbdt(table('binary', { ...params, categoricalSplits: 'ordinal' }));
    expect(native.trees.some((tree) => tree.leftCategories?.some((codes) => codes && codes.length > 1))).toBe(true);
    expect(ordinal.trees.every((tree) => tree.leftCategories === undefined)).toBe(true);
    expect(logLoss(native)).toBeLessThan(logLoss(ordinal) - 0.005);
  });

  it('export as TreeEnsemble (ai.onnx.ml 5, BRANCH_MEMBER) equal to predictGbdt within 1e-5, and pass onnx.checker', async () => {
    const rows = [...test.slice(0, 300), ...odd];
    const models = (['binary', 'regression', 'multiclass'] as const).map((objective) => fitGbdt(table(objective)));
    const exported = models.map((model) => exportGbdtOnnx(model));
    for (const [i, model] of models.entries()) {
      expect(gbdtContract(model).treeEnsemble).toEqual({ op: 'TreeEnsemble', mlOpset: 5, categoricalSplits: 'BRANCH_MEMBER' });
      const outputs = await runOnnx(exported[i], model, rows);
      const got = (outputs.probability ?? outputs.prediction ?? outputs.probabilities).data as Float32Array;
      const expected = predictGbdt(model, rows);
      expect(got.length).toBe(expected.length);
      for (let j = 0; j < expected.length; j++) {
        expect(Math.abs(got[j] - expected[j]) / Math.max(1, Math.abs(expected[j])), `${model.objective} value ${j}`).toBeLessThan(1e-5);
      }
    }
    // For runtimes without opset 5: BRANCH_EQ chains at opset 3, the same predictions.
    const chains = exportGbdtOnnx(models[0], { categoricalNodes: 'equality-chains' });
    expect(gbdtContract(models[0], 'equality-chains').treeEnsemble).toEqual({
      op: 'TreeEnsembleRegressor',
      mlOpset: 3,
      categoricalSplits: 'BRANCH_EQ chains',
    });
    const fromChains = (await runOnnx(chains, models[0], rows)).probability.data as Float32Array;
    const fromMembers = (await runOnnx(exported[0], models[0], rows)).probability.data as Float32Array;
    fromChains.forEach((p, j) => expect(Math.abs(p - fromMembers[j]), `chains row ${j}`).toBeLessThan(1e-6));
    expect(onnxCheckerErrors([...exported, chains])).toEqual(['', '', '', '']);
    // An ordinal model keeps TreeEnsembleRegressor at ai.onnx.ml 3 and says nothing of it.
    expect(gbdtContract(fitGbdt(table('binary', { numTrees: 3, categoricalSplits: 'ordinal' }))).treeEnsemble).toBeUndefined();
  });

  it('never put the codes that share the last bin into a set (more categories than bins)', async () => {
    const model = fitGbdt(table('binary', { numTrees: 8, maxBins: 12 }));
    const shop = 0;
    const codes = model.trees.flatMap((tree) => tree.feature.flatMap((f, node) => (f === shop ? (tree.leftCategories?.[node] ?? []) : [])));
    expect(codes.length).toBeGreaterThan(0);
    // Codes 0..10 have bins of their own; 11 and up (rarer shops, unknown) share bin 12 and go right.
    expect(Math.max(...codes)).toBeLessThanOrEqual(10);
    const rows = [...test.slice(0, 300), ...odd];
    const got = (await runOnnx(exportGbdtOnnx(model), model, rows)).probability.data as Float32Array;
    predictGbdt(model, rows).forEach((p, j) => expect(Math.abs(got[j] - p), `row ${j}`).toBeLessThan(1e-5));
  });

  it('score validation rows with categories unseen in training as predictGbdt does', () => {
    // Shops 0..19 only in training; validation also has 20..39 (the unknown code).
    const seen = train.filter((row) => row.shop === null || Number(String(row.shop).slice(1)) < 20);
    const validation = test.slice(0, 1_000);
    const model = fitGbdt(
      toGbdtTable({
        features: [...features],
        target: 'y',
        params: { objective: 'binary', numTrees: 10, maxLeaves: 15, minSamplesLeaf: 10, minDataPerGroup: 20 },
        train: seen,
        validation,
      }),
    );
    const p = predictGbdt(model, validation);
    const loss = -validation.reduce((sum, row, i) => sum + (row.y === 1 ? Math.log(p[i]) : Math.log(1 - p[i])), 0) / validation.length;
    expect(model.training.validationCurve!.at(-1)).toBeCloseTo(loss, 9);
  });

  it('train byte-identical models on 1 and 3 threads and when retrained', async () => {
    const params = { numTrees: 20, subsample: 0.8, colsample: 0.7, seed: 3 };
    const big = toGbdtTable({
      features: [...features],
      target: 'y',
      params: { objective: 'binary', categoricalSplits: 'native', minDataPerGroup: 20, ...params },
      train: categoricalRows(10_000, 5),
    });
    const one = await trainGbdt(big, { threads: 1 });
    const three = await trainGbdt(big, { threads: 3, chunkRows: 1024 });
    expect(three).toEqual(one);
    expect(sha256(exportGbdtOnnx(fitGbdt(big)))).toBe(sha256(exportGbdtOnnx(one)));
  });
});
