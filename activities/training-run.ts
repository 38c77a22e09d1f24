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
    .onConflictDoUpdate({ target: trainingRuns.id, set: { modelArtifactSha256: row.modelArtifactSha256, validationMetrics: row.validationMetrics } });
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
 * behind (a zombie whose heartbeat timed out but which is still writing) never moves it back.
 */
export async function recordTrainingCheckpoint(db: Db, trainingRunId: string, checkpoint: TrainingCheckpointRef): Promise<void> {
  await db
    .insert(trainingCheckpoints)
    .values({ trainingRunId, ...checkpoint })
    .onConflictDoUpdate({
      target: trainingCheckpoints.trainingRunId,
      set: { iteration: checkpoint.iteration, artifactSha256: checkpoint.artifactSha256, updatedAt: sql`now()` },
      setWhere: sql`${trainingCheckpoints.iteration} < excluded.iteration`,
    });
}

/** Once the run is recorded its checkpoints are of no further use. */
export async function clearTrainingCheckpoint(db: Db, trainingRunId: string): Promise<void> {
  await db.delete(trainingCheckpoints).where(eq(trainingCheckpoints.trainingRunId, trainingRunId));
}
