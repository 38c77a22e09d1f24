import { eq, sql } from 'drizzle-orm';
import type { Db } from '../src/db/database';
import { trainingCheckpoints, trainingRuns } from '../src/db/schema';

export type TrainingRunRow = typeof trainingRuns.$inferInsert;

/** The run a retried training attempt may already have recorded. */
export async function findTrainingRun(db: Db, id: string) {
  const [run] = await db.select().from(trainingRuns).where(eq(trainingRuns.id, id));
  return run;
}

/** Records a finished training run; a retry that trained again overwrites its own row, never adds one. */
export async function recordTrainingRun(db: Db, row: TrainingRunRow): Promise<void> {
  await db
    .insert(trainingRuns)
    .values(row)
    .onConflictDoUpdate({
      target: trainingRuns.id,
      set: { modelArtifactSha256: row.modelArtifactSha256, validationMetrics: row.validationMetrics },
    });
}

/** Attaches the test-split evaluation and the gate's decision to the run that was evaluated. */
export async function saveEvaluation(db: Db, id: string, result: { evaluation: unknown; gate: unknown }): Promise<void> {
  await db.update(trainingRuns).set(result).where(eq(trainingRuns.id, id));
}

export interface TrainingCheckpointRef {
  iteration: number;
  artifactSha256: string;
}

/** The newest checkpoint a previous attempt of this training run stored, if any. */
export async function findTrainingCheckpoint(db: Db, trainingRunId: string): Promise<TrainingCheckpointRef | undefined> {
  const [row] = await db.select().from(trainingCheckpoints).where(eq(trainingCheckpoints.trainingRunId, trainingRunId));
  return row && { iteration: row.iteration, artifactSha256: row.artifactSha256 };
}

/**
 * Records a stored checkpoint. Only a later iteration replaces the row, so an attempt that lags
 * behind (a zombie whose heartbeat timed out but which is still writing) never moves it back; and
 * once the run is recorded no checkpoint is added, so such a zombie cannot leave a row behind
 * after the attempt that finished has cleared it.
 */
export async function recordTrainingCheckpoint(db: Db, trainingRunId: string, checkpoint: TrainingCheckpointRef): Promise<void> {
  await db.execute(sql`
    INSERT INTO ${trainingCheckpoints} (training_run_id, iteration, artifact_sha256)
    SELECT ${trainingRunId}, ${checkpoint.iteration}, ${checkpoint.artifactSha256}
    WHERE NOT EXISTS (SELECT 1 FROM ${trainingRuns} WHERE id = ${trainingRunId})
    ON CONFLICT (training_run_id) DO UPDATE
      SET iteration = excluded.iteration, artifact_sha256 = excluded.artifact_sha256, updated_at = now()
      WHERE ${trainingCheckpoints}.iteration < excluded.iteration`);
}

/** Once the run is recorded its checkpoints are of no further use. */
export async function clearTrainingCheckpoint(db: Db, trainingRunId: string): Promise<void> {
  await db.delete(trainingCheckpoints).where(eq(trainingCheckpoints.trainingRunId, trainingRunId));
}

/**
 * Tuning trials that earlier runs of a model recorded (newest first, at most `limit`): the
 * trainer each tried and its validation metrics, what a warm-started study learns from.
 */
export async function earlierTrials(db: Db, modelName: string, limit: number): Promise<{ trainer: unknown; validationMetrics: unknown }[]> {
  return db
    .select({ trainer: trainingRuns.trainer, validationMetrics: trainingRuns.validationMetrics })
    .from(trainingRuns)
    .where(
      sql`${trainingRuns.modelName} = ${modelName} and ${trainingRuns.trial} <> 'main' and ${trainingRuns.validationMetrics} is not null`,
    )
    .orderBy(sql`${trainingRuns.createdAt} desc, ${trainingRuns.id}`)
    .limit(limit);
}
