import { InferenceSession, Tensor } from 'onnxruntime-node';
import type { EncodedMatrix } from '../../../src/ml/encoded-matrix';
import { onnxFeedColumns } from '../../../src/ml/onnx/feed-columns';
import type { Row } from '../../../src/ml/row';
import type { ContractInputType } from '../../../src/shared/model-contract';

/** The encoded matrix as dense rows (tests only: the trainers never build it). */
export function denseRows(matrix: EncodedMatrix): number[][] {
  const rows = Array.from({ length: matrix.rowCount }, () => new Array<number>(matrix.width).fill(0));
  for (const { column, values } of matrix.dense) values.forEach((value, i) => (rows[i][column] = value));
  for (const columns of matrix.oneHot) columns.forEach((column, i) => column >= 0 && (rows[i][column] = 1));
  return rows;
}

/** Solves A·x = b (A square, non-singular) by Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const factor = m[r][col] / m[col][col];
      for (let c = col; c <= n; c++) m[r][c] -= factor * m[col][c];
    }
  }
  return m.map((row, i) => row[n] / row[i]);
}

/**
 * Ridge regression in closed form, as scikit-learn's Ridge computes it with an intercept: centre
 * X and y, solve (XcᵀXc + α·I)·w = Xcᵀ·yc, then b = ȳ - x̄·w. α = 0 is least squares.
 */
export function ridgeClosedForm(x: number[][], y: number[], alpha: number): { weights: number[]; intercept: number } {
  const n = y.length;
  const width = x[0].length;
  const xMean = Array.from({ length: width }, (_, j) => x.reduce((sum, row) => sum + row[j], 0) / n);
  const yMean = y.reduce((a, b) => a + b, 0) / n;
  const gram = Array.from({ length: width }, (_, j) =>
    Array.from(
      { length: width },
      (_, l) => x.reduce((sum, row) => sum + (row[j] - xMean[j]) * (row[l] - xMean[l]), 0) + (j === l ? alpha : 0),
    ),
  );
  const rhs = Array.from({ length: width }, (_, j) => x.reduce((sum, row, i) => sum + (row[j] - xMean[j]) * (y[i] - yMean), 0));
  const weights = solve(gram, rhs);
  return { weights, intercept: yMean - weights.reduce((sum, w, j) => sum + w * xMean[j], 0) };
}

/** Runs exported ONNX bytes on raw rows, fed as serving feeds them. */
export async function runOnnx(
  bytes: Uint8Array,
  inputs: readonly { name: string; type: ContractInputType }[],
  rows: readonly Row[],
): Promise<Record<string, Tensor>> {
  const session = await InferenceSession.create(bytes);
  const columns = onnxFeedColumns(inputs, rows);
  const feeds = Object.fromEntries(inputs.map(({ name, type }) => [name, new Tensor(type, columns[name], [rows.length, 1])]));
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}
