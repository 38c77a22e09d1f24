import type { ModelTask } from '../shared/model-contract';
import type { FeatureSpec } from '../shared/feature-spec';
import type { GbdtTrainerSpec, LinearRegressionTrainerSpec, LogisticTrainerSpec } from '../shared/pipeline-input';
import type { GbdtCheckpoint, GbdtProgress } from './gbdt/booster';
import { trainGbdtInWorkerThread } from './gbdt/train';
import { predictOutputsInWorkerThread } from './predict-in-worker-thread';
import type { Row } from './row';
import { withValidatedThreshold } from './threshold';
import { trainInWorkerThread } from './train';
import type { TrainedModel } from './trained-model';

/** A trainer keel runs itself (the `command` trainer runs a user's program instead). */
type KeelTrainerSpec = LogisticTrainerSpec | LinearRegressionTrainerSpec | GbdtTrainerSpec;

export interface TaskTrainingRequest {
  task: ModelTask;
  features: FeatureSpec[];
  target: string;
  trainer: KeelTrainerSpec;
  train: readonly Row[];
  /**
   * Early stopping (GBDT), a binary model's decision threshold and the validation learning curve
   * use it. A linear model's weights do not depend on it (it is only measured on).
   */
  validation: readonly Row[];
  /** Linear models: after each optimiser iteration, with the objective's value. */
  onIteration?: (iteration: number, loss: number) => void;
  /** GBDT: after each boosting iteration; every `checkpointEvery` iterations it carries a checkpoint. */
  onGbdtProgress?: (progress: GbdtProgress) => void;
  /** GBDT: resume from this checkpoint (a retried activity). */
  resumeFrom?: GbdtCheckpoint;
  /** Aborting stops the training thread (a cancelled or timed-out activity) and rejects. */
  signal?: AbortSignal;
}

/**
 * Trains the pipeline's model for a task, off the main thread, exactly as the training activity
 * does — `keel models reproduce` calls the same function, so a reproduction runs the same code
 * path. A binary model's decision threshold is then chosen on the validation split.
 */
export async function trainForTask(request: TaskTrainingRequest): Promise<TrainedModel> {
  const { task, features, target, trainer, train, validation } = request;
  const trained: TrainedModel =
    trainer.kind === 'gbdt'
      ? await trainGbdtInWorkerThread(
          { features, target, params: trainer.params, train, validation },
          {
            threads: trainer.threads,
            checkpointEvery: trainer.checkpointEvery,
            resumeFrom: request.resumeFrom,
            onProgress: request.onGbdtProgress,
            signal: request.signal,
          },
        )
      : await trainInWorkerThread(
          {
            task,
            features,
            target,
            params: {
              l2: trainer.l2,
              maxIterations: trainer.maxIterations,
              tolerance: trainer.tolerance,
              maxCategories: trainer.maxCategories,
            },
            train,
            validation,
          },
          request.onIteration,
          { signal: request.signal },
        );
  if (task !== 'binary' || validation.length === 0) return trained;
  return withValidatedThreshold(trained, validation, await predictOutputsInWorkerThread(trained, validation));
}
