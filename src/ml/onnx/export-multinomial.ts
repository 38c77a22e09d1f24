import { multinomialContract, type MultinomialLogisticModel } from '../model';
import { linearFeatureNodes } from './feature-nodes';
import { attribute, floatTensor, node } from './graph-builder';
import { encodeKeelModel } from './model-graph';
import type { NodeProto, TensorProto } from './onnx-proto';

/**
 * Exports a multinomial logistic model, feature pipeline included, as one ONNX graph over raw
 * feature values:
 *
 *   raw features ─ feature-nodes.ts → encoded float32 [N,width] → MatMul(weights [width,K]) → Add(intercepts [K])
 *     → Softmax(axis 1) → probabilities (float32 [N,K], in `classes` order)
 *     → ArgMax(axis 1, keepdims) → label (int64 [N,1], index into `classes`; ties → lowest index)
 *
 * The contract in the metadata lists the classes, so a client can name the label.
 */
export function exportMultinomialOnnx(model: MultinomialLogisticModel): Uint8Array {
  const { pipeline, classes } = model;
  const k = classes.length;
  if (model.weights.length !== k || model.intercepts.length !== k) {
    throw new Error(`the model has ${model.weights.length} weight rows and ${model.intercepts.length} intercepts for ${k} classes`);
  }
  for (const row of model.weights) {
    if (row.length !== pipeline.width)
      throw new Error(`the model has a row of ${row.length} weights for ${pipeline.width} encoded columns`);
  }
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const features = linearFeatureNodes(pipeline, nodes, initializers);
  // [width, K] row-major: element (j, c) is class c's weight of column j.
  const weights = new Array<number>(pipeline.width * k);
  model.weights.forEach((row, c) => row.forEach((w, j) => (weights[j * k + c] = w)));
  initializers.push(floatTensor('weights', [pipeline.width, k], weights), floatTensor('intercepts', [k], model.intercepts));
  nodes.push(
    node('MatMul', [features, 'weights'], ['weighted_sums']),
    node('Add', ['weighted_sums', 'intercepts'], ['scores']),
    node('Softmax', ['scores'], ['probabilities'], [attribute.int('axis', 1)]),
    node('ArgMax', ['probabilities'], ['label'], [attribute.int('axis', 1), attribute.int('keepdims', 1)]),
  );
  return encodeKeelModel({
    graphName: 'keel_multinomial_logistic',
    docString: `multinomial logistic regression predicting ${model.target} (${k} classes)`,
    kind: model.kind,
    target: model.target,
    contract: multinomialContract(model),
    nodes,
    initializers,
  });
}
