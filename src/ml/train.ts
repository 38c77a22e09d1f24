import { columnBuffers, toFeatureColumns, type FeatureColumn } from './feature-columns';
import type { FeatureSpec } from './feature-spec';
import { encodeColumns, fitFeaturePipelineOnColumns } from './features';
import { binaryLabels } from './labels';
import { trainLogistic, type LogisticParams } from './logistic';
import type { LogisticModel } from './model';
import type { Row } from './row';
import { runWorkerTask } from './worker-thread';

export interface LogisticTrainingRequest {
  features: FeatureSpec[];
  target: string;
  params: LogisticParams & { maxCategories?: number };
  train: readonly Row[];
}

export type TrainingProgress = (iteration: number, loss: number) => void;

/** The message a training worker posts after each iteration. */
export interface IterationProgress {
  iteration: number;
  loss: number;
}

/**
 * A training request in columnar form. Both entry points train on this, so training in a worker
 * runs exactly the code that trains in-thread and gives bit-identical weights.
 */
export interface TrainingTable {
  target: string;
  params: LogisticTrainingRequest['params'];
  columns: FeatureColumn[];
  labels: Uint8Array;
}

/** Fits the feature pipeline and the model on the training rows, synchronously. */
export function trainLogisticModel(request: LogisticTrainingRequest, onIteration?: TrainingProgress): LogisticModel {
  return trainOnTable(toTrainingTable(request), onIteration);
}

/**
 * The same training in a worker thread, so the caller's event loop stays free (for activity
 * heartbeats); `onProgress` is called after each iteration. The rows are converted to columns
 * here, before the worker starts, so only typed arrays and distinct category strings cross over.
 */
export async function trainInWorkerThread(
  request: LogisticTrainingRequest,
  onProgress?: TrainingProgress,
  options: { signal?: AbortSignal } = {},
): Promise<LogisticModel> {
  const table = toTrainingTable(request);
  return runWorkerTask<LogisticModel, IterationProgress>(new URL('./train-worker.ts', import.meta.url), table, {
    transferList: [...columnBuffers(table.columns), table.labels.buffer as ArrayBuffer],
    onProgress: onProgress && (({ iteration, loss }) => onProgress(iteration, loss)),
    signal: options.signal,
  });
}

export function trainOnTable(table: TrainingTable, onIteration?: TrainingProgress): LogisticModel {
  const pipeline = fitFeaturePipelineOnColumns(table.columns, { maxCategories: table.params.maxCategories });
  const fit = trainLogistic(encodeColumns(pipeline, table.columns), table.labels, table.params, onIteration);
  return {
    kind: 'logistic-regression',
    target: table.target,
    pipeline,
    weights: fit.weights,
    intercept: fit.intercept,
    // Until a validation split sets it (withValidatedThreshold), the usual rule.
    threshold: 0.5,
    training: { iterations: fit.iterations, converged: fit.converged, lossHistory: fit.lossHistory },
  };
}

function toTrainingTable({ features, target, params, train }: LogisticTrainingRequest): TrainingTable {
  if (features.some((feature) => feature.name === target)) {
    throw new Error(`the target "${target}" is also listed as a feature`);
  }
  return {
    target,
    params,
    columns: toFeatureColumns(train, features),
    labels: binaryLabels(train.map((row) => row[target]), `target "${target}"`),
  };
}
