import { describe, expect, it } from 'vitest';
import { addLeafValues, flattenTrees } from '../../src/ml/gbdt/flat-ensemble';
import type { GbdtTree } from '../../src/ml/gbdt/tree';

/** The trees' meaning, as written in GbdtTree's comments, walked node by node. */
function walk(tree: GbdtTree, values: number[]): number {
  if (tree.feature.length === 0) return tree.leafValue[0];
  let node = 0;
  while (node >= 0) {
    const x = values[tree.feature[node]];
    const codes = tree.leftCategories?.[node];
    const goLeft = Number.isNaN(x) ? tree.missingLeft[node] : codes ? codes.includes(x) : x <= tree.threshold[node];
    node = goLeft ? tree.left[node] : tree.right[node];
  }
  return tree.leafValue[~node];
}

function tree(parts: Partial<GbdtTree> & Pick<GbdtTree, 'feature' | 'left' | 'right' | 'leafValue'>): GbdtTree {
  const n = parts.feature.length;
  return {
    threshold: new Array(n).fill(0),
    thresholdBin: new Array(n).fill(0),
    missingLeft: new Array(n).fill(false),
    gain: new Array(n).fill(1),
    leafCount: parts.leafValue.map(() => 1),
    ...parts,
  };
}

// Feature 0 numeric, feature 1 a category code.
const trees: GbdtTree[] = [
  tree({ feature: [0], threshold: [0.5], missingLeft: [true], left: [~0], right: [~1], leafValue: [-1, 1] }),
  tree({
    feature: [1, 0],
    threshold: [-1, Math.fround(2.25)],
    missingLeft: [false, false],
    leftCategories: [[0, 31, 32, 254], null],
    left: [~0, ~1],
    right: [1, ~2],
    leafValue: [10, 20, 30],
  }),
  tree({ feature: [], left: [], right: [], leafValue: [0.125] }),
  tree({ feature: [1], threshold: [-1], missingLeft: [true], leftCategories: [[3]], left: [~0], right: [~1], leafValue: [100, 200] }),
];
const rows = [
  [0.25, 0],
  [0.5, 31],
  [Math.fround(0.5000001), 32],
  [Number.NaN, 254],
  [2.25, 255],
  [3, 1],
  [1, Number.NaN],
  [1, 3],
  [1, 3.5],
  [1, -1],
  [1, 300],
];

describe('the flattened GBDT ensemble', () => {
  it('adds the leaf each tree gives each row, as the trees read node by node do', () => {
    for (const outputs of [1, 2]) {
      const columns = [Float32Array.from(rows, (row) => row[0]), Float32Array.from(rows, (row) => row[1])];
      const out = new Float64Array(rows.length * outputs);
      addLeafValues(flattenTrees(trees), columns, outputs, out);
      const expected = new Float64Array(rows.length * outputs);
      rows.forEach((_, r) => {
        const values = [columns[0][r], columns[1][r]];
        trees.forEach((t, i) => (expected[r * outputs + (i % outputs)] += walk(t, values)));
      });
      expect(Array.from(out)).toEqual(Array.from(expected));
    }
  });

  it('sends codes in the set left and every other code right, missing ones as learned', () => {
    const out = new Float64Array(rows.length);
    addLeafValues(flattenTrees([trees[1]]), [Float32Array.from(rows, () => 3), Float32Array.from(rows, (row) => row[1])], 1, out);
    // In the set (0, 31, 32, 254) → leaf 10; else the numeric node: 3 > 2.25 → 30.
    expect(Array.from(out)).toEqual([10, 10, 10, 10, 30, 30, 30, 30, 30, 30, 30]);
  });

  it('refuses a category code no 256-bit set can hold', () => {
    const bad = tree({ feature: [1], threshold: [-1], leftCategories: [[256]], left: [~0], right: [~1], leafValue: [0, 1] });
    expect(() => flattenTrees([bad])).toThrow(/category code 256/);
  });
});
