import { and, asc, desc, eq, isNotNull, sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { trainingCheckpoints, trainingRuns } from '../db/schema';
import type { ModelMetrics } from '../shared/model-metrics';

/**
 * The table `training_runs`: one row per trained model of a pipeline run (per tuning trial, `main`
 * without tuning), with its validation metrics, its learning curve, later its test-split
 * evaluation, the gate's decision and its stored report; and `training_checkpoints`, where a
 * GBDT run keeps its newest partial model while it trains. Every read and write of either goes
 * through here.
 */
export type TrainingRun = typeof trainingRuns.$inferSelect;

/** The Temporal run a training run belongs to. */
interface TrainingRunOwner {
  workflowId: string;
  runId: string;
}

/** `<workflowId>/<runId>/<trial>`: a retried attempt of the same trial finds its own row. */
export function trainingRunIdOf(owner: TrainingRunOwner, trial: string): string {
  return `${owner.workflowId}/${owner.runId}/${trial}`;
}

export async function findTrainingRun(db: Db, id: string): Promise<TrainingRun | undefined> {
  const [run] = await db.select().from(trainingRuns).where(eq(trainingRuns.id, id));
  return run;
}

/** The run a retried training attempt may already have recorded: one with its validation metrics. */
export async function finishedTrainingRun(db: Db, id: string): Promise<(TrainingRun & { validationMetrics: ModelMetrics }) | undefined> {
  const run = await findTrainingRun(db, id);
  return run?.validationMetrics ? (run as TrainingRun & { validationMetrics: ModelMetrics }) : undefined;
}

/** What a trainer (keel's own or a registered program) produced for one trial. */
export interface TrainingOutcome {
  trial: string;
  model: string;
  datasetVersionId: string;
  trainer: unknown;
  modelArtifactSha256: string;
  learningCurve: unknown;
  trainSeconds: number;
  validationMetrics: ModelMetrics;
  /** Set when the attempt resumed from a checkpoint an interrupted attempt stored. */
  resumedFromIteration?: number;
}

/**
 * Records a finished training run under `<workflowId>/<runId>/<trial>` (its id, returned); a retry
 * that trained again overwrites its own row, never adds one.
 */
export async function recordTrainingRun(db: Db, owner: TrainingRunOwner, outcome: TrainingOutcome): Promise<string> {
  const id = trainingRunIdOf(owner, outcome.trial);
  const row: typeof trainingRuns.$inferInsert = {
    id,
    trial: outcome.trial,
    modelName: outcome.model,
    workflowId: owner.workflowId,
    runId: owner.runId,
    datasetVersionId: outcome.datasetVersionId,
    trainer: outcome.trainer,
    modelArtifactSha256: outcome.modelArtifactSha256,
    learningCurve: outcome.learningCurve,
    trainSeconds: outcome.trainSeconds,
    resumedFromIteration: outcome.resumedFromIteration,
    validationMetrics: outcome.validationMetrics,
  };
  await db
    .insert(trainingRuns)
    .values(row)
    .onConflictDoUpdate({
      target: trainingRuns.id,
      set: { modelArtifactSha256: row.modelArtifactSha256, validationMetrics: row.validationMetrics },
    });
  return id;
}

/** Attaches the test-split evaluation and the gate's decision to the run that was evaluated. */
export async function saveEvaluation(db: Db, id: string, result: { evaluation: unknown; gate: unknown }): Promise<void> {
  await db.update(trainingRuns).set(result).where(eq(trainingRuns.id, id));
}

/** Keeps the sha256 of the run's stored HTML report with the run. */
export async function saveRunReport(db: Db, id: string, sha256: string): Promise<void> {
  await db.update(trainingRuns).set({ reportArtifactSha256: sha256 }).where(eq(trainingRuns.id, id));
}

/** The training runs of a model, newest first. */
export async function listTrainingRuns(db: Db, model: string, limit: number): Promise<TrainingRun[]> {
  return db.select().from(trainingRuns).where(eq(trainingRuns.modelName, model)).orderBy(desc(trainingRuns.createdAt)).limit(limit);
}

/** The training runs (one per tuning trial, `main` without tuning) of a pipeline run, in the order they were recorded. */
export async function trainingRunsOf(db: Db, owner: TrainingRunOwner): Promise<TrainingRun[]> {
  return db
    .select()
    .from(trainingRuns)
    .where(and(eq(trainingRuns.workflowId, owner.workflowId), eq(trainingRuns.runId, owner.runId)))
    .orderBy(asc(trainingRuns.createdAt), asc(trainingRuns.id));
}

/** The newest run of a workflow id that reached the gate (the one a pipeline evaluated). */
export async function newestEvaluatedRun(db: Db, workflowId: string): Promise<string | undefined> {
  const [run] = await db
    .select({ id: trainingRuns.id })
    .from(trainingRuns)
    .where(and(eq(trainingRuns.workflowId, workflowId), isNotNull(trainingRuns.gate)))
    .orderBy(desc(trainingRuns.createdAt))
    .limit(1);
  return run?.id;
}

/** Every run's model and report artifacts: what retention must keep while the run's version is kept. */
export async function trainingRunArtifacts(db: Db): Promise<{ id: string; sha: string; reportSha: string | null; createdAt: Date }[]> {
  return db
    .select({
      id: trainingRuns.id,
      sha: trainingRuns.modelArtifactSha256,
      reportSha: trainingRuns.reportArtifactSha256,
      createdAt: trainingRuns.createdAt,
    })
    .from(trainingRuns);
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

/** Every stored checkpoint, for garbage collection: a training run in flight still needs its blob. */
export async function trainingCheckpointArtifacts(
  db: Db,
): Promise<{ trainingRunId: string; iteration: number; sha: string; updatedAt: Date }[]> {
  return db
    .select({
      trainingRunId: trainingCheckpoints.trainingRunId,
      iteration: trainingCheckpoints.iteration,
      sha: trainingCheckpoints.artifactSha256,
      updatedAt: trainingCheckpoints.updatedAt,
    })
    .from(trainingCheckpoints);
}

/** Once the run is recorded its checkpoints are of no further use. */
export async function clearTrainingCheckpoint(db: Db, trainingRunId: string): Promise<void> {
  await db.delete(trainingCheckpoints).where(eq(trainingCheckpoints.trainingRunId, trainingRunId));
}
