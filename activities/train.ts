import { heartbeat } from '@temporalio/activity';
import { currentRun } from './current-run';
import { eq } from 'drizzle-orm';
import { readDatasetRows } from '../src/data/dataset-store';
import { trainingRuns } from '../src/db/schema';
import { partitionRows } from '../src/ml/split';
import { withValidatedThreshold } from '../src/ml/threshold';
import { trainInWorkerThread } from '../src/ml/train';
import type { FeatureSpec, LogisticTrainerSpec, SplitSpec } from '../src/shared/pipeline-input';
import type { ActivityDeps } from './deps';

export interface TrainModelInput {
  model: string;
  datasetVersionId: string;
  features: FeatureSpec[];
  target: string;
  trainer: LogisticTrainerSpec;
  split: SplitSpec;
}

export interface TrainModelResult {
  trainingRunId: string;
  modelArtifactSha256: string;
  iterations: number;
  trainSeconds: number;
}

export function trainActivities({ database, artifacts }: ActivityDeps) {
  return {
    /**
     * Trainer: fits the feature pipeline and the model on the train split, off the main thread,
     * heartbeating each iteration, then sets the decision threshold on the validation split.
     * The trained model (JSON) goes to the artifact store and the run, with its learning curve,
     * to `training_runs`; a retry finds the run already recorded.
     */
    async trainModel(input: TrainModelInput): Promise<TrainModelResult> {
      const { workflowId, runId } = currentRun();
      const trainingRunId = `${workflowId}/${runId}`;
      const [done] = await database.db.select().from(trainingRuns).where(eq(trainingRuns.id, trainingRunId));
      if (done) {
        const curve = done.learningCurve as unknown[];
        return { trainingRunId, modelArtifactSha256: done.modelArtifactSha256, iterations: curve.length, trainSeconds: done.trainSeconds };
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
        (iteration, loss) => heartbeat({ iteration, loss }),
      );
      const model = withValidatedThreshold(trained, validation);
      const trainSeconds = (performance.now() - started) / 1000;
      const modelArtifactSha256 = await artifacts.putJson(model);
      await database.db
        .insert(trainingRuns)
        .values({
          id: trainingRunId,
          modelName: input.model,
          workflowId,
          runId,
          datasetVersionId: input.datasetVersionId,
          trainer: input.trainer,
          modelArtifactSha256,
          learningCurve: model.training.lossHistory,
          trainSeconds,
        })
        .onConflictDoNothing();
      return { trainingRunId, modelArtifactSha256, iterations: model.training.iterations, trainSeconds };
    },
  };
}
