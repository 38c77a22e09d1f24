import { cancellationSignal, log } from '@temporalio/activity';
import { readDatasetRows } from '../src/data/dataset-store';
import type { GbdtCheckpoint } from '../src/ml/gbdt/booster';
import { checkTargetValues } from '../src/ml/labels';
import type { Row } from '../src/ml/row';
import { partitionRowsInTurns } from '../src/ml/split-in-turns';
import { metricsOfScores, scoreMeaningOf } from '../src/ml/task-evaluation';
import { trainForTask, type TaskTrainingRequest } from '../src/ml/train-for-task';
import { predictOutputsInWorkerThread } from '../src/ml/predict-in-worker-thread';
import { learningCurveOf, type TrainedModel } from '../src/ml/trained-model';
import {
  clearTrainingCheckpoint,
  earlierTrials,
  finishedTrainingRun,
  findTrainingCheckpoint,
  recordTrainingCheckpoint,
  recordTrainingRun,
  saveEvaluation,
  type TrainingCheckpointRef,
  trainingRunIdOf,
} from '../src/registry/training-runs';
import type { CanonicalCategories } from '../src/shared/category-spellings';
import type { ModelTask } from '../src/shared/model-contract';
import type { FeatureSpec } from '../src/shared/feature-spec';
import type { GbdtTrainerSpec, LinearRegressionTrainerSpec, LogisticTrainerSpec, SplitSpec } from '../src/shared/pipeline-input';
import type { SearchDimension } from '../src/shared/search-space';
import type { ModelMetrics } from '../src/shared/model-metrics';
import type { Observation } from '../src/shared/tpe';
import { warmStartObservations } from '../src/shared/tpe-warm-start';
import { latestWins } from '../src/runtime/latest-wins';
import { currentRun } from './current-run';
import { heartbeating } from './heartbeating';
import type { ActivityDeps } from './deps';

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
  /** Stored with the model, so its ONNX graph canonicalises categorical text as ingest did. */
  canonicalCategories?: CanonicalCategories;
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
   * and its reference to `training_checkpoints`, keyed by the training run id. A retried attempt
   * resumes from the newest one recorded there, whether or not its heartbeat reached Temporal
   * (a worker killed mid-send, or the Temporal server down), and the final model is byte-identical
   * to an uninterrupted run's. Heartbeats carry progress only. Linear models heartbeat each
   * iteration.
   */
  async function fit(
    input: TrainModelInput,
    trainingRunId: string,
    train: Row[],
    validation: Row[],
    stored: TrainingCheckpointRef | undefined,
    resumed: { iteration?: number },
  ): Promise<TrainedModel> {
    const task = input.task ?? 'binary';
    // A cancelled attempt stops training. The server gives an attempt up when its heartbeats stop
    // arriving (a Temporal outage): its next heartbeat learns so, and it must not keep a core busy
    // next to the retry, which resumes from the checkpoint it stored.
    const request = {
      task,
      features: input.features,
      target: input.target,
      trainer: input.trainer,
      train,
      validation,
      signal: cancellationSignal(),
    };
    // The training thread takes seconds to start on a busy machine (longer than a short heartbeat
    // timeout), and an iteration may too: the latest progress is re-sent every second meanwhile.
    return heartbeating({ trial: input.trial, phase: 'starting training' }, (report) =>
      fitReporting(input, trainingRunId, request, stored, resumed, report),
    );
  }

  async function fitReporting(
    input: TrainModelInput,
    trainingRunId: string,
    request: Omit<TaskTrainingRequest, 'onIteration' | 'onGbdtProgress' | 'resumeFrom'>,
    stored: TrainingCheckpointRef | undefined,
    resumed: { iteration?: number },
    report: (progress: Record<string, unknown>) => void,
  ): Promise<TrainedModel> {
    if (input.trainer.kind !== 'gbdt') {
      return trainForTask({ ...request, onIteration: (iteration, loss) => report({ trial: input.trial, iteration, loss }) });
    }
    const resumeFrom = stored ? await artifacts.getJson<GbdtCheckpoint>(stored.artifactSha256) : undefined;
    resumed.iteration = resumeFrom?.iteration;
    let checkpointIteration = resumeFrom?.iteration;
    // Storing a checkpoint (JSON of every tree so far: megabytes late in a long run) can be
    // slower than growing the next ten trees. Only the newest waiting one is stored, so the stored
    // checkpoint lags by at most one write, and finishing never waits for a backlog. Resting three
    // times as long as each write took keeps the store to a quarter of a core next to training: a
    // retry may redo the trees of four writes' time, well under a second even at 8 MB.
    const saving = latestWins(
      async (checkpoint: GbdtCheckpoint) => {
        // Never fatal: a checkpoint that cannot be stored (the database briefly away) only means a
        // retry would resume from an earlier one.
        try {
          const artifactSha256 = await artifacts.putJson(checkpoint);
          await recordTrainingCheckpoint(database.db, trainingRunId, { iteration: checkpoint.iteration, artifactSha256 });
          checkpointIteration = checkpoint.iteration;
        } catch (error) {
          log.warn('checkpoint not stored; training goes on', { trainingRunId, iteration: checkpoint.iteration, error: String(error) });
        }
      },
      { restFactor: 3 },
    );
    const model = await trainForTask({
      ...request,
      resumeFrom,
      onGbdtProgress: ({ iteration, totalIterations, trainMetric, validationMetric, checkpoint }) => {
        report({
          trial: input.trial,
          iteration,
          totalIterations,
          trainMetric,
          validationMetric,
          resumedFrom: resumeFrom?.iteration,
          checkpointIteration,
        });
        if (checkpoint) saving.offer(checkpoint);
      },
    });
    await saving.flush();
    return model;
  }

  /** The result of a run an earlier attempt already recorded, whose checkpoint is then of no use. */
  async function recordedResult(trainingRunId: string): Promise<TrainModelResult | undefined> {
    const done = await finishedTrainingRun(database.db, trainingRunId);
    if (!done) return undefined;
    await clearTrainingCheckpoint(database.db, trainingRunId);
    return {
      trainingRunId,
      modelArtifactSha256: done.modelArtifactSha256,
      iterations: (done.learningCurve as { train: unknown[] }).train.length,
      trainSeconds: done.trainSeconds,
      validationMetrics: done.validationMetrics,
      resumedFromIteration: done.resumedFromIteration ?? undefined,
    };
  }

  return {
    /**
     * Trainer: fits the feature pipeline and the model on the train split, off the main thread,
     * heartbeating each iteration, then (binary) sets the decision threshold on the validation
     * split and scores it (what tuning ranks trials by). The trained model (JSON) goes to the artifact
     * store and the run, with its learning curve, to `training_runs`; a retry finds it recorded.
     */
    async trainModel(input: TrainModelInput): Promise<TrainModelResult> {
      const run = currentRun();
      const trainingRunId = trainingRunIdOf(run, input.trial);
      const recorded = await recordedResult(trainingRunId);
      if (recorded) return recorded;

      const rows = await heartbeating({ trial: input.trial, phase: 'loading rows' }, () =>
        readDatasetRows(database.db, input.datasetVersionId),
      );
      // An earlier attempt may still be running (its heartbeats lost while the Temporal server was
      // away) and finish while this one loads rows. It records its run before clearing its
      // checkpoint, so the checkpoint is read first: none there means none was ever stored, or the
      // run is recorded now, and training from scratch is only right in the first case.
      const stored = await findTrainingCheckpoint(database.db, trainingRunId);
      if (!stored) {
        const finishedMeanwhile = await recordedResult(trainingRunId);
        if (finishedMeanwhile) return finishedMeanwhile;
      }
      // On the whole version first, so a bad value is named by its dataset row, not its split row.
      checkTargetValues(
        rows.map((row) => row[input.target]),
        input.task ?? 'binary',
        `target "${input.target}"`,
      );
      const { train, validation } = await partitionRowsInTurns(rows, input.split);
      const started = performance.now();
      const resumed: { iteration?: number } = {};
      const fitted = await fit(input, trainingRunId, train, validation, stored, resumed);
      const model: TrainedModel = input.canonicalCategories ? { ...fitted, canonicalCategories: input.canonicalCategories } : fitted;
      const trainSeconds = (performance.now() - started) / 1000;
      const { validationMetrics, modelArtifactSha256 } = await heartbeating(
        { trial: input.trial, phase: 'scoring and storing' },
        async () => {
          const validationMetrics = metricsOfScores(
            scoreMeaningOf(model),
            validation.map((row) => row[input.target]),
            await predictOutputsInWorkerThread(model, validation),
          );
          const modelArtifactSha256 = await artifacts.putJson(model);
          await recordTrainingRun(database.db, run, {
            trial: input.trial,
            model: input.model,
            datasetVersionId: input.datasetVersionId,
            trainer: input.trainer,
            modelArtifactSha256,
            learningCurve: learningCurveOf(model),
            trainSeconds,
            resumedFromIteration: resumed.iteration,
            validationMetrics,
          });
          return { validationMetrics, modelArtifactSha256 };
        },
      );
      await clearTrainingCheckpoint(database.db, trainingRunId);
      return {
        trainingRunId,
        modelArtifactSha256,
        iterations: model.training.iterations,
        trainSeconds,
        validationMetrics,
        resumedFromIteration: resumed.iteration,
      };
    },

    /**
     * A warm-started TPE study's prior knowledge: the trials earlier runs of the model recorded
     * (the newest 500), as observations within today's search space. The workflow records the
     * answer, so a replay plans from the same trials.
     */
    async earlierTuningTrials(input: {
      model: string;
      kind: string;
      space: Record<string, SearchDimension>;
      metric: { name: string; higherIsBetter: boolean };
    }): Promise<Observation[]> {
      return warmStartObservations(await earlierTrials(database.db, input.model, 500), input);
    },

    /** Records the test-split evaluation and the gate's decision with the training run. */
    async recordEvaluation(input: { trainingRunId: string; evaluation: unknown; gate: { passed: boolean; reasons: string[] } }) {
      await saveEvaluation(database.db, input.trainingRunId, { evaluation: input.evaluation, gate: input.gate });
    },
  };
}
