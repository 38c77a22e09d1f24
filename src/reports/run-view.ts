import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/database';
import { approvals, datasetVersions, modelAliases, modelVersions } from '../db/schema';
import { getPipelineRun, type PipelineRun } from '../registry/pipeline-runs';
import { resolveRef } from '../registry/model-registry';
import { parseModelRef } from '../registry/names';
import { findTrainingRun, newestEvaluatedRun, trainingRunsOf } from '../registry/training-runs';
import type { ModelMetrics } from '../shared/model-metrics';
import { runEvaluationView } from '../ui/loaders/runs';
import type { RunEvaluationView, TrialView } from '../ui/sections/run-evaluation';
import { ReportNotFoundError } from './drift-view';

/** What a run report shows, read from the database (no Temporal): one pipeline run's evaluated training run. */
export interface RunReportView {
  model: string;
  workflowId: string;
  runId: string;
  /** The dashboard's evaluation section: learning curve, metrics against production, gate, plots. */
  evaluated: RunEvaluationView;
  /** Every trial of the same pipeline run (one without tuning). */
  trials: TrialView[];
  /** The run's stages and outcome, for runs recorded in pipeline_runs. */
  pipelineRun: PipelineRun | null;
  /** The human approval the run waited for (`pipeline.approval`), when it asked for one. */
  approval: {
    status: string;
    decidedBy: string | null;
    decidedAt: Date | null;
    reason: string | null;
    channel: string | null;
    deadline: Date;
  } | null;
  version: {
    version: number;
    status: string;
    aliases: string[];
    artifactSha256: string;
    artifactBytes: number;
    gitCommit: string | null;
    gitDirty: boolean | null;
    createdAt: Date;
  } | null;
  dataset: {
    id: string;
    name: string;
    contentHash: string;
    rowCount: number;
    rowsRead: number;
    quarantinedCount: number;
    duplicateCount: number;
  } | null;
}

/**
 * Finds the training run a person means: a training run id (`<workflowId>/<runId>/<trial>`), a
 * pipeline run id (`<workflowId>/<runId>`), a pipeline's workflow id (its evaluated run, the newest when the id was reused), or a model version
 * (`<name>@<version>`, `<name>@production`).
 */
export async function resolveTrainingRunId(db: Db, reference: string): Promise<string> {
  const exact = await findTrainingRun(db, reference);
  if (exact) return exact.id;
  // A pipeline run id (`<workflowId>/<runId>`, as the dashboard names runs) or a workflow id.
  const pipelineRun = await getPipelineRun(db, reference);
  if (pipelineRun?.trainingRunId) return pipelineRun.trainingRunId;
  const byWorkflow = await newestEvaluatedRun(db, reference);
  if (byWorkflow) return byWorkflow;
  if (reference.includes('@')) {
    const version = await resolveRef(db, parseModelRef(reference)).catch(() => undefined);
    if (version?.trainingRunId) return version.trainingRunId;
  }
  throw new ReportNotFoundError(
    `no training run matches "${reference}": give a training run id, a pipeline workflow id or <model>@<version> (keel runs list <model> shows them)`,
  );
}

export async function loadRunReportView(db: Db, trainingRunId: string): Promise<RunReportView> {
  const run = await findTrainingRun(db, trainingRunId);
  if (!run) throw new ReportNotFoundError(`no training run "${trainingRunId}"`);
  const [siblings, [version], [dataset], pipelineRun, [approval]] = await Promise.all([
    trainingRunsOf(db, run),
    db.select().from(modelVersions).where(eq(modelVersions.trainingRunId, run.id)).limit(1),
    db.select().from(datasetVersions).where(eq(datasetVersions.id, run.datasetVersionId)),
    getPipelineRun(db, `${run.workflowId}/${run.runId}`),
    db
      .select({
        status: approvals.status,
        decidedBy: approvals.decidedBy,
        decidedAt: approvals.decidedAt,
        reason: approvals.reason,
        channel: approvals.channel,
        deadline: approvals.deadline,
      })
      .from(approvals)
      .where(and(eq(approvals.workflowId, run.workflowId), eq(approvals.runId, run.runId)))
      .limit(1),
  ]);
  const aliases = version
    ? await db
        .select({ alias: modelAliases.alias })
        .from(modelAliases)
        .where(and(eq(modelAliases.modelName, version.modelName), eq(modelAliases.version, version.version)))
    : [];
  return {
    model: run.modelName,
    workflowId: run.workflowId,
    runId: run.runId,
    evaluated: runEvaluationView(run),
    trials: siblings.map((trial) => ({
      trainingRunId: trial.id,
      trial: trial.trial,
      trainer: trial.trainer as Record<string, unknown>,
      trainSeconds: trial.trainSeconds,
      validationMetrics: trial.validationMetrics as ModelMetrics | null,
      chosen: trial.id === run.id,
    })),
    pipelineRun: pipelineRun ?? null,
    approval: approval ?? null,
    version: version
      ? {
          version: version.version,
          status: version.status,
          aliases: aliases.map((a) => a.alias),
          artifactSha256: version.artifactSha256,
          artifactBytes: version.artifactBytes,
          gitCommit: version.gitCommit,
          gitDirty: version.gitDirty,
          createdAt: version.createdAt,
        }
      : null,
    dataset: dataset
      ? {
          id: dataset.id,
          name: dataset.name,
          contentHash: dataset.contentHash,
          rowCount: dataset.rowCount,
          rowsRead: dataset.rowsRead,
          quarantinedCount: dataset.quarantinedCount,
          duplicateCount: dataset.duplicateCount,
        }
      : null,
  };
}
