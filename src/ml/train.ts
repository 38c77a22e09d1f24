import type { ModelTask } from '../shared/model-contract';
import { columnBuffers, toFeatureColumns, type FeatureColumn } from './feature-columns';
import type { FeatureSpec } from './feature-spec';
import { encodeColumns, fitFeaturePipelineOnColumns } from './features';
import { binaryLabels, classLabels, regressionTargets } from './labels';
import { trainLinearRegression } from './linear-regression';
import { trainLogistic, type LinearParams } from './logistic';
import type { LinearModel, LinearRegressionModel, LogisticModel, MultinomialLogisticModel } from './model';
import { trainMultinomialLogistic } from './multinomial-logistic';
import type { Row } from './row';
import { runWorkerTask } from './worker-thread';

export type LinearTrainingParams = LinearParams & { maxCategories?: number };

/**
 * A linear model to train: `task` picks the model (binary → logistic regression, multiclass →
 * multinomial logistic regression, regression → least squares / ridge); absent means binary.
 */
export interface LinearTrainingRequest {
  task?: ModelTask;
  features: FeatureSpec[];
  target: string;
  params: LinearTrainingParams;
  train: readonly Row[];
}

/** A binary request (the only kind before tasks existed). */
export type LogisticTrainingRequest = LinearTrainingRequest & { task?: 'binary' };

export type TrainingProgress = (iteration: number, loss: number) => void;

/** The message a training worker posts after each iteration. */
export interface IterationProgress {
  iteration: number;
  loss: number;
}

/** The target, checked and coded for its task (labels.ts). */
export type TrainingTargets =
  | { task: 'binary'; labels: Uint8Array }
  | { task: 'multiclass'; classes: string[]; codes: Int32Array }
  | { task: 'regression'; values: Float64Array };

/**
 * A training request in columnar form. Both entry points train on this, so training in a worker
 * runs exactly the code that trains in-thread and gives bit-identical weights.
 */
export interface TrainingTable {
  target: string;
  params: LinearTrainingParams;
  columns: FeatureColumn[];
  targets: TrainingTargets;
}

const knownParams: readonly string[] = ['l2', 'maxIterations', 'tolerance', 'maxCategories'] satisfies (keyof LinearTrainingParams)[];

/** Fits the feature pipeline and the task's linear model on the training rows, synchronously. */
export function trainLinearModel(request: LogisticTrainingRequest, onIteration?: TrainingProgress): LogisticModel;
export function trainLinearModel(request: LinearTrainingRequest & { task: 'multiclass' }, onIteration?: TrainingProgress): MultinomialLogisticModel;
export function trainLinearModel(request: LinearTrainingRequest & { task: 'regression' }, onIteration?: TrainingProgress): LinearRegressionModel;
export function trainLinearModel(request: LinearTrainingRequest, onIteration?: TrainingProgress): LinearModel;
export function trainLinearModel(request: LinearTrainingRequest, onIteration?: TrainingProgress): LinearModel {
  return trainOnTable(toTrainingTable(request), onIteration);
}

/** Binary logistic regression (trainLinearModel for the binary task). */
export function trainLogisticModel(request: LogisticTrainingRequest, onIteration?: TrainingProgress): LogisticModel {
  return trainLinearModel(request, onIteration);
}

/**
 * The same training in a worker thread, so the caller's event loop stays free (for activity
 * heartbeats); `onProgress` is called after each iteration. The rows are converted to columns
 * and the target checked here, before the worker starts, so a bad target fails without a worker
 * and only typed arrays and distinct strings cross over.
 */
export function trainInWorkerThread(request: LogisticTrainingRequest, onProgress?: TrainingProgress, options?: { signal?: AbortSignal }): Promise<LogisticModel>;
export function trainInWorkerThread(
  request: LinearTrainingRequest & { task: 'multiclass' },
  onProgress?: TrainingProgress,
  options?: { signal?: AbortSignal },
): Promise<MultinomialLogisticModel>;
export function trainInWorkerThread(
  request: LinearTrainingRequest & { task: 'regression' },
  onProgress?: TrainingProgress,
  options?: { signal?: AbortSignal },
): Promise<LinearRegressionModel>;
export function trainInWorkerThread(request: LinearTrainingRequest, onProgress?: TrainingProgress, options?: { signal?: AbortSignal }): Promise<LinearModel>;
export async function trainInWorkerThread(
  request: LinearTrainingRequest,
  onProgress?: TrainingProgress,
  options: { signal?: AbortSignal } = {},
): Promise<LinearModel> {
  const table = toTrainingTable(request);
  return runWorkerTask<LinearModel, IterationProgress>(new URL('./train-worker.ts', import.meta.url), table, {
    transferList: [...columnBuffers(table.columns), targetBuffer(table.targets)],
    onProgress: onProgress && (({ iteration, loss }) => onProgress(iteration, loss)),
    signal: options.signal,
  });
}

export function trainOnTable(table: TrainingTable, onIteration?: TrainingProgress): LinearModel {
  const { target, params, targets } = table;
  const pipeline = fitFeaturePipelineOnColumns(table.columns, { maxCategories: params.maxCategories });
  const matrix = encodeColumns(pipeline, table.columns);
  switch (targets.task) {
    case 'binary': {
      const fit = trainLogistic(matrix, targets.labels, params, onIteration);
      return {
        kind: 'logistic-regression',
        target,
        pipeline,
        weights: fit.weights,
        intercept: fit.intercept,
        // Until a validation split sets it (withValidatedThreshold), the usual rule.
        threshold: 0.5,
        training: { iterations: fit.iterations, converged: fit.converged, lossHistory: fit.lossHistory },
      };
    }
    case 'multiclass': {
      const fit = trainMultinomialLogistic(matrix, targets.codes, targets.classes.length, params, onIteration);
      return {
        kind: 'multinomial-logistic',
        target,
        classes: targets.classes,
        pipeline,
        weights: fit.weights,
        intercepts: fit.intercepts,
        training: { iterations: fit.iterations, converged: fit.converged, lossHistory: fit.lossHistory },
      };
    }
    case 'regression': {
      const fit = trainLinearRegression(matrix, targets.values, params, onIteration);
      return {
        kind: 'linear-regression',
        target,
        pipeline,
        weights: fit.weights,
        intercept: fit.intercept,
        training: { iterations: fit.iterations, converged: fit.converged, lossHistory: fit.lossHistory },
      };
    }
  }
}

function toTrainingTable({ task = 'binary', features, target, params, train }: LinearTrainingRequest): TrainingTable {
  if (features.some((feature) => feature.name === target)) {
    throw new Error(`the target "${target}" is also listed as a feature`);
  }
  for (const name of Object.keys(params)) {
    if (!knownParams.includes(name)) throw new Error(`unknown parameter "${name}" of a linear model (known: ${knownParams.join(', ')})`);
  }
  return { target, params, columns: toFeatureColumns(train, features), targets: checkTargets(task, train.map((row) => row[target]), `target "${target}"`) };
}

function checkTargets(task: ModelTask, values: unknown[], what: string): TrainingTargets {
  switch (task) {
    case 'binary':
      return { task, labels: binaryLabels(values, what) };
    case 'multiclass':
      return { task, ...classLabels(values, what) };
    case 'regression':
      return { task, values: regressionTargets(values, what) };
  }
}

function targetBuffer(targets: TrainingTargets): ArrayBuffer {
  const array = targets.task === 'binary' ? targets.labels : targets.task === 'multiclass' ? targets.codes : targets.values;
  return array.buffer as ArrayBuffer;
}
