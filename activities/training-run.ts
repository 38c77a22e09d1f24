import { eq } from 'drizzle-orm';
import type { Db } from '../src/db/database';
import { trainingRuns } from '../src/db/schema';

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
