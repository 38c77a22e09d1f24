import { BIN_STRIDE } from '../../../src/ml/gbdt/kernels';

/**
 * Random bins for `rowCount` rows (row-major) of features with the given bin counts, and the
 * layout of the histogram they index: each feature's offset and the histogram's length.
 */
export function randomBinnedRows(binsPerFeature: readonly number[], rowCount: number, random: () => number) {
  const featureCount = binsPerFeature.length;
  const histOffsets = new Int32Array(featureCount);
  let histLength = 0;
  for (let f = 0; f < featureCount; f++) {
    histOffsets[f] = histLength;
    histLength += binsPerFeature[f] * BIN_STRIDE;
  }
  const bins = new Uint8Array(rowCount * featureCount);
  for (let r = 0; r < rowCount; r++)
    for (let f = 0; f < featureCount; f++) bins[r * featureCount + f] = Math.floor(random() * binsPerFeature[f]);
  return { featureCount, histOffsets, histLength, bins };
}
