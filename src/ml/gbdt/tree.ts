import { binnedLeaf } from './kernels';

/**
 * One regression tree, as stored in the model JSON. Internal nodes and leaves are numbered
 * separately (as in LightGBM): node 0 is the root when the tree has any split; a child pointer
 * c ≥ 0 is an internal node, c < 0 is leaf ~c (so -1 is leaf 0). A tree without splits is the
 * single leaf 0.
 */
export interface GbdtTree {
  /** Per internal node: the feature it tests (index in the pipeline). */
  feature: number[];
  /** float32 threshold: a present value x goes left iff float32(x) ≤ threshold. */
  threshold: number[];
  /** The same test on training bins: bin b ≥ 1 goes left iff b ≤ thresholdBin (bin 0 = missing). */
  thresholdBin: number[];
  /** Where a missing value goes (learned: the side that gained more). */
  missingLeft: boolean[];
  left: number[];
  right: number[];
  /** Loss reduction of each split (feature importance by gain). */
  gain: number[];
  /** Per leaf: the value added to the raw score, learning rate included. */
  leafValue: number[];
  /** Per leaf: the training rows (of the iteration's bag) that reached it. */
  leafCount: number[];
  /**
   * Only in trees with native categorical splits: per internal node, the category codes that go
   * left (ascending), or null for a threshold split. A categorical node ignores threshold and
   * thresholdBin (-1); missing goes left iff missingLeft; any other code goes right.
   */
  leftCategories?: (number[] | null)[];
}

/** A tree's arrays as typed arrays, for fast traversal of binned rows. */
export interface PackedTree {
  splits: number;
  feature: Int32Array;
  thresholdBin: Int32Array;
  missingLeft: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  leafValue: Float64Array;
  /** With categorical nodes: 256 bytes per node, 1 where that bin goes left (see leftBinTable); else null. */
  leftBins: Uint8Array | null;
}

export function packTree(tree: GbdtTree): PackedTree {
  return {
    splits: tree.feature.length,
    feature: Int32Array.from(tree.feature),
    thresholdBin: Int32Array.from(tree.thresholdBin),
    missingLeft: Uint8Array.from(tree.missingLeft, (b) => (b ? 1 : 0)),
    left: Int32Array.from(tree.left),
    right: Int32Array.from(tree.right),
    leafValue: Float64Array.from(tree.leafValue),
    leftBins: packLeftBins(tree),
  };
}

function packLeftBins(tree: GbdtTree): Uint8Array | null {
  if (!tree.leftCategories) return null;
  const table = new Uint8Array(256 * tree.feature.length);
  tree.leftCategories.forEach((codes, node) => {
    if (!codes) return;
    table[256 * node] = tree.missingLeft[node] ? 1 : 0;
    for (const code of codes) table[256 * node + code + 1] = 1;
  });
  return table;
}

/**
 * scores[r·stride + offset] += the tree's leaf value for each binned row r in [start, end).
 * Training updates scores with this (or leaf by leaf, which adds the same values in the same
 * order), and resuming from a checkpoint replays it tree by tree: the scores come out identical.
 */
export function addTreeToScores(
  tree: PackedTree,
  bins: Uint8Array,
  featureCount: number,
  scores: Float64Array,
  stride: number,
  offset: number,
  start: number,
  end: number,
): void {
  if (tree.splits === 0) {
    const value = tree.leafValue[0];
    for (let r = start; r < end; r++) scores[r * stride + offset] += value;
    return;
  }
  const { feature, thresholdBin, missingLeft, left, right, leafValue, leftBins } = tree;
  for (let r = start; r < end; r++) {
    scores[r * stride + offset] += leafValue[binnedLeaf(bins, featureCount, r, feature, thresholdBin, missingLeft, left, right, leftBins)];
  }
}
