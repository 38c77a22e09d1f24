import { activityInfo, heartbeat } from '@temporalio/activity';
import { readDatasetRows } from '../src/data/dataset-store';
import type { GbdtCheckpoint } from '../src/ml/gbdt/booster';
import type { Row } from '../src/ml/row';
import { partitionRows } from '../src/ml/split';
import { metricsOfScores, scoreMeaningOf } from '../src/ml/task-evaluation';
import { trainForTask } from '../src/ml/train-for-task';
import { learningCurveOf, predictOutputs, type TrainedModel } from '../src/ml/trained-model';
import type { ModelTask } from '../src/shared/model-contract';
import type { FeatureSpec, GbdtTrainerSpec, LinearRegressionTrainerSpec, LogisticTrainerSpec, SplitSpec } from '../src/shared/pipeline-input';
import type { ModelMetrics } from '../src/shared/pipeline-result';
import { currentRun } from './current-run';
import type { ActivityDeps } from './deps';
import { findTrainingRun, recordTrainingRun, saveEvaluation } from './training-run';

export interface TrainModelInput {
  model: string;
  datasetVersionId: string;
  features: FeatureSpec[];
  target: string;
  /** Absent in histories recorded before tasks existed: binary. */
  task?: ModelTask;
  trainer: LogisticTrainerSpec | LinearRegressionTrainerSpec | GbdtTrainerSpec;
  split: SplitSpec;
  /** `main` for a plain run; a tuning trial's name otherwise. One training run per trial. */
  trial: string;
}

export interface TrainModelResult {
  trainingRunId: string;
  modelArtifactSha256: string;
  iterations: number;
  trainSeconds: number;
  validationMetrics: ModelMetrics;
  /** Set when this attempt resumed from a checkpoint left by an earlier, interrupted attempt. */
  resumedFromIteration?: number;
}

export function trainActivities({ database, artifacts }: ActivityDeps) {
  /**
   * GBDT checkpoints: every `checkpointEvery` trees the partial model goes to the artifact store
   * and its hash into the heartbeat. When the worker dies, Temporal retries the activity with the
   * last heartbeat's details, and training resumes from that checkpoint; the final model is
   * byte-identical to an uninterrupted run. Linear models heartbeat each iteration.
   */
  async function fit(input: TrainModelInput, train: Row[], validation: Row[], resumed: { iteration?: number }): Promise<TrainedModel> {
    const task = input.task ?? 'binary';
    const request = { task, features: input.features, target: input.target, trainer: input.trainer, train, validation };
    if (input.trainer.kind !== 'gbdt') {
      return trainForTask({ ...request, onIteration: (iteration, loss) => heartbeat({ trial: input.trial, iteration, loss }) });
    }
    const previous = activityInfo().heartbeatDetails as { checkpointSha256?: string } | undefined;
    const resumeFrom = previous?.checkpointSha256 ? await artifacts.getJson<GbdtCheckpoint>(previous.checkpointSha256) : undefined;
    resumed.iteration = resumeFrom?.iteration;
    // Re-announce the checkpoint at once: should this attempt die before its first progress
    // heartbeat, the next one must still find where to resume.
    if (previous?.checkpointSha256) heartbeat({ trial: input.trial, iteration: resumeFrom?.iteration, checkpointSha256: previous.checkpointSha256 });
    let checkpointSha256 = previous?.checkpointSha256;
    let saving = Promise.resolve();
    const model = await trainForTask({
      ...request,
      resumeFrom,
      onGbdtProgress: ({ iteration, totalIterations, trainMetric, validationMetric, checkpoint }) => {
        const progress = { trial: input.trial, iteration, totalIterations, trainMetric, validationMetric, resumedFrom: resumeFrom?.iteration };
        if (!checkpoint) {
          heartbeat({ ...progress, checkpointSha256 });
          return;
        }
        // Store in order; the heartbeat names a checkpoint only once its bytes are stored.
        saving = saving.then(async () => {
          checkpointSha256 = await artifacts.putJson(checkpoint);
          heartbeat({ ...progress, checkpointSha256 });
        });
      },
    });
    await saving;
    return model;
  }

  return {
    /**
     * Trainer: fits the feature pipeline and the model on the train split, off the main thread,
     * heartbeating each iteration, then (binary) sets the decision threshold on the validation
     * split and scores it (what tuning ranks trials by). The trained model (JSON) goes to the artifact
     * store and the run, with its learning curve, to `training_runs`; a retry finds it recorded.
     */
    async trainModel(input: TrainModelInput): Promise<TrainModelResult> {
      const { workflowId, runId } = currentRun();
      const trainingRunId = `${workflowId}/${runId}/${input.trial}`;
      const done = await findTrainingRun(database.db, trainingRunId);
      if (done?.validationMetrics) {
        return {
          trainingRunId,
          modelArtifactSha256: done.modelArtifactSha256,
          iterations: (done.learningCurve as { train: unknown[] }).train.length,
          trainSeconds: done.trainSeconds,
          validationMetrics: done.validationMetrics as ModelMetrics,
        };
      }

      const rows = await readDatasetRows(database.db, input.datasetVersionId);
      const { train, validation } = partitionRows(rows, input.split);
      const started = performance.now();
      const resumed: { iteration?: number } = {};
      const model = await fit(input, train, validation, resumed);
      const trainSeconds = (performance.now() - started) / 1000;
      const validationMetrics = metricsOfScores(scoreMeaningOf(model), validation.map((row) => row[input.target]), predictOutputs(model, validation));
      const modelArtifactSha256 = await artifacts.putJson(model);
      await recordTrainingRun(database.db, {
        id: trainingRunId,
        trial: input.trial,
        modelName: input.model,
        workflowId,
        runId,
        datasetVersionId: input.datasetVersionId,
        trainer: input.trainer,
        modelArtifactSha256,
        learningCurve: learningCurveOf(model),
        trainSeconds,
        validationMetrics,
      });
      return { trainingRunId, modelArtifactSha256, iterations: model.training.iterations, trainSeconds, validationMetrics, resumedFromIteration: resumed.iteration };
    },

    /** Records the test-split evaluation and the gate's decision with the training run. */
    async recordEvaluation(input: { trainingRunId: string; evaluation: unknown; gate: { passed: boolean; reasons: string[] } }) {
      await saveEvaluation(database.db, input.trainingRunId, { evaluation: input.evaluation, gate: input.gate });
    },
  };
}
