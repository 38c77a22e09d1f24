import type { Row } from './columns';

/**
 * Pearson correlations between numeric columns over rows (pairwise complete: a pair of values
 * counts when both are finite numbers). null where a column is constant or has no pair.
 */
export function pearsonMatrix(rows: readonly Row[], columns: readonly string[]): (number | null)[][] {
  const k = columns.length;
  const values = columns.map((c) => rows.map((row) => (typeof row[c] === 'number' && Number.isFinite(row[c]) ? row[c] : Number.NaN)));
  const matrix: (number | null)[][] = Array.from({ length: k }, () => new Array<number | null>(k).fill(null));
  for (let a = 0; a < k; a++) {
    for (let b = a; b < k; b++) {
      const r = pearson(values[a], values[b]);
      matrix[a][b] = r;
      matrix[b][a] = r;
    }
  }
  return matrix;
}

function pearson(x: readonly number[], y: readonly number[]): number | null {
  let n = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(x[i]) || Number.isNaN(y[i])) continue;
    n++;
    sx += x[i];
    sy += y[i];
  }
  if (n < 2) return null;
  const mx = sx / n;
  const my = sy / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(x[i]) || Number.isNaN(y[i])) continue;
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return null;
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}
