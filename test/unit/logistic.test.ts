import { describe, expect, it } from 'vitest';
import type { EncodedMatrix } from '../../src/ml/encoded-matrix';
import { linearPredictor } from '../../src/ml/encoded-matrix';
import { minimizeLbfgs } from '../../src/ml/lbfgs';
import { sigmoid, trainLogistic } from '../../src/ml/logistic';
import { seededNormal, seededRandom } from './support/synthetic';

const trueWeights = [1.5, -0.8, 0.7, -0.4, 0.2];
const trueIntercept = -0.3;

/**
 * Two standard-normal numeric columns (0, 1) and one categorical feature with columns 2-4 plus an
 * unknown category (-1); labels drawn from the true logistic model.
 */
function syntheticProblem(rowCount: number, seed: number): { matrix: EncodedMatrix; labels: Uint8Array } {
  const normal = seededNormal(seed);
  const uniform = seededRandom(seed + 1);
  const x0 = Float64Array.from({ length: rowCount }, normal);
  const x1 = Float64Array.from({ length: rowCount }, normal);
  const category = Int32Array.from({ length: rowCount }, () => {
    const k = Math.floor(uniform() * 4);
    return k === 3 ? -1 : 2 + k;
  });
  const matrix: EncodedMatrix = {
    rowCount,
    width: 5,
    dense: [
      { column: 0, values: x0 },
      { column: 1, values: x1 },
    ],
    oneHot: [category],
  };
  const logits = linearPredictor(matrix, trueWeights, trueIntercept);
  const labels = Uint8Array.from(logits, (z) => (uniform() < sigmoid(z) ? 1 : 0));
  return { matrix, labels };
}

const { matrix, labels } = syntheticProblem(40_000, 5);

/** Gradient of mean log-loss + l2/2·‖w‖², from dense rows written out here (not the trainer's code). */
function maxAbsGradient(weights: number[], intercept: number, l2: number): number {
  const gradient = new Array<number>(weights.length + 1).fill(0);
  for (let i = 0; i < matrix.rowCount; i++) {
    const x = [matrix.dense[0].values[i], matrix.dense[1].values[i], 0, 0, 0];
    if (matrix.oneHot[0][i] >= 0) x[matrix.oneHot[0][i]] = 1;
    const residual = sigmoid(intercept + x.reduce((sum, xj, j) => sum + xj * weights[j], 0)) - labels[i];
    x.forEach((xj, j) => (gradient[j] += (residual * xj) / matrix.rowCount));
    gradient[weights.length] += residual / matrix.rowCount;
  }
  weights.forEach((w, j) => (gradient[j] += l2 * w));
  return Math.max(...gradient.map(Math.abs));
}
const exact = { l2: 0, maxIterations: 200, tolerance: 1e-9 };

describe('trainLogistic', () => {
  it('recovers the coefficients that generated the data', () => {
    const fit = trainLogistic(matrix, labels, exact);
    expect(fit.converged).toBe(true);
    fit.weights.forEach((weight, j) => expect(Math.abs(weight - trueWeights[j])).toBeLessThan(0.08));
    expect(Math.abs(fit.intercept - trueIntercept)).toBeLessThan(0.08);
  });

  it('stops at the optimum: the penalised gradient vanishes', () => {
    for (const l2 of [0, 0.5]) {
      const fit = trainLogistic(matrix, labels, { ...exact, l2 });
      expect(fit.converged).toBe(true);
      expect(maxAbsGradient(fit.weights, fit.intercept, l2)).toBeLessThan(1e-6);
    }
    // A few iterations in, it is not there yet: the check above can fail.
    const early = trainLogistic(matrix, labels, { ...exact, maxIterations: 2 });
    expect(maxAbsGradient(early.weights, early.intercept, 0)).toBeGreaterThan(1e-3);
  });

  it('shrinks the weights as the L2 penalty grows, but not the intercept', () => {
    const norms = [0, 0.01, 0.1, 1].map((l2) => {
      const { weights } = trainLogistic(matrix, labels, { ...exact, l2 });
      return Math.hypot(...weights);
    });
    for (let k = 1; k < norms.length; k++) expect(norms[k]).toBeLessThan(norms[k - 1]);

    const heavy = trainLogistic(matrix, labels, { ...exact, l2: 1e4 });
    const baseRate = labels.reduce((sum, y) => sum + y, 0) / matrix.rowCount;
    expect(Math.max(...heavy.weights.map(Math.abs))).toBeLessThan(1e-3);
    expect(heavy.intercept).toBeCloseTo(Math.log(baseRate / (1 - baseRate)), 3);
  });

  it('gives bit-identical results for the same input', () => {
    const params = { l2: 0.01, maxIterations: 50, tolerance: 1e-8 };
    expect(trainLogistic(matrix, labels, params)).toEqual(trainLogistic(matrix, labels, params));
  });

  it('reports every iteration, never increasing the loss, and stops at maxIterations', () => {
    const seen: [number, number][] = [];
    const fit = trainLogistic(
      matrix,
      labels,
      { l2: 0, maxIterations: 3, tolerance: 1e-12 },
      { onIteration: (it, loss) => seen.push([it, loss]) },
    );
    expect(fit.iterations).toBe(3);
    expect(fit.converged).toBe(false);
    expect(seen).toEqual(fit.lossHistory.map((loss, i) => [i + 1, loss]));
    for (let k = 1; k < fit.lossHistory.length; k++) expect(fit.lossHistory[k]).toBeLessThanOrEqual(fit.lossHistory[k - 1]);
  });

  it('rejects labels that are constant or not binary, and invalid parameters', () => {
    expect(() => trainLogistic(matrix, new Uint8Array(matrix.rowCount).fill(1), exact)).toThrow(
      /the labels is constant \(every row is 1\)/,
    );
    const notBinary = Array.from(labels, (y, i) => (i === 7 ? 2 : y));
    expect(() => trainLogistic(matrix, notBinary, exact)).toThrow(/must be 0 or 1, but split row 8 has 2/);
    expect(() => trainLogistic(matrix, labels.subarray(1), exact)).toThrow(/39999 labels for 40000 rows/);
    expect(() => trainLogistic(matrix, labels, { ...exact, l2: -1 })).toThrow(/l2 must be/);
    expect(() => trainLogistic(matrix, labels, { ...exact, maxIterations: 0 })).toThrow(/maxIterations/);
  });
});

describe('minimizeLbfgs', () => {
  it('finds the minimum of the Rosenbrock function', () => {
    const rosenbrock = (x: Float64Array, gradient: Float64Array) => {
      const [a, b] = x;
      gradient[0] = -2 * (1 - a) - 400 * a * (b - a * a);
      gradient[1] = 200 * (b - a * a);
      return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
    };
    const result = minimizeLbfgs(rosenbrock, Float64Array.of(-1.2, 1), { maxIterations: 500, gradientTolerance: 1e-10 });
    expect(result.converged).toBe(true);
    expect(result.x[0]).toBeCloseTo(1, 6);
    expect(result.x[1]).toBeCloseTo(1, 6);
  });
});
