import { modelContract, type LogisticModel } from '../model';
import { linearFeatureNodes } from './feature-nodes';
import { attribute, floatTensor, node } from './graph-builder';
import { encodeKeelModel } from './model-graph';
import { DataType, type NodeProto, type TensorProto } from './onnx-proto';

/**
 * Exports a logistic model, feature pipeline included, as one ONNX graph that takes raw feature
 * values (so serving cannot drift from training):
 *
 *   numeric x (float32 [N,1]) ─ IsInf → Where(inf → NaN) → Imputer(NaN → mean) → Scaler((x - mean) / std)
 *   categorical x (string [N,1]) ─ OneHotEncoder(vocabulary, unknown → zeros) → Flatten → [N,K]
 *   Concat(axis 1) → MatMul(weights) → Add(intercept) → Sigmoid → probability (float32 [N,1])
 *                                             probability > threshold → Cast → label (int64 [N,1])
 *
 * Missing values: feed NaN for a numeric feature and '' for a categorical one. ±Infinity is
 * treated as missing, like readNumber does in training (Imputer alone replaces only NaN), and so
 * is a value beyond float32's range on both sides. The chains of every feature kind and option
 * (booleans, date parts, clipping, other encodings) are in feature-nodes.ts and docs/features.md.
 *
 * The bytes depend on the model only (no timestamps, no producer version), so exporting the same
 * model twice gives identical bytes.
 */
export function exportLogisticOnnx(model: LogisticModel): Uint8Array {
  const { pipeline } = model;
  if (model.weights.length !== pipeline.width) {
    throw new Error(`the model has ${model.weights.length} weights for ${pipeline.width} encoded columns`);
  }
  const contract = modelContract(model);
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  // The feature pipeline's nodes are shared with the other model families (feature-nodes.ts).
  const features = linearFeatureNodes(pipeline, nodes, initializers);

  initializers.push(
    floatTensor('weights', [pipeline.width, 1], model.weights),
    floatTensor('intercept', [1], [model.intercept]),
    floatTensor('label_threshold', [], [model.threshold]),
  );
  nodes.push(
    node('MatMul', [features, 'weights'], ['weighted_sum']),
    node('Add', ['weighted_sum', 'intercept'], ['logit']),
    node('Sigmoid', ['logit'], ['probability']),
    node('Greater', ['probability', 'label_threshold'], ['is_positive']),
    node('Cast', ['is_positive'], ['label'], [attribute.int('to', DataType.INT64)]),
  );

  return encodeKeelModel({
    graphName: 'keel_logistic_regression',
    docString: `logistic regression predicting ${model.target}`,
    kind: model.kind,
    target: model.target,
    contract,
    nodes,
    initializers,
  });
}
