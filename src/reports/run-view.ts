import { and, asc, desc, eq, isNotNull } from 'drizzle-orm';
import type { Db } from '../db/database';
import { datasetVersions, modelAliases, modelVersions, trainingRuns } from '../db/schema';
import type { EvaluationCurves } from '../ml/evaluation-curves';
import { readLearningCurve, type LearningCurve } from '../ml/trained-model';
import { resolveRef } from '../registry/model-registry';
import { parseModelRef } from '../registry/names';
import type { ModelMetrics } from '../shared/pipeline-result';
import { metricValue, primaryMetric, taskOfMetrics } from '../shared/task-metrics';
import { ReportNotFoundError } from './drift-view';

/** What a run report shows, read from the database (no Temporal): one pipeline run's evaluated training run. */
export interface RunReportView {
  run: {
    id: string;
    trial: string;
    model: string;
    workflowId: string;
    runId: string;
    trainer: Record<string, unknown>;
    trainSeconds: number;
    resumedFromIteration: number | null;
    createdAt: string;
  };
  learningCurve: LearningCurve;
  validationMetrics: ModelMetrics | null;
  evaluation: {
    metrics: ModelMetrics;
    curves?: EvaluationCurves;
    testRows?: number;
    maxOnnxDeviation?: number;
    production?: { version: number; metrics: ModelMetrics };
  } | null;
  gate: { passed: boolean; reasons: string[] } | null;
  /** Every trial of the same pipeline run (one without tuning), by the validation metric. */
  trials: { id: string; trial: string; params: Record<string, unknown>; metric: string | null; value: number | null; seconds: number; iterations: number; chosen: boolean }[];
  version: {
    version: number;
    status: string;
    aliases: string[];
    artifactSha256: string;
    artifactBytes: number;
    gitCommit: string | null;
    gitDirty: boolean | null;
    createdAt: string;
  } | null;
  dataset: { id: string; name: string; contentHash: string; rowCount: number; rowsRead: number; quarantinedCount: number; duplicateCount: number } | null;
}

/**
 * Finds the training run a person means: a training run id (`<workflowId>/<runId>/<trial>`), a
 * pipeline's workflow id (its evaluated run, the newest when the id was reused), or a model version
 * (`<name>@<version>`, `<name>@production`).
 */
export async function resolveTrainingRunId(db: Db, reference: string): Promise<string> {
  const [exact] = await db.select({ id: trainingRuns.id }).from(trainingRuns).where(eq(trainingRuns.id, reference));
  if (exact) return exact.id;
  const [byWorkflow] = await db
    .select({ id: trainingRuns.id })
    .from(trainingRuns)
    .where(and(eq(trainingRuns.workflowId, reference), isNotNull(trainingRuns.gate)))
    .orderBy(desc(trainingRuns.createdAt))
    .limit(1);
  if (byWorkflow) return byWorkflow.id;
  if (reference.includes('@')) {
    const version = await resolveRef(db, parseModelRef(reference)).catch(() => undefined);
    if (version?.trainingRunId) return version.trainingRunId;
  }
  throw new ReportNotFoundError(
    `no training run matches "${reference}": give a training run id, a pipeline workflow id or <model>@<version> (keel runs list <model> shows them)`,
  );
}

export async function loadRunReportView(db: Db, trainingRunId: string): Promise<RunReportView> {
  const [run] = await db.select().from(trainingRuns).where(eq(trainingRuns.id, trainingRunId));
  if (!run) throw new ReportNotFoundError(`no training run "${trainingRunId}"`);
  const [siblings, [version], [dataset]] = await Promise.all([
    db
      .select()
      .from(trainingRuns)
      .where(and(eq(trainingRuns.workflowId, run.workflowId), eq(trainingRuns.runId, run.runId)))
      .orderBy(asc(trainingRuns.createdAt), asc(trainingRuns.id)),
    db.select().from(modelVersions).where(eq(modelVersions.trainingRunId, run.id)).limit(1),
    db.select().from(datasetVersions).where(eq(datasetVersions.id, run.datasetVersionId)),
  ]);
  const aliases = version
    ? await db
        .select({ alias: modelAliases.alias })
        .from(modelAliases)
        .where(and(eq(modelAliases.modelName, version.modelName), eq(modelAliases.version, version.version)))
    : [];
  const evaluation = run.evaluation as RunReportView['evaluation'];
  return {
    run: {
      id: run.id,
      trial: run.trial,
      model: run.modelName,
      workflowId: run.workflowId,
      runId: run.runId,
      trainer: run.trainer as Record<string, unknown>,
      trainSeconds: run.trainSeconds,
      resumedFromIteration: run.resumedFromIteration,
      createdAt: run.createdAt.toISOString(),
    },
    learningCurve: readLearningCurve(run.learningCurve),
    validationMetrics: run.validationMetrics as ModelMetrics | null,
    evaluation: evaluation ?? null,
    gate: run.gate as RunReportView['gate'],
    trials: siblings.map((trial) => {
      const metrics = trial.validationMetrics as ModelMetrics | null;
      const metric = metrics ? primaryMetric[taskOfMetrics(metrics)] : null;
      const value = metrics && metric ? metricValue(metrics, metric) : Number.NaN;
      return {
        id: trial.id,
        trial: trial.trial,
        params: trainerParams(trial.trainer),
        metric,
        value: Number.isFinite(value) ? value : null,
        seconds: trial.trainSeconds,
        iterations: readLearningCurve(trial.learningCurve).train.length,
        chosen: trial.id === run.id,
      };
    }),
    version: version
      ? {
          version: version.version,
          status: version.status,
          aliases: aliases.map((a) => a.alias),
          artifactSha256: version.artifactSha256,
          artifactBytes: version.artifactBytes,
          gitCommit: version.gitCommit,
          gitDirty: version.gitDirty,
          createdAt: version.createdAt.toISOString(),
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

/** The trainer's numeric and string settings, flattened one level (gbdt keeps them under `params`). */
function trainerParams(trainer: unknown): Record<string, unknown> {
  const spec = (trainer ?? {}) as Record<string, unknown>;
  const nested = spec.params && typeof spec.params === 'object' ? (spec.params as Record<string, unknown>) : {};
  return Object.fromEntries(
    Object.entries({ ...spec, ...nested }).filter(([key, value]) => key !== 'params' && (typeof value === 'number' || typeof value === 'string')),
  );
}
