/**
 * The hot loops of training, as plain functions over typed arrays so that the trainer thread and
 * its helper threads (see parallel.ts) run the very same code on different row ranges.
 *
 * Exactness, and why the thread count cannot change the model: gradients and hessians are
 * quantised to integers (|q| ≤ 2^bits, with rows · 2^bits < 2^53), and histograms sum them in
 * float64. Every partial sum is then an integer below 2^53, represented exactly, so the sums do
 * not depend on the order or the grouping of the additions — one thread or two, a histogram
 * built directly or derived by subtraction from its parent, the bits are the same. Float sums
 * that are not exact (loss values for the learning curves) are reduced per fixed block of rows,
 * then over blocks in order, which also does not depend on how blocks are spread over threads.
 */

/** Rows per reduction block (see above). */
export const BLOCK_ROWS = 16_384;

/** Floats per histogram bin: quantised gradient sum, quantised hessian sum, row count. */
export const BIN_STRIDE = 3;

/** Below this many rows a histogram is built in one copy (clearing the extra copies costs more). */
export const MULTI_COPY_ROWS = 2048;
/** Above this many floats per histogram (about 20 features) four copies no longer fit in cache. */
export const MULTI_COPY_MAX_LENGTH = 16_384;

/**
 * Adds rows[start..end) into a histogram for the active features. `histIndex` holds, row-major,
 * each row's histogram offset per feature (feature offset + bin · BIN_STRIDE, precomputed once:
 * see histogramIndex); `gh` holds the quantised gradient and hessian of row r at ghBase + 2r and
 * ghBase + 2r + 1.
 *
 * With `copies` (3 · hist.length floats, cleared by the caller), rows go four at a time into
 * `hist` and the three copies, so consecutive rows that hit the same bin do not wait on each
 * other's store; mergeHistogramCopies then adds the copies into `hist` (exact sums: any order
 * and grouping give the same bits). Without, every row goes into `hist`.
 *
 * `unitHessian` says every row's quantised hessian is 1 (squared error): the hessian sum of a
 * bin is then its row count, so the copies loop may skip the hessian adds (a third of the
 * stores); countsToHessians fills them in afterwards. The other loops add them as usual, which
 * gives the same values.
 */
