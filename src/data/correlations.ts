import type { Row } from './dataset-store';

export interface CorrelationMatrix {
  columns: string[];
  /**
   * Pearson's r, row-major, each over the rows where both columns are present (pairwise deletion,
   * as pandas' DataFrame.corr); null when either is constant there or fewer than 3 rows remain.
   */
  r: (number | null)[][];
  /** Rows the correlations were computed from. */
  rows: number;
}

/** Pearson correlation of every pair of numeric columns (the diagonal included, so a heat map needs nothing else). */
export function pearsonCorrelations(rows: readonly Row[], columns: readonly string[]): CorrelationMatrix {
  const values = columns.map((column) =>
    Float64Array.from(rows, (row) => {
      const value = row[column];
      return typeof value === 'number' && Number.isFinite(value) ? value : Number.NaN;
    }),
  );
  const r = columns.map(() => new Array<number | null>(columns.length).fill(null));
  for (let i = 0; i < columns.length; i++) {
    for (let j = i; j < columns.length; j++) r[i]![j] = r[j]![i] = pearson(values[i]!, values[j]!);
  }
  return { columns: [...columns], r, rows: rows.length };
}

function pearson(x: Float64Array, y: Float64Array): number | null {
  let n = 0;
  let meanX = 0;
  let meanY = 0;
  for (let k = 0; k < x.length; k++) {
    if (Number.isNaN(x[k]!) || Number.isNaN(y[k]!)) continue;
    n++;
    meanX += (x[k]! - meanX) / n;
    meanY += (y[k]! - meanY) / n;
  }
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let k = 0; k < x.length; k++) {
    if (Number.isNaN(x[k]!) || Number.isNaN(y[k]!)) continue;
    const dx = x[k]! - meanX;
    const dy = y[k]! - meanY;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (n < 3 || sxx === 0 || syy === 0) return null;
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}
