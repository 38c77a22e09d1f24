import { gbdtContract, type GbdtModel } from '../gbdt/model';
import { attribute, floatTensor, node } from './graph-builder';
import { hasCategoricalSplits, treeEnsembleV5Attributes } from './tree-ensemble-v5';
import { treeFeatureNodes } from './feature-nodes';
import { encodeKeelModel } from './model-graph';
import { DataType, type NodeProto, type TensorProto } from './onnx-proto';

export interface GbdtExportOptions {
  /**
   * How native categorical splits are written: 'member' (default) as ai.onnx.ml 5 BRANCH_MEMBER
   * nodes; 'equality-chains' as chains of BRANCH_EQ nodes in TreeEnsembleRegressor at ai.onnx.ml 3,
   * for runtimes without opset 5 (onnxruntime < 1.21).
   */
  categoricalNodes?: 'member' | 'equality-chains';
}

/**
 * Exports a gradient-boosted tree model, feature pipeline included, as one ONNX graph over raw
 * feature values:
 *
 *   numeric x (float32 [N,1]) ─ IsInf → Where(±inf → NaN)                       ┐
 *   categorical x (string [N,1]) ─ LabelEncoder(frequency code; '' → NaN; else unknown code) ┤
 *   Concat(axis 1) → [N,F] → ai.onnx.ml TreeEnsembleRegressor (BRANCH_LEQ, SUM) → raw [N,K]
 *   binary:     Sigmoid → probability [N,1];  probability > threshold → Cast → label int64 [N,1]
 *   multiclass: Softmax(axis 1) → probabilities [N,K];  ArgMax(axis 1) → label int64 [N,1]
 *   regression: the ensemble's output is `prediction` [N,1]
 *
 * TreeEnsembleRegressor (raw scores) followed by standard ops avoids TreeEnsembleClassifier's
 * label and post-transform quirks. Each split sets nodes_missing_value_tracks_true from the
 * learned default direction (1: NaN goes to the "x ≤ threshold" branch). Thresholds are the
 * float32 bin bounds used in training, so every row reaches the same leaf as in predictGbdt; the
 * ensemble sums float32 leaf values, so outputs agree with the float64 TypeScript prediction to
 * float32 rounding (about 1e-7 relative).
 *
 * Opsets: ONNX 13, ai.onnx.ml 3 (LabelEncoder string → float needs ml ≥ 2). A model with native
 * categorical splits uses ai.onnx.ml 5 instead: `TreeEnsemble` with BRANCH_MEMBER nodes over the
 * LabelEncoder's category codes, then `Add` of the base scores (tree-ensemble-v5.ts); its
 * contract says so (`treeEnsemble`). The bytes depend on the model only: exporting the same
 * model twice gives identical bytes.
 */
export function exportGbdtOnnx(model: GbdtModel, options: GbdtExportOptions = {}): Uint8Array {
  const contract = gbdtContract(model, options.categoricalNodes);
  const { pipeline, outputs } = model;
  if (model.baseScores.length !== outputs) throw new Error(`the model has ${model.baseScores.length} base scores for ${outputs} outputs`);
  if (model.trees.length % outputs !== 0)
    throw new Error(`the model has ${model.trees.length} trees, not a multiple of its ${outputs} outputs`);

  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const features = treeFeatureNodes(pipeline, nodes, initializers);

  const rawName = model.objective === 'regression' ? 'prediction' : 'raw_score';
  const categorical = hasCategoricalSplits(model) && options.categoricalNodes !== 'equality-chains';
  if (categorical) {
    initializers.push(floatTensor('base_scores', [1, outputs], model.baseScores));
    nodes.push(
      node('TreeEnsemble', [features], ['tree_sum'], treeEnsembleV5Attributes(model), 'ai.onnx.ml'),
      node('Add', ['tree_sum', 'base_scores'], [rawName]),
    );
  } else {
    nodes.push(node('TreeEnsembleRegressor', [features], [rawName], ensembleAttributes(model), 'ai.onnx.ml'));
  }

  if (model.objective === 'binary') {
    initializers.push(floatTensor('label_threshold', [], [model.threshold ?? 0.5]));
    nodes.push(
      node('Sigmoid', [rawName], ['probability']),
      node('Greater', ['probability', 'label_threshold'], ['is_positive']),
      node('Cast', ['is_positive'], ['label'], [attribute.int('to', DataType.INT64)]),
    );
  } else if (model.objective === 'multiclass') {
    nodes.push(
      node('Softmax', [rawName], ['probabilities'], [attribute.int('axis', 1)]),
      node('ArgMax', ['probabilities'], ['label'], [attribute.int('axis', 1), attribute.int('keepdims', 1)]),
    );
  }

  return encodeKeelModel({
    graphName: 'keel_gbdt',
    docString: `gradient-boosted trees (${model.objective}) predicting ${model.target}`,
    kind: model.kind,
    objective: model.objective,
    target: model.target,
    contract,
    nodes,
    initializers,
    ...(categorical && { mlOpset: 5 }),
  });
}

