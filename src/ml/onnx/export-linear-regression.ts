import { linearRegressionContract, type LinearRegressionModel } from '../model';
import { linearFeatureNodes } from './feature-nodes';
import { floatTensor, node } from './graph-builder';
import { encodeKeelModel } from './model-graph';
import type { NodeProto, TensorProto } from './onnx-proto';

/**
 * Exports a linear regression model, feature pipeline included, as one ONNX graph over raw
 * feature values:
 *
 *   raw features ─ feature-nodes.ts → encoded float32 [N,width] → MatMul(weights [width,1]) → Add(intercept)
 *     → prediction (float32 [N,1])
 *
 * Weights and intercept are rounded to float32, so predictions agree with predictLinearRegression
 * to float32 precision relative to their magnitude (about 1e-7 of max(1, |y|) per term).
 */
export function exportLinearRegressionOnnx(model: LinearRegressionModel): Uint8Array {
  const { pipeline } = model;
  if (model.weights.length !== pipeline.width) {
    throw new Error(`the model has ${model.weights.length} weights for ${pipeline.width} encoded columns`);
  }
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const features = linearFeatureNodes(pipeline, nodes, initializers);
  initializers.push(floatTensor('weights', [pipeline.width, 1], model.weights), floatTensor('intercept', [1], [model.intercept]));
  nodes.push(node('MatMul', [features, 'weights'], ['weighted_sum']), node('Add', ['weighted_sum', 'intercept'], ['prediction']));
  return encodeKeelModel({
    graphName: 'keel_linear_regression',
    docString: `linear regression predicting ${model.target}`,
    kind: model.kind,
    target: model.target,
    contract: linearRegressionContract(model),
    nodes,
    initializers,
  });
}
