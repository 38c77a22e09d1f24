import type { GbdtModel } from '../gbdt/model';
import { attribute, floatTensor, uint8Tensor } from './graph-builder';
import type { AttributeProto } from './onnx-proto';

/** nodes_modes codes of ai.onnx.ml 5 TreeEnsemble. */
const BRANCH_LEQ = 0;
const BRANCH_MEMBER = 6;

/**
 * The attributes of an ai.onnx.ml opset 5 `TreeEnsemble` for a GBDT model with native
 * categorical splits. A categorical node becomes BRANCH_MEMBER over its left category codes (the
 * float codes the graph's LabelEncoder emits); a threshold node stays BRANCH_LEQ. Interior nodes
 * and leaves are numbered across the ensemble: tree t's node i is entry nodeBase_t + i, its leaf j
 * entry leafBase_t + j. A tree without splits is one LEQ node whose both branches reach its leaf.
 * A categorical node whose left set holds only missing values tests x ≤ -1 (false for every
 * code), NaN following missing_value_tracks_true, so no empty set is ever written.
 *
 * There are no base values in opset 5: the caller adds them with an `Add` node.
 */
export function treeEnsembleV5Attributes(model: GbdtModel): AttributeProto[] {
  const roots: number[] = [];
  const featureIds: number[] = [];
  const modes: number[] = [];
  const splits: number[] = [];
  const trueIds: number[] = [];
  const trueLeafs: number[] = [];
  const falseIds: number[] = [];
  const falseLeafs: number[] = [];
  const missingTracksTrue: number[] = [];
  const members: number[] = [];
  const leafTargets: number[] = [];
  const leafWeights: number[] = [];

  for (const [t, tree] of model.trees.entries()) {
    const nodeBase = featureIds.length;
    const leafBase = leafWeights.length;
    roots.push(nodeBase);
    const pointTo = (child: number, ids: number[], leafs: number[]) => {
      ids.push(child >= 0 ? nodeBase + child : leafBase + ~child);
      leafs.push(child >= 0 ? 0 : 1);
    };
    if (tree.feature.length === 0) {
      featureIds.push(0);
      modes.push(BRANCH_LEQ);
      splits.push(0);
      pointTo(-1, trueIds, trueLeafs);
      pointTo(-1, falseIds, falseLeafs);
      missingTracksTrue.push(0);
    }
    for (let i = 0; i < tree.feature.length; i++) {
      featureIds.push(tree.feature[i]);
      const categories = tree.leftCategories?.[i];
      if (categories && categories.length > 0) {
        modes.push(BRANCH_MEMBER);
        splits.push(0);
        if (members.length > 0) members.push(Number.NaN);
        members.push(...categories);
      } else {
        modes.push(BRANCH_LEQ);
        splits.push(categories ? -1 : tree.threshold[i]);
      }
      pointTo(tree.left[i], trueIds, trueLeafs);
      pointTo(tree.right[i], falseIds, falseLeafs);
      missingTracksTrue.push(tree.missingLeft[i] ? 1 : 0);
    }
    for (const value of tree.leafValue) {
      leafTargets.push(t % model.outputs);
      leafWeights.push(value);
    }
  }

  return [
    attribute.ints('tree_roots', roots),
    attribute.ints('nodes_featureids', featureIds),
    attribute.tensor('nodes_modes', uint8Tensor('nodes_modes', [modes.length], modes)),
    attribute.tensor('nodes_splits', floatTensor('nodes_splits', [splits.length], splits)),
    attribute.ints('nodes_truenodeids', trueIds),
    attribute.ints('nodes_trueleafs', trueLeafs),
    attribute.ints('nodes_falsenodeids', falseIds),
    attribute.ints('nodes_falseleafs', falseLeafs),
    attribute.ints('nodes_missing_value_tracks_true', missingTracksTrue),
    ...(members.length > 0 ? [attribute.tensor('membership_values', floatTensor('membership_values', [members.length], members))] : []),
    attribute.ints('leaf_targetids', leafTargets),
    attribute.tensor('leaf_weights', floatTensor('leaf_weights', [leafWeights.length], leafWeights)),
    attribute.int('n_targets', model.outputs),
    // aggregate_function (SUM) and post_transform (NONE) are left at their defaults.
  ];
}

/** Whether a model has native categorical splits (and so needs TreeEnsemble, ai.onnx.ml 5). */
export function hasCategoricalSplits(model: GbdtModel): boolean {
  return model.trees.some((tree) => tree.leftCategories?.some((codes) => codes !== null));
}
