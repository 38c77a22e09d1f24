import { describe, expect, it } from 'vitest';
import { encodeRows } from '../../src/ml/features';
import type { Row } from '../../src/ml/row';
import { trainLinearModel } from '../../src/ml/train';
import { predictOutputs } from '../../src/ml/trained-model';
import { denseRows } from './support/linear-models';
import { sklearnReference } from './support/sklearn';
import { seededNormal, seededRandom } from './support/synthetic';

/**
 * keel's linear trainers and scikit-learn's, on the same encoded matrix, with the penalty mapped
 * as documented: Ridge(alpha = n·l2/2) and LogisticRegression(C = 1/(n·l2)).
 */
describe('linear models agree with scikit-learn', () => {
  const random = seededRandom(17);
  const normal = seededNormal(18);
  const rows: Row[] = Array.from({ length: 800 }, () => {
    const a = random() * 10;
    const b = normal();
    const group = ['g1', 'g2', 'g3'][Math.floor(random() * 3)];
    const score = 0.8 * a - 2 * b + (group === 'g2' ? 3 : 0);
    return {
      a,
      b: random() < 0.05 ? null : b,
      group,
      y: score + normal(),
      klass: score + 2 * normal() > 6 ? 'high' : score > 2 ? 'mid' : 'low',
    };
  });
  const features = [
    { name: 'a', kind: 'numeric' },
    { name: 'b', kind: 'numeric' },
    { name: 'group', kind: 'categorical' },
  ] as const;
  const l2 = 0.02;

  it('ridge: weights and intercept within 1e-6 of the largest coefficient', () => {
    const model = trainLinearModel({
      task: 'regression',
      features: [...features],
      target: 'y',
      params: { l2, maxIterations: 500, tolerance: 1e-10 },
      train: rows,
    });
    const x = denseRows(encodeRows(model.pipeline, rows));
    const [sklearn] = sklearnReference<{ coef: number[]; intercept: number }>([
      { kind: 'ridge', x, y: rows.map((row) => row.y), alpha: (rows.length * l2) / 2 },
    ]);
    const scale = Math.max(...sklearn.coef.map(Math.abs));
    model.weights.forEach((w, j) => expect(Math.abs(w - sklearn.coef[j]), `weight ${j}`).toBeLessThanOrEqual(1e-6 * scale));
    expect(Math.abs(model.intercept - sklearn.intercept)).toBeLessThanOrEqual(1e-6 * Math.max(1, scale));
  });

  it('multinomial: class probabilities within 1e-5', () => {
    const model = trainLinearModel({
      task: 'multiclass',
      features: [...features],
      target: 'klass',
      params: { l2, maxIterations: 500, tolerance: 1e-10 },
      train: rows,
    });
    expect(model.classes).toEqual(['high', 'low', 'mid']);
    const x = denseRows(encodeRows(model.pipeline, rows));
    const codes = rows.map((row) => model.classes.indexOf(row.klass as string));
    const [sklearn] = sklearnReference<{ proba: number[][] }>([{ kind: 'multinomial', x, codes, c: 1 / (rows.length * l2) }]);
    const keel = predictOutputs(model, rows);
    let worst = 0;
    sklearn.proba.forEach((p, i) => p.forEach((value, k) => (worst = Math.max(worst, Math.abs(keel[i * 3 + k] - value)))));
    expect(worst).toBeLessThan(1e-5);
  });
});
