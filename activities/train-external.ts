import { heartbeat } from '@temporalio/activity';
import { readDatasetRows } from '../src/data/dataset-store';
import { runExternalTrainer, verifyExternalModel } from '../src/ml/external-trainer';
import { binaryClassificationMetrics } from '../src/ml/metrics';
import { partitionRows } from '../src/ml/split';
import type { CommandTrainerSpec, FeatureSpec, SplitSpec } from '../src/shared/pipeline-input';
import type { BinaryMetrics } from '../src/shared/pipeline-result';
import { currentRun } from './current-run';
import type { ActivityDeps } from './deps';
import { findTrainingRun, recordTrainingRun } from './training-run';

export interface ExternalTrainingOutcome {
  trainingRunId: string;
  onnxSha256: string;
  bytes: number;
  contract: { inputs: { name: string; type: 'float32' | 'string' }[]; outputs: { name: string; type: string; shape: number[] }[] };
  validationMetrics: BinaryMetrics;
  trainSeconds: number;
}

export function trainExternalActivities({ database, artifacts }: ActivityDeps) {
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
      trainer: CommandTrainerSpec;
      split: SplitSpec;
      trial: string;
    }): Promise<ExternalTrainingOutcome> {
      const { workflowId, runId } = currentRun();
      const trainingRunId = `${workflowId}/${runId}/${input.trial}`;
      const contract: ExternalTrainingOutcome['contract'] = {
        inputs: input.features.map((f) => ({ name: f.name, type: f.kind === 'numeric' ? 'float32' : 'string' })),
        outputs: [
          { name: 'probability', type: 'float32', shape: [-1, 1] },
          { name: 'label', type: 'int64', shape: [-1, 1] },
        ],
      };
      const done = await findTrainingRun(database.db, trainingRunId);
      if (done?.validationMetrics) {
        const onnx = await artifacts.get(done.modelArtifactSha256);
        return {
          trainingRunId,
          onnxSha256: done.modelArtifactSha256,
          bytes: onnx.byteLength,
          contract,
          validationMetrics: done.validationMetrics as BinaryMetrics,
          trainSeconds: done.trainSeconds,
        };
      }

      const rows = await readDatasetRows(database.db, input.datasetVersionId);
      const { train, validation } = partitionRows(rows, input.split);
      const result = await runExternalTrainer({
        command: input.trainer.command,
        params: input.trainer.params,
        features: input.features,
        target: input.target,
        train,
        validation,
        timeoutMs: input.trainer.timeoutSeconds * 1000,
        onWaiting: (elapsedSeconds) => heartbeat({ trial: input.trial, elapsedSeconds }),
      });
      const scores = await verifyExternalModel(result.onnx, input.features, validation);
      // The program's decision threshold is inside its graph; keel's metrics use 0.5 (documented).
      const validationMetrics = binaryClassificationMetrics(validation.map((row) => Number(row[input.target])), scores);
      const onnxSha256 = await artifacts.put(result.onnx);
      await recordTrainingRun(database.db, {
        id: trainingRunId,
        trial: input.trial,
        modelName: input.model,
        workflowId,
        runId,
        datasetVersionId: input.datasetVersionId,
        trainer: { ...input.trainer, reportedMetrics: result.reportedMetrics, logTail: result.logTail },
        modelArtifactSha256: onnxSha256,
        learningCurve: [],
        trainSeconds: result.seconds,
        validationMetrics,
      });
      return { trainingRunId, onnxSha256, bytes: result.onnx.byteLength, contract, validationMetrics, trainSeconds: result.seconds };
    },
  };
}
