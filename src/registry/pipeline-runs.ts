import { desc, eq } from 'drizzle-orm';
import type { Db } from '../db/database';
import { pipelineRuns } from '../db/schema';
import type { FailureSummary } from '../shared/failure-chain';

/**
 * The record of every training pipeline run, failed ones included (the table `pipeline_runs`).
 * The workflow reports events through one activity; each event carries the workflow's own time,
 * so a retried record writes the same values again and never adds a stage twice.
 */

export type PipelineRunStatus = 'running' | 'succeeded' | 'rejected' | 'failed' | 'cancelled';
type StageOutcome = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface PipelineStage {
  name: string;
  startedAt: string;
  endedAt?: string;
  outcome: StageOutcome;
  /** Attempts of the stage's activity, where the workflow learnt it (a failed activity's). */
  attempts?: number;
}

/** Ids the run produced so far; a later event adds to them. */
export interface PipelineRunOutputs {
  datasetVersionId?: string;
  trainingRunId?: string;
  modelVersion?: number;
}

/** The first event of a run creates its row, with the event's time as the run's start. */
export type PipelineRunEvent =
  /** A stage begins; the stage before it, if still running, ended well at the same instant. */
  | ({ kind: 'stage'; name: string; at: string } & PipelineRunOutputs)
  | ({
      kind: 'finished';
      status: Exclude<PipelineRunStatus, 'running'>;
      at: string;
      failure?: FailureSummary;
    } & PipelineRunOutputs);

export interface PipelineRunKey {
  workflowId: string;
  runId: string;
}

export type PipelineRun = typeof pipelineRuns.$inferSelect & { stages: PipelineStage[]; failure: FailureSummary | null };

const pipelineRunId = (key: PipelineRunKey) => `${key.workflowId}/${key.runId}`;

/** Applies one event to the run's row (idempotent: the same event twice leaves the same row). */
export async function recordPipelineRunEvent(db: Db, key: PipelineRunKey, model: string, event: PipelineRunEvent): Promise<void> {
  const id = pipelineRunId(key);
  await db.transaction(async (tx) => {
    await tx
      .insert(pipelineRuns)
      .values({ id, workflowId: key.workflowId, runId: key.runId, modelName: model, status: 'running', startedAt: new Date(event.at) })
      .onConflictDoNothing();
    const [row] = await tx.select().from(pipelineRuns).where(eq(pipelineRuns.id, id)).for('update');
    const stages = applyStageEvent(row.stages as PipelineStage[], event);
    const outputs = {
      ...(event.datasetVersionId !== undefined && { datasetVersionId: event.datasetVersionId }),
      ...(event.trainingRunId !== undefined && { trainingRunId: event.trainingRunId }),
      ...(event.modelVersion !== undefined && { modelVersion: event.modelVersion }),
    };
    const finished = event.kind === 'finished' ? { status: event.status, endedAt: new Date(event.at), failure: event.failure ?? null } : {};
    await tx
      .update(pipelineRuns)
      .set({ stages, ...outputs, ...finished })
      .where(eq(pipelineRuns.id, id));
  });
}

/** The timeline after `event`: pure, so its idempotency is checked without a database. */
export function applyStageEvent(stages: readonly PipelineStage[], event: PipelineRunEvent): PipelineStage[] {
  if (event.kind === 'stage' && stages.some((s) => s.name === event.name && s.startedAt === event.at)) return [...stages];
  const endOutcome: StageOutcome =
    event.kind === 'finished' && event.status === 'failed'
      ? 'failed'
      : event.kind === 'finished' && event.status === 'cancelled'
        ? 'cancelled'
        : 'succeeded';
  const failedAttempts = event.kind === 'finished' ? event.failure?.attempts : undefined;
  const closed = stages.map((s) =>
    s.outcome === 'running'
      ? {
          ...s,
          endedAt: event.at,
          outcome: endOutcome,
          ...(endOutcome === 'failed' && failedAttempts !== undefined && { attempts: failedAttempts }),
        }
      : s,
  );
  return event.kind === 'stage' ? [...closed, { name: event.name, startedAt: event.at, outcome: 'running' }] : closed;
}

/** A model's pipeline runs, newest first. */
export async function listPipelineRuns(db: Db, model: string, limit = 20): Promise<PipelineRun[]> {
  const rows = await db
    .select()
    .from(pipelineRuns)
    .where(eq(pipelineRuns.modelName, model))
    .orderBy(desc(pipelineRuns.startedAt))
    .limit(limit);
  return rows as PipelineRun[];
}

/**
 * One pipeline run by `<workflowId>/<runId>`, or by its workflow id alone (then the newest run of
 * that id: a workflow id is reused when a run is retried by hand).
 */
export async function getPipelineRun(db: Db, id: string): Promise<PipelineRun | undefined> {
  const [exact] = await db.select().from(pipelineRuns).where(eq(pipelineRuns.id, id));
  if (exact) return exact as PipelineRun;
  const [newest] = await db
    .select()
    .from(pipelineRuns)
    .where(eq(pipelineRuns.workflowId, id))
    .orderBy(desc(pipelineRuns.startedAt))
    .limit(1);
  return newest as PipelineRun | undefined;
}
