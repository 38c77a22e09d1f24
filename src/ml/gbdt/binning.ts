/**
 * Quantile binning. Each feature's non-missing values fall into at most `maxBins` value bins
 * 1..n, delimited by float32 upper bounds U_1 < … < U_{n-1} (bin n is unbounded); bin 0 holds the
 * missing values. A value x lies in bin b ≥ 1 iff U_{b-1} < x ≤ U_b, with x already float32.
 *
 * Splitting "bin ≤ t goes left" is therefore exactly "x ≤ U_t goes left", which is what the ONNX
 * TreeEnsemble computes (BRANCH_LEQ, float32 compare): the partition of the training rows and the
 * exported model cannot disagree on any row.
 */

/** Largest finite float32: the threshold of a split that sends every present value left. */
export const FLOAT32_MAX = 3.4028234663852886e38;

export interface BinMapper {
  /** U_1 … U_{n-1}, float32 values, strictly increasing. */
  bounds: number[];
  /** n, the number of value bins (≥ 1; bounds.length + 1). */
  valueBins: number;
  /** Categorical features with native splits only: bins 1..categoryBins each hold one category code (see categorical-split.ts). */
  categoryBins?: number;
}

/**
 * Upper bounds for `values` (float32, NaN = missing). With at most `maxBins` distinct values each
 * gets its own bin; otherwise bins hold about equal row counts (a value is never split across
 * bins, and a value more frequent than the average bin gets a bin of its own). Uses every row:
 * sorting is cheap next to training, and no sampling means no randomness.
 */
export function fitBinMapper(values: Float32Array, maxBins: number): BinMapper {
  const { distinct, counts, present } = distinctValues(values);
  const bounds: number[] = [];
  if (distinct.length <= maxBins) {
    for (let i = 0; i + 1 < distinct.length; i++) bounds.push(boundBetween(distinct[i], distinct[i + 1]));
  } else {
    let remaining = present;
    let binsLeft = maxBins;
    let accumulated = 0;
    for (let i = 0; i + 1 < distinct.length && binsLeft > 1; i++) {
      accumulated += counts[i];
      const target = remaining / binsLeft;
      // Close the bin when it is full, or to give a heavy next value a bin of its own.
      if (accumulated >= target || counts[i + 1] >= target) {
        bounds.push(boundBetween(distinct[i], distinct[i + 1]));
        remaining -= accumulated;
        binsLeft--;
        accumulated = 0;
      }
    }
  }
  return { bounds, valueBins: bounds.length + 1 };
}

/** Largest integer range counted with an array instead of sorting (16 MB of counts). */
const COUNTING_RANGE = 1 << 22;

/**
 * The distinct present values in increasing order, with their counts. Integer-valued columns over
 * a moderate range (codes, hours, miles…) are counted in one pass; others are sorted.
 */
function distinctValues(values: Float32Array): { distinct: number[]; counts: number[]; present: number } {
  let present = 0;
  let integral = true;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x !== x) continue;
    present++;
    if (x < min) min = x;
    if (x > max) max = x;
    if ((x | 0) !== x) integral = false;
  }
  const distinct: number[] = [];
  const counts: number[] = [];
  if (present === 0) return { distinct, counts, present };
  if (integral && max - min < COUNTING_RANGE) {
    const tally = new Int32Array(max - min + 1);
    for (let i = 0; i < values.length; i++) {
      const x = values[i];
      if (x === x) tally[x - min]++;
    }
    for (let k = 0; k < tally.length; k++) {
      if (tally[k] === 0) continue;
      distinct.push(k + min);
      counts.push(tally[k]);
    }
    return { distinct, counts, present };
  }
  const sorted = new Float32Array(present);
  for (let i = 0, j = 0; i < values.length; i++) if (values[i] === values[i]) sorted[j++] = values[i];
  sorted.sort();
  for (let i = 0; i < sorted.length;) {
    const value = sorted[i];
    let j = i + 1;
    while (j < sorted.length && sorted[j] === value) j++;
    // -0 and +0 compare equal: one bin, as the float compare in the trees sees them.
    distinct.push(value === 0 ? 0 : value);
    counts.push(j - i);
    i = j;
  }
  return { distinct, counts, present };
}

/** A float32 bound b with a ≤ b < c: the midpoint when float32 can tell it from c, else a. */
function boundBetween(a: number, c: number): number {
  const mid = Math.fround(a / 2 + c / 2);
  return mid < c ? mid : a;
}

/**
 * Bin codes, column-major (feature f's codes at f·rows … (f+1)·rows - 1): written feature by
 * feature. `out` may be a view over a SharedArrayBuffer.
 */
export function binColumns(columns: readonly Float32Array[], mappers: readonly BinMapper[], out: Uint8Array): void {
  for (let f = 0; f < columns.length; f++) {
    const values = columns[f];
    // Bounds padded to 255 with +Infinity: a branch-free binary search of fixed depth 8 counts
    // the bounds below x (mispredicted branches made the plain search 2-4× slower).
    const bounds = new Float32Array(256).fill(Number.POSITIVE_INFINITY);
    bounds.set(mappers[f].bounds);
    const binOf = (x: number) => {
      let below = bounds[127] < x ? 128 : 0;
      below += bounds[below + 63] < x ? 64 : 0;
      below += bounds[below + 31] < x ? 32 : 0;
      below += bounds[below + 15] < x ? 16 : 0;
      below += bounds[below + 7] < x ? 8 : 0;
      below += bounds[below + 3] < x ? 4 : 0;
      below += bounds[below + 1] < x ? 2 : 0;
      below += bounds[below] < x ? 1 : 0;
      // Missing (NaN) is bin 0; a present value is 1 + the number of bounds below it.
      return x === x ? below + 1 : 0;
    };
    const base = f * values.length;
    const table = integerBinTable(values, binOf);
    if (table) {
      // Integer values over a small range (codes, hours…): one table lookup per row.
      const { min, bins } = table;
      for (let r = 0; r < values.length; r++) {
        const x = values[r];
        out[base + r] = x === x ? bins[x - min] : 0;
      }
    } else {
      for (let r = 0; r < values.length; r++) out[base + r] = binOf(values[r]);
    }
  }
}

/** The bin of every integer between the column's min and max, when all its values are such integers. */
function integerBinTable(values: Float32Array, binOf: (x: number) => number): { min: number; bins: Uint8Array } | null {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let r = 0; r < values.length; r++) {
    const x = values[r];
    if (x !== x) continue;
    if ((x | 0) !== x) return null;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  if (!(max - min < 1 << 16)) return null;
  const bins = new Uint8Array(max - min + 1);
  for (let k = 0; k < bins.length; k++) bins[k] = binOf(k + min);
  return { min, bins };
}

/** Row-major copy of column-major codes (row r's bins at r·F … r·F + F - 1). */
export function transposeBins(columnMajor: Uint8Array, featureCount: number, out: Uint8Array): void {
  const rows = columnMajor.length / featureCount;
  for (let f = 0; f < featureCount; f++) {
    const base = f * rows;
    for (let r = 0, p = f; r < rows; r++, p += featureCount) out[p] = columnMajor[base + r];
  }
}