export function accumulateHistogram(
  histIndex: Uint16Array | Uint32Array,
  featureCount: number,
  features: Int32Array,
  activeCount: number,
  gh: Int32Array,
  ghBase: number,
  rows: Uint32Array,
  start: number,
  end: number,
  hist: Float64Array,
  copies: Float64Array | null,
  unitHessian: boolean,
): void {
  let i = start;
  if (copies && activeCount === featureCount && unitHessian) {
    // Every feature, hessians left to countsToHessians.
    const L = hist.length;
    const L2 = 2 * L;
    for (; i + 3 < end; i += 4) {
      const r0 = rows[i];
      const r1 = rows[i + 1];
      const r2 = rows[i + 2];
      const r3 = rows[i + 3];
      const g0 = gh[ghBase + 2 * r0];
      const g1 = gh[ghBase + 2 * r1];
      const g2 = gh[ghBase + 2 * r2];
      const g3 = gh[ghBase + 2 * r3];
      let p0 = r0 * featureCount;
      let p1 = r1 * featureCount;
      let p2 = r2 * featureCount;
      let p3 = r3 * featureCount;
      for (let f = 0; f < featureCount; f++) {
        const o0 = histIndex[p0++];
        hist[o0] += g0;
        hist[o0 + 2] += 1;
        const o1 = histIndex[p1++];
        copies[o1] += g1;
        copies[o1 + 2] += 1;
        const o2 = L + histIndex[p2++];
        copies[o2] += g2;
        copies[o2 + 2] += 1;
        const o3 = L2 + histIndex[p3++];
        copies[o3] += g3;
        copies[o3 + 2] += 1;
      }
    }
  } else if (copies && activeCount === featureCount) {
    // Every feature: offsets read in row order, no indirection through `features`.
    const L = hist.length;
    const L2 = 2 * L;
    for (; i + 3 < end; i += 4) {
      const r0 = rows[i];
      const r1 = rows[i + 1];
      const r2 = rows[i + 2];
      const r3 = rows[i + 3];
      const g0 = gh[ghBase + 2 * r0];
      const h0 = gh[ghBase + 2 * r0 + 1];
      const g1 = gh[ghBase + 2 * r1];
      const h1 = gh[ghBase + 2 * r1 + 1];
      const g2 = gh[ghBase + 2 * r2];
      const h2 = gh[ghBase + 2 * r2 + 1];
      const g3 = gh[ghBase + 2 * r3];
      const h3 = gh[ghBase + 2 * r3 + 1];
      let p0 = r0 * featureCount;
      let p1 = r1 * featureCount;
      let p2 = r2 * featureCount;
      let p3 = r3 * featureCount;
      for (let f = 0; f < featureCount; f++) {
        const o0 = histIndex[p0++];
        hist[o0] += g0;
        hist[o0 + 1] += h0;
        hist[o0 + 2] += 1;
        const o1 = histIndex[p1++];
        copies[o1] += g1;
        copies[o1 + 1] += h1;
        copies[o1 + 2] += 1;
        const o2 = L + histIndex[p2++];
        copies[o2] += g2;
        copies[o2 + 1] += h2;
        copies[o2 + 2] += 1;
        const o3 = L2 + histIndex[p3++];
        copies[o3] += g3;
        copies[o3 + 1] += h3;
        copies[o3 + 2] += 1;
      }
    }
  } else if (copies) {
    const L = hist.length;
    const L2 = 2 * L;
    for (; i + 3 < end; i += 4) {
      const r0 = rows[i];
      const r1 = rows[i + 1];
      const r2 = rows[i + 2];
      const r3 = rows[i + 3];
      const g0 = gh[ghBase + 2 * r0];
      const h0 = gh[ghBase + 2 * r0 + 1];
      const g1 = gh[ghBase + 2 * r1];
      const h1 = gh[ghBase + 2 * r1 + 1];
      const g2 = gh[ghBase + 2 * r2];
      const h2 = gh[ghBase + 2 * r2 + 1];
      const g3 = gh[ghBase + 2 * r3];
      const h3 = gh[ghBase + 2 * r3 + 1];
      const p0 = r0 * featureCount;
      const p1 = r1 * featureCount;
      const p2 = r2 * featureCount;
      const p3 = r3 * featureCount;
      for (let k = 0; k < activeCount; k++) {
        const f = features[k];
        const o0 = histIndex[p0 + f];
        hist[o0] += g0;
        hist[o0 + 1] += h0;
        hist[o0 + 2] += 1;
        const o1 = histIndex[p1 + f];
        copies[o1] += g1;
        copies[o1 + 1] += h1;
        copies[o1 + 2] += 1;
        const o2 = L + histIndex[p2 + f];
        copies[o2] += g2;
        copies[o2 + 1] += h2;
        copies[o2 + 2] += 1;
        const o3 = L2 + histIndex[p3 + f];
        copies[o3] += g3;
        copies[o3 + 1] += h3;
        copies[o3 + 2] += 1;
      }
    }
  }
  for (; i < end; i++) {
    const r = rows[i];
    const g = gh[ghBase + 2 * r];
    const h = gh[ghBase + 2 * r + 1];
    const p = r * featureCount;
    for (let k = 0; k < activeCount; k++) {
      const o = histIndex[p + features[k]];
      hist[o] += g;
      hist[o + 1] += h;
      hist[o + 2] += 1;
    }
  }
}

/**
 * Row-major histogram offsets (feature offset + bin · BIN_STRIDE) of binned rows: the histogram
 * loop then does one load per feature instead of a bin load, an offset load and a multiply.
 * Uint16 when every offset fits (up to ~85 features of 255 bins), else Uint32.
 */
export function histogramIndex(
  bins: Uint8Array,
  featureCount: number,
  histOffsets: Int32Array,
  histLength: number,
  out: Uint16Array | Uint32Array,
): void {
  if (histLength > (out instanceof Uint16Array ? 65_536 : 2 ** 32)) throw new Error(`internal error: histogram of ${histLength} floats`);
  for (let p = 0, f = 0; p < bins.length; p++) {
    out[p] = histOffsets[f] + bins[p] * BIN_STRIDE;
    if (++f === featureCount) f = 0;
  }
}

