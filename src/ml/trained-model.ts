import type { CanonicalCategories } from '../shared/category-spellings';
import { withCanonicalCategories } from './onnx/canonical-nodes';
import type { ModelContract, ModelTask } from '../shared/model-contract';
import { toFeatureColumnsInTurns, type FeatureColumn } from './feature-columns';
import { gbdtClasses, gbdtContract, predictGbdt, predictGbdtColumns, type GbdtModel } from './gbdt/model';
import {
  linearRegressionContract,
  modelContract,
  multinomialContract,
  predictClassProbabilities,
  predictLinearRegression,
  predictProba,
  type PredictionInput,
  type LinearRegressionModel,
  type LogisticModel,
  type MultinomialLogisticModel,
} from './model';
import { exportGbdtOnnx } from './onnx/export-gbdt';
import { exportLinearRegressionOnnx } from './onnx/export-linear-regression';
import { exportLogisticOnnx } from './onnx/export-logistic';
import { exportMultinomialOnnx } from './onnx/export-multinomial';
import type { Row } from './row';

/**
 * Every model keel trains itself, as stored (JSON) in the artifact store. `canonicalCategories`
 * (set by the training activity from the dataset spec) makes the exported graph canonicalise
 * categorical text as ingest did (src/ml/onnx/canonical-nodes.ts).
 */
export type TrainedModel = (LogisticModel | MultinomialLogisticModel | LinearRegressionModel | GbdtModel) & {
  canonicalCategories?: CanonicalCategories;
};

/**
 * The learning curve as stored with a training run: per-iteration metric on train (and
 * validation). GBDT and linear models record the same metrics (rmse, logloss, multi_logloss).
 */
export interface LearningCurve {
  metric: string;
  train: number[];
  validation: number[] | null;
}

/** What the model predicts. */
export function taskOf(model: TrainedModel): ModelTask {
  switch (model.kind) {
    case 'logistic-regression':
      return 'binary';
    case 'multinomial-logistic':
      return 'multiclass';
    case 'linear-regression':
      return 'regression';
    case 'gbdt':
      return model.objective === 'regression' ? 'regression' : model.objective;
  }
}

/** multiclass: the class names, in output order; otherwise undefined. */
export function classesOf(model: TrainedModel): string[] | undefined {
  if (model.kind === 'multinomial-logistic') return [...model.classes];
  if (model.kind === 'gbdt' && model.objective === 'multiclass') return gbdtClasses(model);
  return undefined;
}

/**
 * The model's outputs for raw rows, in float64, computed in process exactly as the exported ONNX
 * graph computes them: binary, P(target = 1) per row; regression, the prediction per row;
 * multiclass, K probabilities per row, row-major, in `classes` order.
 */
export function predictOutputs(model: TrainedModel, input: PredictionInput): Float64Array {
  switch (model.kind) {
    case 'logistic-regression':
      return predictProba(model, input);
    case 'multinomial-logistic':
      return predictClassProbabilities(model, input);
    case 'linear-regression':
      return predictLinearRegression(model, input);
    case 'gbdt':
      return 'columns' in input ? predictGbdtColumns(model, input.columns) : predictGbdt(model, input);
  }
}

/**
 * The model's feature columns, read from rows exactly as predicting on the rows reads them, a
 * block of rows per event-loop turn.
 */
export function modelFeatureColumnsInTurns(model: TrainedModel, rows: readonly Row[]): Promise<FeatureColumn[]> {
  return toFeatureColumnsInTurns(
    rows,
    model.pipeline.features.map(({ name, kind }) => ({ name, kind })),
  );
}

/** P(positive) per row of a binary model (predictOutputs for the binary task). */
export function predictProbability(model: TrainedModel, rows: readonly Row[]): Float64Array {
  const task = taskOf(model);
  if (task !== 'binary') throw new Error(`predictProbability needs a binary model, got a ${task} ${model.kind} model`);
  return predictOutputs(model, rows);
}

export function exportOnnx(model: TrainedModel): Uint8Array {
  return withCanonicalCategories(exportModelGraph(model), model.canonicalCategories ?? {});
}

function exportModelGraph(model: TrainedModel): Uint8Array {
  switch (model.kind) {
    case 'logistic-regression':
      return exportLogisticOnnx(model);
    case 'multinomial-logistic':
      return exportMultinomialOnnx(model);
    case 'linear-regression':
      return exportLinearRegressionOnnx(model);
    case 'gbdt':
      return exportGbdtOnnx(model);
  }
}

/**
 * The contract a registered version stores (src/shared/model-contract.ts), task included, and a
 * binary model's decision threshold when it has one.
 */
export function contractOf(model: TrainedModel): ModelContract {
  const contract = contractWithoutThreshold(model);
  return 'threshold' in model && model.threshold !== undefined ? { ...contract, threshold: model.threshold } : contract;
}

function contractWithoutThreshold(model: TrainedModel): ModelContract {
  switch (model.kind) {
    case 'logistic-regression':
      return { task: 'binary', ...modelContract(model) };
    case 'multinomial-logistic':
      return multinomialContract(model);
    case 'linear-regression':
      return linearRegressionContract(model);
    case 'gbdt': {
      const { task: _written, ...contract } = gbdtContract(model);
      return { task: taskOf(model), ...contract };
    }
  }
}

export function learningCurveOf(model: TrainedModel): LearningCurve {
  return { metric: model.training.metric, train: model.training.trainCurve, validation: model.training.validationCurve };
}

/** Sets the decision threshold of a binary model (the ONNX `label` output uses it). */
export function withThreshold<T extends TrainedModel>(model: T, threshold: number): T {
  const task = taskOf(model);
  if (task !== 'binary') throw new Error(`only a binary model has a decision threshold, got a ${task} model`);
  return { ...model, threshold };
}

/**
 * Reads a stored learning curve, including the bare loss arrays recorded by keel's first version
 * (a binary logistic model's objective). Runs of linear models recorded before they had curves
 * stored their objective under a metric named "objective (…)", and read back as stored.
 */
export function readLearningCurve(stored: unknown): LearningCurve {
  if (Array.isArray(stored)) return { metric: 'objective (mean log loss + L2)', train: stored as number[], validation: null };
  const curve = stored as Partial<LearningCurve> | null;
  return { metric: curve?.metric ?? 'unknown', train: curve?.train ?? [], validation: curve?.validation ?? null };
}
