import type { ModelTask } from '../shared/model-contract';
import { columnBuffers, toFeatureColumns, trainingColumnsInTurns, type FeatureColumn } from './feature-columns';
import type { FeatureSpec } from '../shared/feature-spec';
import type { EncodedMatrix } from './encoded-matrix';
import { encodeColumns, fitFeaturePipelineOnColumns } from './features';
import { binaryLabels, binaryValues, classLabels, codeWithClasses, numericValues, regressionTargets } from './labels';
import { trainLinearRegression } from './linear-regression';
import type { LinearValidation } from './linear-curves';
import { trainLogistic, type LinearFit, type LinearParams } from './logistic';
import type { LinearModel, LinearRegressionModel, LinearTrainingSummary, LogisticModel, MultinomialLogisticModel } from './model';
import { trainMultinomialLogistic, type MultinomialFit } from './multinomial-logistic';
import type { Row } from './row';
import { runWorkerTask } from './worker-thread';

/** `l2` absent: 0 for least squares; for logistic regression, smallDataL2 of the training rows. */
type LinearTrainingParams = Omit<LinearParams, 'l2'> & { l2?: number; maxCategories?: number };

/**
 * The default L2 of logistic regression: scikit-learn's default (C = 1, which is l2 = 1/n on
 * keel's mean loss) on small tables, where an almost separable table would otherwise drive the
 * probabilities to 0/1; never below 1e-4, keel's default for large tables (the flights). Evidence:
 * `npm run bench:small`, docs/features.md.
 */
export function smallDataL2(trainRows: number): number {
  return Math.max(1e-4, 1 / Math.max(1, trainRows));
}

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
  /**
   * Rows the validation learning curve is measured on, after each iteration. Observed only: the
   * weights are the same with or without them. Absent or empty: no validation curve.
   */
  validation?: readonly Row[];
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
type TrainingTargets =
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
  /** Encoded in the worker with the pipeline fitted on `columns`; targets coded as the training targets. */
  validation?: { columns: FeatureColumn[]; targets: TrainingTargets };
}

const knownParams: readonly string[] = ['l2', 'maxIterations', 'tolerance', 'maxCategories'] satisfies (keyof LinearTrainingParams)[];

/** Fits the feature pipeline and the task's linear model on the training rows, synchronously. */
export function trainLinearModel(request: LogisticTrainingRequest, onIteration?: TrainingProgress): LogisticModel;
export function trainLinearModel(
  request: LinearTrainingRequest & { task: 'multiclass' },
  onIteration?: TrainingProgress,
): MultinomialLogisticModel;
export function trainLinearModel(
  request: LinearTrainingRequest & { task: 'regression' },
  onIteration?: TrainingProgress,
): LinearRegressionModel;
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
export function trainInWorkerThread(
  request: LogisticTrainingRequest,
  onProgress?: TrainingProgress,
  options?: { signal?: AbortSignal },
): Promise<LogisticModel>;
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
export function trainInWorkerThread(
  request: LinearTrainingRequest,
  onProgress?: TrainingProgress,
  options?: { signal?: AbortSignal },
): Promise<LinearModel>;
export async function trainInWorkerThread(
  request: LinearTrainingRequest,
  onProgress?: TrainingProgress,
  options: { signal?: AbortSignal } = {},
): Promise<LinearModel> {
  const table = toTrainingTable(request, await trainingColumnsInTurns(request));
  const { validation } = table;
  return runWorkerTask<LinearModel, IterationProgress>(new URL('./train-worker.ts', import.meta.url), table, {
    transferList: [
      ...columnBuffers(table.columns),
      targetBuffer(table.targets),
      ...(validation ? [...columnBuffers(validation.columns), targetBuffer(validation.targets)] : []),
    ],
    onProgress: onProgress && (({ iteration, loss }) => onProgress(iteration, loss)),
    signal: options.signal,
  });
}