/** hist += the three copies, over the active features' bins. */
export function mergeHistogramCopies(
  featureCount: number,
  features: Int32Array,
  activeCount: number,
  histOffsets: Int32Array,
  hist: Float64Array,
  copies: Float64Array,
): void {
  const L = hist.length;
  const L2 = 2 * L;
  for (let k = 0; k < activeCount; k++) {
    const f = features[k];
    const to = f + 1 < featureCount ? histOffsets[f + 1] : L;
    for (let j = histOffsets[f]; j < to; j++) hist[j] += copies[j] + copies[L + j] + copies[L2 + j];
  }
}

/** Each bin's hessian sum := its row count, over the active features (unit hessians; see accumulateHistogram). */
export function countsToHessians(
  featureCount: number,
  features: Int32Array,
  activeCount: number,
  histOffsets: Int32Array,
  hist: Float64Array,
): void {
  const L = hist.length;
  for (let k = 0; k < activeCount; k++) {
    const f = features[k];
    const to = f + 1 < featureCount ? histOffsets[f + 1] : L;
    for (let j = histOffsets[f]; j < to; j += BIN_STRIDE) hist[j + 1] = hist[j + 2];
  }
}

/** hist += other, over the active features' bins. */
export function addHistogram(
  featureCount: number,
  features: Int32Array,
  activeCount: number,
  histOffsets: Int32Array,
  hist: Float64Array,
  other: Float64Array,
): void {
  const L = hist.length;
  for (let k = 0; k < activeCount; k++) {
    const f = features[k];
    const to = f + 1 < featureCount ? histOffsets[f + 1] : L;
    for (let j = histOffsets[f]; j < to; j++) hist[j] += other[j];
  }
}

/**
 * Stable partition of rows[start..end) by one split: the rows going left are written, in order,
 * to rows[start..start + L); the rows going right, in order, to scratch[scratchStart..). Returns
 * L. Branch-free (a split sends rows both ways unpredictably, so a branch would mispredict).
 * A categorical split passes its `leftBins` table (see categorical-split.ts) instead of a threshold.
 * `column` is the split feature's bins, column-major: a one-byte-per-row column stays in cache
 * where the row-major matrix would not.
 */
export function partitionRows(
  rows: Uint32Array,
  start: number,
  end: number,
  column: Uint8Array,
  thresholdBin: number,
  missingLeft: boolean,
  scratch: Uint32Array,
  scratchStart: number,
  leftBins: Uint8Array | null = null,
): number {
  const goesLeft = goesLeftTable(thresholdBin, missingLeft, leftBins);
  let left = start;
  let right = scratchStart;
  for (let i = start; i < end; i++) {
    const r = rows[i];
    const side = goesLeft[column[r]];
    rows[left] = r;
    scratch[right] = r;
    left += side;
    right += side ^ 1;
  }
  return left - start;
}

/**
 * goesLeft[b] of a split: 1 for value bins 1..thresholdBin, and for bin 0 (missing) iff
 * missingLeft; or the given table of a categorical split.
 */
export function goesLeftTable(thresholdBin: number, missingLeft: boolean, leftBins: Uint8Array | null): Uint8Array {
  if (leftBins) return leftBins;
  const goesLeft = new Uint8Array(256);
  goesLeft.fill(1, 1, thresholdBin + 1);
  goesLeft[0] = missingLeft ? 1 : 0;
  return goesLeft;
}

/** The leaf of a tree reached by binned row r (see Tree in tree.ts; leftBins: see PackedTree). */
export function binnedLeaf(
  bins: Uint8Array,
  featureCount: number,
  r: number,
  feature: Int32Array,
  thresholdBin: Int32Array,
  missingLeft: Uint8Array,
  left: Int32Array,
  right: Int32Array,
  leftBins: Uint8Array | null,
): number {
  let node = 0;
  const p = r * featureCount;
  while (node >= 0) {
    const b = bins[p + feature[node]];
    const t = thresholdBin[node];
    const goLeft = t < 0 ? leftBins![256 * node + b] === 1 : b === 0 ? missingLeft[node] === 1 : b <= t;
    node = goLeft ? left[node] : right[node];
  }
  return ~node;
}

