import { contractOutputs, type ContractInputType, type ModelContract as TaskContract } from '../shared/model-contract';
import { linearPredictor } from './encoded-matrix';
import type { FeatureColumn } from './feature-columns';
import { encodeColumns, encodeRows, type FittedFeaturePipeline } from './features';
import { contractInputs } from './feature-contract';
import type { LinearCurves } from './linear-curves';
import { sigmoid } from './logistic';
import { softmaxRows } from './multinomial-logistic';
import type { Row } from './row';

/**
 * keel's linear models as stored (JSON): the fitted feature pipeline (features.ts) and the
 * coefficients over its encoded columns. One family, three tasks.
 */

/**
 * What the optimiser did: iterations run, whether it converged, the objective it minimised
 * (mean loss + L2 penalty) after each iteration, and the learning curves (linear-curves.ts): the
 * metric, without penalty, on the training and the validation rows after each iteration.
 */
export interface LinearTrainingSummary extends LinearCurves {
  iterations: number;
  converged: boolean;
  lossHistory: number[];
}

/** Binary logistic regression. */
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
  training: LinearTrainingSummary;
}

/** Multinomial (softmax) logistic regression: one weight row and one intercept per class. */
export interface MultinomialLogisticModel {
  kind: 'multinomial-logistic';
  target: string;
  /** Class names; output column k is the probability of classes[k] (see labels.ts classLabels). */
  classes: string[];
  pipeline: FittedFeaturePipeline;
  /** K rows of pipeline.width weights. */
  weights: number[][];
  intercepts: number[];
  training: LinearTrainingSummary;
}

/** Least-squares (l2 = 0) or ridge regression. */
export interface LinearRegressionModel {
  kind: 'linear-regression';
  target: string;
  pipeline: FittedFeaturePipeline;
  weights: number[];
  intercept: number;
  training: LinearTrainingSummary;
}

export type LinearModel = LogisticModel | MultinomialLogisticModel | LinearRegressionModel;

/**
 * The binary contract as keel has always written it into ONNX metadata (no `task`: binary is
 * the default), kept byte for byte so re-exporting an old model reproduces its bytes.
 * contractOf (trained-model.ts) adds the task.
 */
export interface ModelContract {
  inputs: { name: string; type: ContractInputType }[];
  outputs: { name: 'probability' | 'label'; type: 'float32' | 'int64'; shape: [-1, 1] }[];
}

/**
 * What a model predicts on: rows, or the model's feature columns already read from rows
 * (modelFeatureColumnsInTurns in trained-model.ts: the same values, so the same predictions; columns
 * cross into a worker thread without a copy).
 */
export type PredictionInput = readonly Row[] | { columns: readonly FeatureColumn[] };

function encodeInput(pipeline: FittedFeaturePipeline, input: PredictionInput) {
  return 'columns' in input ? encodeColumns(pipeline, input.columns) : encodeRows(pipeline, input);
}

/** P(target = 1) per row, in float64, applying the same pipeline as the ONNX graph. */
export function predictProba(model: LogisticModel, input: PredictionInput): Float64Array {
  const scores = linearPredictor(encodeInput(model.pipeline, input), model.weights, model.intercept);
  return scores.map(sigmoid);
}

/** The predicted target per row, in float64, applying the same pipeline as the ONNX graph. */
export function predictLinearRegression(model: LinearRegressionModel, input: PredictionInput): Float64Array {
  return linearPredictor(encodeInput(model.pipeline, input), model.weights, model.intercept);
}

/** Class probabilities, row-major (K per row, in `classes` order), as the ONNX graph computes them. */
export function predictClassProbabilities(model: MultinomialLogisticModel, input: PredictionInput): Float64Array {
  const matrix = encodeInput(model.pipeline, input);
  const k = model.classes.length;
  const scores = new Float64Array(k * matrix.rowCount);
  model.weights.forEach((weights, c) => {
    linearPredictor(matrix, weights, model.intercepts[c], scores.subarray(c * matrix.rowCount, (c + 1) * matrix.rowCount));
  });
  return softmaxRows(scores, matrix.rowCount, k, new Float64Array(k * matrix.rowCount));
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

/** The contract of a linear regression model: raw feature inputs, `prediction` float32 [N,1]. */
export function linearRegressionContract(model: LinearRegressionModel): TaskContract {
  return { task: 'regression', inputs: contractInputs(model.pipeline.features), outputs: contractOutputs('regression') };
}

/** The contract of a multinomial model: `probabilities` float32 [N,K] in `classes` order, `label` int64 [N,1]. */
export function multinomialContract(model: MultinomialLogisticModel): TaskContract {
  return {
    task: 'multiclass',
    inputs: contractInputs(model.pipeline.features),
    classes: [...model.classes],
    outputs: contractOutputs('multiclass', model.classes.length),
  };
}