export function trainOnTable(table: TrainingTable, onIteration?: TrainingProgress): LinearModel {
  const { target, targets } = table;
  const rowCount =
    targets.task === 'binary' ? targets.labels.length : targets.task === 'multiclass' ? targets.codes.length : targets.values.length;
  const params = { ...table.params, l2: table.params.l2 ?? (targets.task === 'regression' ? 0 : smallDataL2(rowCount)) };
  const pipeline = fitFeaturePipelineOnColumns(table.columns, { maxCategories: params.maxCategories });
  const matrix = encodeColumns(pipeline, table.columns);
  const validation = table.validation && { matrix: encodeColumns(pipeline, table.validation.columns), targets: table.validation.targets };
  switch (targets.task) {
    case 'binary': {
      const fit = trainLogistic(matrix, targets.labels, params, { onIteration, validation: validationOf(validation, 'binary') });
      return {
        kind: 'logistic-regression',
        target,
        pipeline,
        weights: fit.weights,
        intercept: fit.intercept,
        // Until a validation split sets it (withValidatedThreshold), the usual rule.
        threshold: 0.5,
        training: summaryOf(fit),
      };
    }
    case 'multiclass': {
      const fit = trainMultinomialLogistic(matrix, targets.codes, targets.classes.length, params, {
        onIteration,
        validation: validationOf(validation, 'multiclass'),
      });
      return {
        kind: 'multinomial-logistic',
        target,
        classes: targets.classes,
        pipeline,
        weights: fit.weights,
        intercepts: fit.intercepts,
        training: summaryOf(fit),
      };
    }
    case 'regression': {
      const fit = trainLinearRegression(matrix, targets.values, params, {
        onIteration,
        validation: validationOf(validation, 'regression'),
      });
      return {
        kind: 'linear-regression',
        target,
        pipeline,
        weights: fit.weights,
        intercept: fit.intercept,
        training: summaryOf(fit),
      };
    }
  }
}

/** The validation rows with the target array the task's trainer takes. */
function validationOf<Task extends TrainingTargets['task']>(
  validation: { matrix: EncodedMatrix; targets: TrainingTargets } | undefined,
  task: Task,
): LinearValidation<TargetArray<Task>> | undefined {
  if (!validation) return undefined;
  if (validation.targets.task !== task) throw new Error(`validation targets of a ${validation.targets.task} task for a ${task} model`);
  return { matrix: validation.matrix, targets: targetArray(validation.targets) as TargetArray<Task> };
}

type TargetArray<Task extends TrainingTargets['task']> = Task extends 'binary'
  ? Uint8Array
  : Task extends 'multiclass'
    ? Int32Array
    : Float64Array;

function summaryOf(fit: LinearFit | MultinomialFit): LinearTrainingSummary {
  const { iterations, converged, lossHistory, metric, trainCurve, validationCurve } = fit;
  return { iterations, converged, lossHistory, metric, trainCurve, validationCurve };
}

/** `columns`: the rows' feature columns when already read (in turns, by trainInWorkerThread). */
function toTrainingTable(
  { task = 'binary', features, target, params, train, validation }: LinearTrainingRequest,
  columns?: { train: FeatureColumn[]; validation?: FeatureColumn[] },
): TrainingTable {
  if (features.some((feature) => feature.name === target)) {
    throw new Error(`the target "${target}" is also listed as a feature`);
  }
  for (const name of Object.keys(params)) {
    if (!knownParams.includes(name)) throw new Error(`unknown parameter "${name}" of a linear model (known: ${knownParams.join(', ')})`);
  }
  const targets = checkTargets(
    task,
    train.map((row) => row[target]),
    `target "${target}"`,
  );
  return {
    target,
    params,
    columns: columns?.train ?? toFeatureColumns(train, features),
    targets,
    ...(validation?.length && {
      validation: {
        columns: columns?.validation ?? toFeatureColumns(validation, features),
        targets: validationTargets(
          targets,
          validation.map((row) => row[target]),
          `target "${target}" (validation)`,
        ),
      },
    }),
  };
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

/**
 * Validation targets, coded as the training targets (multiclass: with the training classes, an
 * unseen class is an error naming its row, as for GBDT). Unlike training targets they may all be
 * equal: a metric needs no spread.
 */
function validationTargets(training: TrainingTargets, values: unknown[], what: string): TrainingTargets {
  switch (training.task) {
    case 'binary':
      return { task: 'binary', labels: binaryValues(values, what) };
    case 'multiclass':
      return { task: 'multiclass', classes: training.classes, codes: codeWithClasses(values, training.classes, what) };
    case 'regression':
      return { task: 'regression', values: numericValues(values, what) };
  }
}

function targetArray(targets: TrainingTargets): Uint8Array | Int32Array | Float64Array {
  return targets.task === 'binary' ? targets.labels : targets.task === 'multiclass' ? targets.codes : targets.values;
}

function targetBuffer(targets: TrainingTargets): ArrayBuffer {
  return targetArray(targets).buffer as ArrayBuffer;
}
