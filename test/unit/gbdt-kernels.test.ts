import { describe, expect, it } from 'vitest';
import { accumulateHistogram, BIN_STRIDE, countsToHessians, histogramIndex, mergeHistogramCopies } from '../../src/ml/gbdt/kernels';
import { randomBinnedRows } from './support/binned-rows';
import { seededRandom } from './support/synthetic';

/**
 * The unit-hessian histogram (squared error: every quantised hessian is 1) skips the hessian adds
 * and fills them from the counts; it must give the very histogram the full loop gives.
 */
describe('accumulateHistogram with unit hessians', () => {
  const binsPerFeature = [7, 256, 2];
  const rowCount = 5_003; // not a multiple of 4: the one-row tail runs too
  const random = seededRandom(17);
  const { featureCount, histOffsets, histLength, bins } = randomBinnedRows(binsPerFeature, rowCount, random);
  const histIndex = new Uint16Array(bins.length);
  histogramIndex(bins, featureCount, histOffsets, histLength, histIndex);
  const gh = new Int32Array(2 * rowCount);
  for (let r = 0; r < rowCount; r++) {
    gh[2 * r] = Math.round((random() - 0.5) * 2 ** 30);
    gh[2 * r + 1] = 1;
  }
  // A leaf's rows: every other row, in order, as after a partition.
  const rows = Uint32Array.from({ length: Math.ceil(rowCount / 2) }, (_, i) => 2 * i);

  function build(features: Int32Array, activeCount: number, withCopies: boolean, unitHessian: boolean): Float64Array {
    const hist = new Float64Array(histLength);
    const copies = withCopies ? new Float64Array(3 * histLength) : null;
    accumulateHistogram(histIndex, featureCount, features, activeCount, gh, 0, rows, 0, rows.length, hist, copies, unitHessian);
    if (copies) mergeHistogramCopies(featureCount, features, activeCount, histOffsets, hist, copies);
    if (unitHessian) countsToHessians(featureCount, features, activeCount, histOffsets, hist);
    return hist;
  }

  it('equals the full histogram, with and without copies, over all features and a subset', () => {
    const all = Int32Array.from([0, 1, 2]);
    const subset = Int32Array.from([2, 0, 0]);
    for (const [features, activeCount] of [
      [all, 3],
      [subset, 2],
    ] as const) {
      for (const withCopies of [true, false]) {
        const full = build(features, activeCount, withCopies, false);
        expect(build(features, activeCount, withCopies, true)).toEqual(full);
        // Not vacuous: the counts are there, and equal the hessian sums.
        let count = 0;
        for (let j = histOffsets[features[0]]; j < histOffsets[features[0]] + binsPerFeature[features[0]] * BIN_STRIDE; j += BIN_STRIDE) {
          expect(full[j + 1]).toBe(full[j + 2]);
          count += full[j + 2];
        }
        expect(count).toBe(rows.length);
      }
    }
  });
});
