import { FLOAT32_MAX, type BinMapper } from './binning';
import { findCategoricalSplit, leftBinTable, type CategoricalSplitParams } from './categorical-split';
import { BIN_STRIDE } from './kernels';
import type { GbdtTree } from './tree';

/** What tree growing needs to know about the bins. */
export interface BinnedLayout {
  mappers: BinMapper[];
  /** Feature f's bins (missing bin 0 first) start at histOffsets[f] in a histogram. */
  histOffsets: Int32Array;
  /** Floats in one histogram. */
  histLength: number;
}

/**
 * The per-row work of growing a tree, on this thread or split across helper threads (the results
 * are identical; see executor.ts). Both work on the executor's row index array.
 */
export interface TreeKernels {
  /** Adds rows[start..end) into `hist` (active features only). */
  buildHistogram(ghBase: number, start: number, end: number, features: Int32Array, activeCount: number, hist: Float64Array): void;
  /** Stable partition of rows[start..end) by a split (a categorical one passes its leftBins table); returns the index of the first right row. */
  partition(start: number, end: number, feature: number, thresholdBin: number, missingLeft: boolean, leftBins: Uint8Array | null): number;
}

export interface TreeConstraints {
  maxLeaves: number;
  maxDepth: number | undefined;
  minSamplesLeaf: number;
  minHessianLeaf: number;
  lambda: number;
  minSplitGain: number;
  learningRate: number;
  /** Native splits on the features whose mapper has categoryBins; absent: every feature splits by threshold. */
  categorical?: CategoricalSplitParams;
}

/** Quantisation of one tree's gradients: real gradient = q · gradientUnit (same for hessians). */
export interface GradientUnits {
  gradient: number;
  hessian: number;
}

export interface GrownTree {
  tree: GbdtTree;
  /** Per leaf: its rows are rows[leafStart[j] .. leafEnd[j]). */
  leafStart: number[];
  leafEnd: number[];
}

interface Split {
  feature: number;
  bin: number;
  missingLeft: boolean;
  gain: number;
  /** Quantised sums of the left child. */
  g: number;
  h: number;
  c: number;
  /** A categorical split: the bins that go left (bin 0 = missing); `bin` is then -1. */
  bins?: number[];
}

interface Leaf {
  start: number;
  end: number;
  depth: number;
  /** Quantised sums of the leaf's rows. */
  g: number;
  h: number;
  c: number;
  /** Internal node whose child pointer leads here (-1: the root), and which side. */
  parent: number;
  isLeft: boolean;
  hist: Float64Array | null;
  split: Split | null;
}

/**
 * Grows one tree best-first (leaf-wise, as LightGBM): the leaf whose best split gains most is
 * split next, until maxLeaves leaves, or no leaf has an allowed split with gain > minSplitGain.
 * With maxDepth and maxLeaves ≥ 2^maxDepth this is depth-wise growth. Ties go to the first
 * candidate (feature order, then bin order, then missing-right before missing-left; leaves in
 * creation order), so the tree is a function of the data alone.
 *
 * Each split builds the histogram of the smaller child only and derives the larger one as
 * parent − smaller (exact: the sums are integers, see kernels.ts).
 */
