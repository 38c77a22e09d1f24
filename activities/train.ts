import { heartbeat } from '@temporalio/activity';
import { eq } from 'drizzle-orm';
import { readDatasetRows } from '../src/data/dataset-store';
import { trainingRuns } from '../src/db/schema';
import { binaryClassificationMetrics } from '../src/ml/metrics';
import { predictProba } from '../src/ml/model';
import { partitionRows } from '../src/ml/split';
import { withValidatedThreshold } from '../src/ml/threshold';
import { trainInWorkerThread } from '../src/ml/train';
import type { FeatureSpec, LogisticTrainerSpec, SplitSpec } from '../src/shared/pipeline-input';
import type { BinaryMetrics } from '../src/shared/pipeline-result';
import { currentRun } from './current-run';
import type { ActivityDeps } from './deps';

export interface TrainModelInput {
  model: string;
  datasetVersionId: string;
  features: FeatureSpec[];
  target: string;
  trainer: LogisticTrainerSpec;
  split: SplitSpec;
  /** `main` for a plain run; a tuning trial's name otherwise. One training run per trial. */
  trial: string;
}

export interface TrainModelResult {
  trainingRunId: string;
  modelArtifactSha256: string;
  iterations: number;
  trainSeconds: number;
  validationMetrics: BinaryMetrics;
}

export function trainActivities({ database, artifacts }: ActivityDeps) {
  return {
    /**
     * Trainer: fits the feature pipeline and the model on the train split, off the main thread,
     * heartbeating each iteration, then sets the decision threshold on the validation split and
     * scores it (what tuning ranks trials by). The trained model (JSON) goes to the artifact
     * store and the run, with its learning curve, to `training_runs`; a retry finds it recorded.
     */
    async trainModel(input: TrainModelInput): Promise<TrainModelResult> {
      const { workflowId, runId } = currentRun();
      const trainingRunId = `${workflowId}/${runId}/${input.trial}`;
      const [done] = await database.db.select().from(trainingRuns).where(eq(trainingRuns.id, trainingRunId));
      if (done?.validationMetrics) {
        return {
          trainingRunId,
          modelArtifactSha256: done.modelArtifactSha256,
          iterations: (done.learningCurve as unknown[]).length,
          trainSeconds: done.trainSeconds,
          validationMetrics: done.validationMetrics as BinaryMetrics,
        };
      }

      const rows = await readDatasetRows(database.db, input.datasetVersionId);
      const { train, validation } = partitionRows(rows, input.split);
      const started = performance.now();
      const trained = await trainInWorkerThread(
        {
          features: input.features,
          target: input.target,
          params: {
            l2: input.trainer.l2,
            maxIterations: input.trainer.maxIterations,
            tolerance: input.trainer.tolerance,
            maxCategories: input.trainer.maxCategories,
          },
          train,
        },
        (iteration, loss) => heartbeat({ trial: input.trial, iteration, loss }),
      );
      const model = withValidatedThreshold(trained, validation);
      const trainSeconds = (performance.now() - started) / 1000;
      const validationMetrics = binaryClassificationMetrics(
        validation.map((row) => Number(row[input.target])),
        predictProba(model, validation),
        model.threshold,
      );
      const modelArtifactSha256 = await artifacts.putJson(model);
      await database.db
        .insert(trainingRuns)
        .values({
          id: trainingRunId,
          trial: input.trial,
          modelName: input.model,
          workflowId,
          runId,
          datasetVersionId: input.datasetVersionId,
          trainer: input.trainer,
          modelArtifactSha256,
          learningCurve: model.training.lossHistory,
          trainSeconds,
          validationMetrics,
        })
        .onConflictDoUpdate({ target: trainingRuns.id, set: { modelArtifactSha256, validationMetrics } });
      return { trainingRunId, modelArtifactSha256, iterations: model.training.iterations, trainSeconds, validationMetrics };
    },

    /** Records the test-split evaluation and the gate's decision with the training run. */
    async recordEvaluation(input: { trainingRunId: string; evaluation: unknown; gate: { passed: boolean; reasons: string[] } }) {
      await database.db
        .update(trainingRuns)
        .set({ evaluation: input.evaluation, gate: input.gate })
        .where(eq(trainingRuns.id, input.trainingRunId));
    },
  };
}
