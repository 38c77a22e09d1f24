import type { BinMapper } from './binning';
import { BIN_STRIDE } from './kernels';
import type { GbdtParams } from './params';
import type { TreeFeaturePipeline } from './tree-pipeline';

/**
 * Native categorical splits: a split sends a *set* of categories left and every other category
 * right, as LightGBM does (its docs, "Optimal Split for Categorical Features"). The categories of
 * a node are ordered by sum_gradient / (sum_hessian + catSmooth), and the best prefix of that
 * order (from either end, at most maxCatThreshold categories) is the left set: for squared error
 * this ordering contains the optimal partition (Fisher, 1958), and for other losses it is the
 * usual good approximation. With few categories (≤ maxCatToOnehot) each category is tried alone
 * against the rest instead.
 *
 * Bins: a categorical feature's values are the tree pipeline's frequency-rank codes 0, 1, …
 * (see tree-pipeline.ts), and code c falls in bin c + 1, bin 0 being missing. When a feature has
 * more codes than bins, the rarest codes share the last bin; that shared bin never goes left (a
 * set of codes must be listable in the exported graph), so those categories, the unknown ones
 * and any category unseen in training go right, as in LightGBM.
 */

export interface CategoricalSplitParams {
  maxCatThreshold: number;
  catSmooth: number;
  catL2: number;
  minDataPerGroup: number;
  maxCatToOnehot: number;
}

/** The left side of the best categorical split found: its bins (ascending; bin 0 = missing) and quantised sums. */
export interface CategoricalCandidate {
  gain: number;
  bins: number[];
  g: number;
  h: number;
  c: number;
}

/** What findCategoricalSplit needs to know of the leaf and the limits. */
export interface CategoricalSearch {
  /** Quantised sums of the leaf's rows. */
  g: number;
  h: number;
  c: number;
  gradientUnit: number;
  hessianUnit: number;
  lambda: number;
  minSamplesLeaf: number;
  minHessianLeaf: number;
  /** score(G, H) of the leaf with `lambda`. */
  parentScore: number;
  params: CategoricalSplitParams;
}

/**
 * Bins for a column of category codes (integers ≥ 0, NaN = missing): one bin per code seen in
 * training, up to `maxBins` - 1, and a last bin shared by every other code — the rarest codes when
 * there are too many, and codes training never saw (an unknown category in validation rows), so
 * that binned rows take the same branch as predictGbdt. `categoryBins` (= valueBins - 1) counts
 * the bins that hold exactly one code.
 */
export function fitCategoryBinMapper(codes: Float32Array, maxBins: number): BinMapper {
  let maxCode = -1;
  for (let i = 0; i < codes.length; i++) if (codes[i] > maxCode) maxCode = codes[i];
  const valueBins = Math.min(maxCode + 2, maxBins);
  const bounds = Array.from({ length: valueBins - 1 }, (_, i) => i + 0.5);
  return { bounds, valueBins, categoryBins: valueBins - 1 };
}

/** A 256-entry table: 1 for the bins that go left. */
export function leftBinTable(bins: readonly number[]): Uint8Array {
  const table = new Uint8Array(256);
  for (const bin of bins) table[bin] = 1;
  return table;
}

/**
 * The best categorical split of one feature whose histogram starts at `offset`, if it gains more
 * than `minGain`. Deterministic: ties in the ordering go by bin, ties in gain to the first found.
 */
export function findCategoricalSplit(
  hist: Float64Array,
  offset: number,
  categoryBins: number,
  search: CategoricalSearch,
  minGain: number,
): CategoricalCandidate | null {
  const { params } = search;
  // Candidate bins: missing (0) and the single-code bins that have rows here.
  const used: number[] = [];
  for (let b = 0; b <= categoryBins; b++) if (hist[offset + b * BIN_STRIDE + 2] > 0) used.push(b);
  if (used.length < 2) return null;
  if (used.length <= params.maxCatToOnehot) return oneVsRest(hist, offset, used, search, minGain);
  return manyVsMany(hist, offset, used, search, minGain);
}