export function growTree(
  layout: BinnedLayout,
  gh: Int32Array,
  ghBase: number,
  units: GradientUnits,
  rows: Uint32Array,
  rowCount: number,
  features: Int32Array,
  activeCount: number,
  constraints: TreeConstraints,
  kernels: TreeKernels,
  histPool: Float64Array[],
): GrownTree {
  const { mappers, histOffsets, histLength } = layout;
  const takeHist = () => {
    const hist = histPool.pop() ?? new Float64Array(histLength);
    hist.fill(0);
    return hist;
  };
  const release = (leaf: Leaf) => {
    if (leaf.hist) histPool.push(leaf.hist);
    leaf.hist = null;
  };
  const canSplit = (depth: number, count: number) =>
    (constraints.maxDepth === undefined || depth < constraints.maxDepth) && count >= 2 * constraints.minSamplesLeaf;

  const tree: GbdtTree = {
    feature: [],
    threshold: [],
    thresholdBin: [],
    missingLeft: [],
    left: [],
    right: [],
    gain: [],
    leafValue: [],
    leafCount: [],
  };
  const leftCategories: (number[] | null)[] = [];

  const root: Leaf = { start: 0, end: rowCount, depth: 0, g: 0, h: 0, c: rowCount, parent: -1, isLeft: true, hist: null, split: null };
  const leaves: Leaf[] = [root];
  if (canSplit(0, rowCount) && constraints.maxLeaves > 1) {
    root.hist = takeHist();
    kernels.buildHistogram(ghBase, 0, rowCount, features, activeCount, root.hist);
    // Totals from any one feature's bins (all features see every row).
    const o = histOffsets[features[0]];
    const end = o + (mappers[features[0]].valueBins + 1) * BIN_STRIDE;
    for (let i = o; i < end; i += BIN_STRIDE) {
      root.g += root.hist[i];
      root.h += root.hist[i + 1];
    }
    root.split = findBestSplit(root, layout, features, activeCount, units, constraints);
    if (!root.split) release(root);
  } else {
    // A single leaf: its sums come straight from the gradients.
    for (let i = 0; i < rowCount; i++) {
      root.g += gh[ghBase + 2 * rows[i]];
      root.h += gh[ghBase + 2 * rows[i] + 1];
    }
  }

  while (leaves.length < constraints.maxLeaves) {
    let best = -1;
    for (let j = 0; j < leaves.length; j++) {
      const split = leaves[j].split;
      if (split && (best < 0 || split.gain > leaves[best].split!.gain)) best = j;
    }
    if (best < 0) break;
    const parent = leaves[best];
    const split = parent.split!;

    const node = tree.feature.length;
    const mapper = mappers[split.feature];
    tree.feature.push(split.feature);
    tree.thresholdBin.push(split.bin);
    tree.threshold.push(split.bins ? 0 : split.bin < mapper.valueBins ? mapper.bounds[split.bin - 1] : FLOAT32_MAX);
    tree.missingLeft.push(split.missingLeft);
    leftCategories.push(split.bins ? split.bins.filter((bin) => bin > 0).map((bin) => bin - 1) : null);
    tree.gain.push(split.gain);
    tree.left.push(~best);
    tree.right.push(~leaves.length);
    if (parent.parent >= 0) {
      if (parent.isLeft) tree.left[parent.parent] = node;
      else tree.right[parent.parent] = node;
    }

    const mid = kernels.partition(
      parent.start,
      parent.end,
      split.feature,
      split.bin,
      split.missingLeft,
      split.bins ? leftBinTable(split.bins) : null,
    );
    const depth = parent.depth + 1;
    const left: Leaf = {
      start: parent.start,
      end: mid,
      depth,
      g: split.g,
      h: split.h,
      c: split.c,
      parent: node,
      isLeft: true,
      hist: null,
      split: null,
    };
    const right: Leaf = {
      start: mid,
      end: parent.end,
      depth,
      g: parent.g - split.g,
      h: parent.h - split.h,
      c: parent.c - split.c,
      parent: node,
      isLeft: false,
      hist: null,
      split: null,
    };
    if (mid - parent.start !== split.c)
      throw new Error(`internal error: partition sent ${mid - parent.start} rows left, histogram ${split.c}`);
    leaves[best] = left;
    leaves.push(right);

    // The tree is full after this split: the children's histograms and splits would go unused.
    const full = leaves.length >= constraints.maxLeaves;
    const leftCan = !full && canSplit(depth, left.c);
    const rightCan = !full && canSplit(depth, right.c);
    if (leftCan || rightCan) {
      const [small, large] = left.c <= right.c ? [left, right] : [right, left];
      small.hist = takeHist();
      kernels.buildHistogram(ghBase, small.start, small.end, features, activeCount, small.hist);
      if (left.c <= right.c ? rightCan : leftCan) {
        // The larger child's histogram: parent − smaller, in the parent's buffer.
        const hist = parent.hist!;
        parent.hist = null;
        for (let k = 0; k < activeCount; k++) {
          const f = features[k];
          const end = histOffsets[f] + (mappers[f].valueBins + 1) * BIN_STRIDE;
          for (let i = histOffsets[f]; i < end; i++) hist[i] -= small.hist[i];
        }
        large.hist = hist;
      }
      for (const child of [left, right]) {
        if (child.hist && canSplit(depth, child.c)) child.split = findBestSplit(child, layout, features, activeCount, units, constraints);
        if (!child.split) release(child);
      }
    }
    release(parent);
  }
  for (const leaf of leaves) release(leaf);
  if (leftCategories.some((codes) => codes !== null)) tree.leftCategories = leftCategories;

  const shrink = constraints.learningRate;
  const leafStart: number[] = [];
  const leafEnd: number[] = [];
  for (const leaf of leaves) {
    const g = leaf.g * units.gradient;
    const h = leaf.h * units.hessian;
    const denominator = h + constraints.lambda;
    tree.leafValue.push(denominator > 0 ? (-g / denominator) * shrink : 0);
    tree.leafCount.push(leaf.c);
    leafStart.push(leaf.start);
    leafEnd.push(leaf.end);
  }
  return { tree, leafStart, leafEnd };
}

