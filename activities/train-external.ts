import { heartbeat } from '@temporalio/activity';
import { readDatasetRows } from '../src/data/dataset-store';
import { externalContract, runExternalTrainer, verifyExternalModel } from '../src/ml/external-trainer';
import { checkTargetValues, classLabels } from '../src/ml/labels';
import { partitionRowsInTurns } from '../src/ml/split-in-turns';
import { registeredCommand } from '../src/ml/trainer-commands';
import { finishedTrainingRun, recordTrainingRun, trainingRunIdOf } from '../src/registry/training-runs';
import { metricsOfScores } from '../src/ml/task-evaluation';
import type { ModelContract, ModelTask } from '../src/shared/model-contract';
import type { FeatureSpec } from '../src/shared/feature-spec';
import type { CommandTrainerSpec, SplitSpec } from '../src/shared/pipeline-input';
import type { ModelMetrics } from '../src/shared/model-metrics';
import { currentRun } from './current-run';
import type { ActivityDeps } from './deps';

export interface ExternalTrainingOutcome {
  trainingRunId: string;
  onnxSha256: string;
  bytes: number;
  contract: ModelContract;
  validationMetrics: ModelMetrics;
  trainSeconds: number;
}

export function trainExternalActivities({ database, artifacts, trainers = {}, trainerUser, logger }: ActivityDeps) {
  let warnedRoot = false;
  return {
    /**
     * Bring-your-own Trainer: runs the configured program on the train and validation splits,
     * verifies the model.onnx it writes against the feature contract, scores the validation split
     * with it, and records the run (with the program's own metrics.json beside keel's).
     */
    async trainExternalModel(input: {
      model: string;
      datasetVersionId: string;
      features: FeatureSpec[];
      target: string;
      task: ModelTask;
      trainer: CommandTrainerSpec;
      split: SplitSpec;
      trial: string;
    }): Promise<ExternalTrainingOutcome> {
      const run = currentRun();
      const trainingRunId = trainingRunIdOf(run, input.trial);
      const done = await finishedTrainingRun(database.db, trainingRunId);
      if (done) {
        const { contract } = done.trainer as { contract: ModelContract };
        const onnx = await artifacts.get(done.modelArtifactSha256);
        return {
          trainingRunId,
          onnxSha256: done.modelArtifactSha256,
          bytes: onnx.byteLength,
          contract,
          validationMetrics: done.validationMetrics,
          trainSeconds: done.trainSeconds,
        };
      }

      // Refused before any work: only what the operator registered runs.
      const command = registeredCommand('trainer.command', input.trainer.command, trainers);
      if (!trainerUser && process.getuid?.() === 0 && !warnedRoot) {
        warnedRoot = true;
        logger.warn(
          { trainer: input.trainer.command },
          'the command trainer runs as root: set KEEL_TRAINER_USER=uid:gid to run trainer programs as an unprivileged user (docs/security.md)',
        );
      }
      const rows = await readDatasetRows(database.db, input.datasetVersionId);
      // On the whole version first, so a bad value is named by its dataset row, not its split row.
      checkTargetValues(
        rows.map((row) => row[input.target]),
        input.task,
        `target "${input.target}"`,
      );
      const { train, validation } = await partitionRowsInTurns(rows, input.split);
      // Classes come from the training rows, sorted as keel's own trainers sort them; the program
      // gets them in params.json and its `probabilities` columns must follow that order.
      const classes =
        input.task === 'multiclass'
          ? classLabels(
              train.map((row) => row[input.target]),
              `target "${input.target}"`,
            ).classes
          : undefined;
      const contract = externalContract(input.features, input.task, classes);
      const result = await runExternalTrainer({
        command: command.argv,
        passEnv: command.passEnv,
        user: trainerUser,
        params: input.trainer.params,
        features: input.features,
        target: input.target,
        task: input.task,
        classes,
        train,
        validation,
        timeoutMs: input.trainer.timeoutSeconds * 1000,
        onWaiting: (elapsedSeconds) => heartbeat({ trial: input.trial, elapsedSeconds }),
      });
      const scores = await verifyExternalModel(result.onnx, contract, validation);
      // A binary program's decision threshold is inside its graph; keel's metrics use 0.5 (documented).
      const validationMetrics = metricsOfScores(
        { task: input.task, classes },
        validation.map((row) => row[input.target]),
        scores,
      );
      const onnxSha256 = await artifacts.put(result.onnx);
      await recordTrainingRun(database.db, run, {
        trial: input.trial,
        model: input.model,
        datasetVersionId: input.datasetVersionId,
        trainer: { ...input.trainer, contract, reportedMetrics: result.reportedMetrics, logTail: result.logTail },
        modelArtifactSha256: onnxSha256,
        learningCurve: [],
        trainSeconds: result.seconds,
        validationMetrics,
      });
      return { trainingRunId, onnxSha256, bytes: result.onnx.byteLength, contract, validationMetrics, trainSeconds: result.seconds };
    },
  };
}