/**
 * The TreeEnsembleRegressor attributes. Per tree, internal node i has ONNX node id i and leaf j
 * has id splits + j; a tree without splits is one LEAF node.
 */
function ensembleAttributes(model: GbdtModel) {
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const modes: string[] = [];
  const values: number[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const missingTracksTrue: number[] = [];
  const targetTreeIds: number[] = [];
  const targetNodeIds: number[] = [];
  const targetIds: number[] = [];
  const targetWeights: number[] = [];

  model.trees.forEach((tree, t) => {
    const splits = tree.feature.length;
    // A categorical node {c1..cm} is a chain "x = c1", "x = c2"… whose true branches all lead to
    // its left child (ids splits, splits + 1…, before the leaves); the last false branch is its right child.
    const chained = (tree.leftCategories ?? []).reduce((n, codes) => n + Math.max(0, (codes?.length ?? 0) - 1), 0);
    const id = (child: number) => (child >= 0 ? child : splits + chained + ~child);
    const push = (nodeId: number, feature: number, mode: string, value: number, trueId: number, falseId: number, missingTrue: boolean) => {
      treeIds.push(t);
      nodeIds.push(nodeId);
      featureIds.push(feature);
      modes.push(mode);
      values.push(value);
      trueIds.push(trueId);
      falseIds.push(falseId);
      missingTracksTrue.push(missingTrue ? 1 : 0);
    };
    let nextChained = splits;
    const extras: Parameters<typeof push>[] = [];
    for (let i = 0; i < splits; i++) {
      const codes = tree.leftCategories?.[i];
      if (!codes) {
        push(i, tree.feature[i], 'BRANCH_LEQ', tree.threshold[i], id(tree.left[i]), id(tree.right[i]), tree.missingLeft[i]);
      } else if (codes.length === 0) {
        // Only missing values go left: no code is ≤ -1.
        push(i, tree.feature[i], 'BRANCH_LEQ', -1, id(tree.left[i]), id(tree.right[i]), tree.missingLeft[i]);
      } else {
        const chain = [i, ...codes.slice(1).map(() => nextChained++)];
        codes.forEach((code, k) => {
          const node: Parameters<typeof push> = [
            chain[k],
            tree.feature[i],
            'BRANCH_EQ',
            code,
            id(tree.left[i]),
            k + 1 < chain.length ? chain[k + 1] : id(tree.right[i]),
            k === 0 && tree.missingLeft[i],
          ];
          if (k === 0) push(...node);
          else extras.push(node);
        });
      }
    }
    for (const node of extras) push(...node);
    tree.leafValue.forEach((value, j) => {
      treeIds.push(t);
      nodeIds.push(splits + chained + j);
      featureIds.push(0);
      modes.push('LEAF');
      values.push(0);
      trueIds.push(0);
      falseIds.push(0);
      missingTracksTrue.push(0);
      targetTreeIds.push(t);
      targetNodeIds.push(splits + chained + j);
      targetIds.push(t % model.outputs);
      targetWeights.push(value);
    });
  });

  return [
    attribute.ints('nodes_treeids', treeIds),
    attribute.ints('nodes_nodeids', nodeIds),
    attribute.ints('nodes_featureids', featureIds),
    attribute.strings('nodes_modes', modes),
    attribute.floats('nodes_values', values),
    attribute.ints('nodes_truenodeids', trueIds),
    attribute.ints('nodes_falsenodeids', falseIds),
    attribute.ints('nodes_missing_value_tracks_true', missingTracksTrue),
    attribute.ints('target_treeids', targetTreeIds),
    attribute.ints('target_nodeids', targetNodeIds),
    attribute.ints('target_ids', targetIds),
    attribute.floats('target_weights', targetWeights),
    attribute.int('n_targets', model.outputs),
    // aggregate_function (SUM) and post_transform (NONE) are left at their defaults.
    attribute.floats('base_values', model.baseScores),
  ];
}