/** The best allowed split of a leaf over the active features, or null. */
function findBestSplit(
  leaf: Leaf,
  layout: BinnedLayout,
  features: Int32Array,
  activeCount: number,
  units: GradientUnits,
  constraints: TreeConstraints,
): Split | null {
  const hist = leaf.hist!;
  const { histOffsets, mappers } = layout;
  const { lambda, minSamplesLeaf, minHessianLeaf } = constraints;
  const su = units.gradient;
  const hu = units.hessian;
  const G = leaf.g;
  const H = leaf.h;
  const C = leaf.c;
  const parentScore = score(G * su, H * hu, lambda);
  let best: Split | null = null;
  let bestGain = constraints.minSplitGain;

  // Evaluates "quantised sums (g, h, c) go left"; keeps it when it beats the best so far.
  const consider = (feature: number, bin: number, missingLeft: boolean, g: number, h: number, c: number) => {
    const rc = C - c;
    if (c < minSamplesLeaf || rc < minSamplesLeaf) return;
    const hl = h * hu;
    const hr = (H - h) * hu;
    if (hl < minHessianLeaf || hr < minHessianLeaf || !(hl + lambda > 0) || !(hr + lambda > 0)) return;
    const gain = score(g * su, hl, lambda) + score((G - g) * su, hr, lambda) - parentScore;
    if (gain > bestGain) {
      bestGain = gain;
      best = { feature, bin, missingLeft, gain, g, h, c };
    }
  };

  for (let k = 0; k < activeCount; k++) {
    const f = features[k];
    const off = histOffsets[f];
    const categoryBins = mappers[f].categoryBins;
    if (categoryBins !== undefined && constraints.categorical) {
      const search = {
        g: G,
        h: H,
        c: C,
        gradientUnit: su,
        hessianUnit: hu,
        lambda,
        minSamplesLeaf,
        minHessianLeaf,
        parentScore,
        params: constraints.categorical,
      };
      const found = findCategoricalSplit(hist, off, categoryBins, search, bestGain);
      if (found) {
        bestGain = found.gain;
        best = {
          feature: f,
          bin: -1,
          missingLeft: found.bins[0] === 0,
          gain: found.gain,
          g: found.g,
          h: found.h,
          c: found.c,
          bins: found.bins,
        };
      }
      continue;
    }
    const valueBins = mappers[f].valueBins;
    const mg = hist[off];
    const mh = hist[off + 1];
    const mc = hist[off + 2];
    let g = 0;
    let h = 0;
    let c = 0;
    for (let t = 1; t < valueBins; t++) {
      const o = off + t * BIN_STRIDE;
      g += hist[o];
      h += hist[o + 1];
      c += hist[o + 2];
      if (c === 0) continue;
      if (c === C - mc) break; // every present value is left already
      if (mc > 0) {
        consider(f, t, false, g, h, c);
        consider(f, t, true, g + mg, h + mh, c + mc);
      } else {
        // No missing value in this leaf: missing follows the larger side.
        consider(f, t, c >= C - c, g, h, c);
      }
    }
    // Present values left, missing right.
    if (mc > 0 && mc < C) consider(f, valueBins, false, G - mg, H - mh, C - mc);
  }
  return best;
}

function score(g: number, h: number, lambda: number): number {
  return (g * g) / (h + lambda);
}