function oneVsRest(
  hist: Float64Array,
  offset: number,
  used: number[],
  search: CategoricalSearch,
  minGain: number,
): CategoricalCandidate | null {
  let best: CategoricalCandidate | null = null;
  let bestGain = minGain;
  for (const b of used) {
    const o = offset + b * BIN_STRIDE;
    const gain = splitGain(search, hist[o], hist[o + 1], hist[o + 2], search.lambda);
    if (gain > bestGain) {
      bestGain = gain;
      best = { gain, bins: [b], g: hist[o], h: hist[o + 1], c: hist[o + 2] };
    }
  }
  return best;
}

function manyVsMany(
  hist: Float64Array,
  offset: number,
  used: number[],
  search: CategoricalSearch,
  minGain: number,
): CategoricalCandidate | null {
  const { params, gradientUnit: su, hessianUnit: hu } = search;
  const ordered = used.filter((b) => hist[offset + b * BIN_STRIDE + 2] >= params.catSmooth);
  // Indexed by bin (at most 256): no per-call map in this per-leaf, per-feature search.
  const ratios = new Float64Array(256);
  for (const b of ordered) ratios[b] = (hist[offset + b * BIN_STRIDE] * su) / (hist[offset + b * BIN_STRIDE + 1] * hu + params.catSmooth);
  ordered.sort((a, b) => ratios[a] - ratios[b] || a - b);
  const maxLeft = Math.min(params.maxCatThreshold, Math.floor((ordered.length + 1) / 2));
  const l2 = search.lambda + params.catL2;

  let best: { gain: number; fromEnd: boolean; count: number; g: number; h: number; c: number } | null = null;
  let bestGain = minGain;
  for (const fromEnd of [false, true]) {
    let g = 0;
    let h = 0;
    let c = 0;
    let group = 0;
    for (let i = 0; i < maxLeft; i++) {
      const o = offset + ordered[fromEnd ? ordered.length - 1 - i : i] * BIN_STRIDE;
      g += hist[o];
      h += hist[o + 1];
      c += hist[o + 2];
      group += hist[o + 2];
      if (c < search.minSamplesLeaf || h * hu < search.minHessianLeaf) continue;
      const rightCount = search.c - c;
      if (rightCount < search.minSamplesLeaf || rightCount < params.minDataPerGroup || (search.h - h) * hu < search.minHessianLeaf) break;
      if (group < params.minDataPerGroup) continue;
      group = 0;
      const gain = splitGain(search, g, h, c, l2);
      if (gain > bestGain) {
        bestGain = gain;
        best = { gain, fromEnd, count: i + 1, g, h, c };
      }
    }
  }
  if (!best) return null;
  const left = best.fromEnd ? ordered.slice(ordered.length - best.count) : ordered.slice(0, best.count);
  return { gain: best.gain, bins: left.sort((a, b) => a - b), g: best.g, h: best.h, c: best.c };
}

/** Gain of sending quantised sums (g, h, c) left, or -Infinity when a side breaks a limit. */
function splitGain(search: CategoricalSearch, g: number, h: number, c: number, l2: number): number {
  const { gradientUnit: su, hessianUnit: hu } = search;
  if (c < search.minSamplesLeaf || search.c - c < search.minSamplesLeaf) return Number.NEGATIVE_INFINITY;
  const hl = h * hu;
  const hr = (search.h - h) * hu;
  if (hl < search.minHessianLeaf || hr < search.minHessianLeaf || !(hl + l2 > 0) || !(hr + l2 > 0)) return Number.NEGATIVE_INFINITY;
  const gl = g * su;
  const gr = (search.g - g) * su;
  return (gl * gl) / (hl + l2) + (gr * gr) / (hr + l2) - search.parentScore;
}

/**
 * Per encoded column: whether it gets native categorical splits — the rank-coded categorical
 * features when params ask for native splits (a frequency-encoded feature's code is a share, not
 * a category, so it stays a number).
 */
export function nativeCategoricalColumns(pipeline: TreeFeaturePipeline, params: Pick<GbdtParams, 'categoricalSplits'>): boolean[] {
  return pipeline.features.flatMap((feature) => {
    if (feature.kind === 'datetime') return feature.parts.map(() => false);
    return [params.categoricalSplits === 'native' && feature.kind === 'categorical' && feature.encoding !== 'frequency'];
  });
}
