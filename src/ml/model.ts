import type { ContractInputType } from '../shared/model-contract';
import { linearPredictor } from './encoded-matrix';
import { contractInputs } from './feature-contract';
import { encodeRows, type FittedFeaturePipeline } from './features';
import { sigmoid } from './logistic';
import type { Row } from './row';

/** A trained model as stored (JSON): the fitted feature pipeline and the coefficients. */
export interface LogisticModel {
  kind: 'logistic-regression';
  /** The label column it was trained to predict (1 = positive class). */
  target: string;
  pipeline: FittedFeaturePipeline;
  /** One per encoded column, in pipeline order. */
  weights: number[];
  intercept: number;
  /** `label` is 1 when probability > threshold; chosen on the validation split (see threshold.ts). */
  threshold: number;
  training: { iterations: number; converged: boolean; lossHistory: number[] };
}

/**
 * What the exported ONNX model takes and returns: one [N, 1] input per feature, named as the
 * feature (float32 for numeric features, NaN = missing; string for categorical ones, '' =
 * missing), and two [N, 1] outputs.
 */
export interface ModelContract {
  inputs: { name: string; type: ContractInputType }[];
  outputs: { name: 'probability' | 'label'; type: 'float32' | 'int64'; shape: [-1, 1] }[];
}

/** P(target = 1) per row, in float64, applying the same pipeline as the ONNX graph. */
export function predictProba(model: LogisticModel, rows: readonly Row[]): Float64Array {
  const scores = linearPredictor(encodeRows(model.pipeline, rows), model.weights, model.intercept);
  return scores.map(sigmoid);
}

export function modelContract(model: LogisticModel): ModelContract {
  return {
    inputs: contractInputs(model.pipeline.features),
    outputs: [
      { name: 'probability', type: 'float32', shape: [-1, 1] },
      // 1 when probability > the model's threshold.
      { name: 'label', type: 'int64', shape: [-1, 1] },
    ],
  };
}