/** Bits of quantisation for `rows` rows: rows · 2^bits < 2^53, at most 30 (fits an Int32Array). */
export function quantisationBits(rows: number): number {
  return Math.min(30, 52 - Math.ceil(Math.log2(Math.max(2, rows))));
}

/**
 * Binary log loss: quantised gradient (p - y) and hessian p(1-p) of rows [start, end), whose
 * scores are raw log-odds. Returns the summed log loss of those rows at the current scores.
 */
export function binaryGradients(
  scores: Float64Array,
  labels: Float64Array,
  gh: Int32Array,
  start: number,
  end: number,
  gScale: number,
  hScale: number,
): number {
  // Log loss per row: log(1 + e) + max(z, 0) - y·z with e = exp(-|z|). The logs are summed as
  // the log of a running product of (1 + e) ∈ [1, 2], taken when the product nears overflow and
  // at the end: one Math.log per ~900 rows instead of one per row (the log was 40 % of this loop).
  let linear = 0;
  let logs = 0;
  let product = 1;
  for (let r = start; r < end; r++) {
    const z = scores[r];
    const y = labels[r];
    const e = Math.exp(-Math.abs(z));
    const onePlus = 1 + e;
    const p = z >= 0 ? 1 / onePlus : e / onePlus;
    linear += (z > 0 ? z : 0) - y * z;
    product *= onePlus;
    if (product > 1e270) {
      logs += Math.log(product);
      product = 1;
    }
    // Storing into an Int32Array truncates towards zero: a fixed, deterministic quantisation.
    gh[2 * r] = (p - y) * gScale;
    gh[2 * r + 1] = p * (1 - p) * hScale;
  }
  return linear + (logs + Math.log(product));
}

/** Largest |score - label| over rows [start, end) (squared error's gradient scale). */
export function maxAbsResidual(scores: Float64Array, labels: Float64Array, start: number, end: number): number {
  let max = 0;
  for (let r = start; r < end; r++) {
    const d = Math.abs(scores[r] - labels[r]);
    if (d > max) max = d;
  }
  return max;
}

/** Squared error: quantised gradient (score - y), hessian 1. Returns the sum of squared residuals. */
export function squaredErrorGradients(
  scores: Float64Array,
  labels: Float64Array,
  gh: Int32Array,
  start: number,
  end: number,
  gScale: number,
): number {
  let loss = 0;
  for (let r = start; r < end; r++) {
    const d = scores[r] - labels[r];
    loss += d * d;
    gh[2 * r] = d * gScale;
    gh[2 * r + 1] = 1;
  }
  return loss;
}

/**
 * Softmax over K classes: scores row-major (r·K + k); gradients class-major (class k of row r at
 * k·2n + 2r). Hessian K/(K-1)·p(1-p), as LightGBM. Returns the summed multiclass log loss.
 */
export function softmaxGradients(
  scores: Float64Array,
  labels: Float64Array,
  gh: Int32Array,
  rowCount: number,
  classes: number,
  start: number,
  end: number,
  gScale: number,
  hScale: number,
  exps: Float64Array,
): number {
  const factor = classes / (classes - 1);
  // log(Σ exp) per row, summed as the log of a running product (see binaryGradients).
  let linear = 0;
  let logs = 0;
  let product = 1;
  for (let r = start; r < end; r++) {
    const base = r * classes;
    let max = scores[base];
    for (let k = 1; k < classes; k++) if (scores[base + k] > max) max = scores[base + k];
    let sum = 0;
    for (let k = 0; k < classes; k++) {
      const e = Math.exp(scores[base + k] - max);
      exps[k] = e;
      sum += e;
    }
    const y = labels[r];
    linear -= scores[base + y] - max;
    product *= sum;
    if (product > 1e270) {
      logs += Math.log(product);
      product = 1;
    }
    for (let k = 0; k < classes; k++) {
      const p = exps[k] / sum;
      const q = k * 2 * rowCount + 2 * r;
      gh[q] = (k === y ? p - 1 : p) * gScale;
      gh[q + 1] = factor * p * (1 - p) * hScale;
    }
  }
  return linear + (logs + Math.log(product));
}
