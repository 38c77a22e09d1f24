/**
 * The encoded design matrix in the compact form this data allows. Every row has exactly one value
 * per single-column encoding (a numeric or boolean feature, an ordinal or frequency code, a
 * numeric date part) and at most one active column per one-hot group (a categorical feature, a
 * one-hot date part), so instead of a dense rows × width matrix (400k × ~500) the encoding keeps
 * one dense column per single-column encoding and, per one-hot group, the index of the column
 * holding the row's 1. The two products a linear model needs, X·w and Xᵀ·r, then cost
 * O(rows × features).
 */
export interface EncodedMatrix {
  rowCount: number;
  /** Number of columns of the equivalent dense matrix. */
  width: number;
  /** One entry per single-column encoding: its column and its (encoded) value per row. */
  dense: { column: number; values: Float64Array }[];
  /** One array per one-hot group: per row, the column of its 1, or -1 (unknown or missing). */
  oneHot: Int32Array[];
}

/** X·weights + intercept, one score per row, accumulated in a fixed order (deterministic). */
export function linearPredictor(
  matrix: EncodedMatrix,
  weights: ArrayLike<number>,
  intercept: number,
  out: Float64Array = new Float64Array(matrix.rowCount),
): Float64Array {
  out.fill(intercept);
  for (const { column, values } of matrix.dense) {
    const weight = weights[column];
    for (let i = 0; i < matrix.rowCount; i++) out[i] += weight * values[i];
  }
  for (const columns of matrix.oneHot) {
    for (let i = 0; i < matrix.rowCount; i++) {
      const column = columns[i];
      if (column >= 0) out[i] += weights[column];
    }
  }
  return out;
}

/** gradient[j] += Σᵢ X[i][j] · perRow[i] for every column j (Xᵀ·r added into `gradient`). */
export function addTransposedProduct(matrix: EncodedMatrix, perRow: Float64Array, gradient: Float64Array): void {
  for (const { column, values } of matrix.dense) {
    let sum = 0;
    for (let i = 0; i < matrix.rowCount; i++) sum += values[i] * perRow[i];
    gradient[column] += sum;
  }
  for (const columns of matrix.oneHot) {
    for (let i = 0; i < matrix.rowCount; i++) {
      const column = columns[i];
      if (column >= 0) gradient[column] += perRow[i];
    }
  }
}
