import { desc, eq } from 'drizzle-orm';
import type { Db } from '../../db/database';
import { approvals, pipelineRuns } from '../../db/schema';
import { readLearningCurve } from '../../ml/trained-model';
import { type ApprovalRow, listPendingApprovals } from '../../registry/approvals';
import { getPipelineRun, type PipelineRun } from '../../registry/pipeline-runs';
import { trainingRunsOf, type TrainingRun } from '../../registry/training-runs';
import type { ModelMetrics } from '../../shared/model-metrics';
import type { RunEvaluationView, TrialView } from '../sections/run-evaluation';

/** Every model's pipeline runs, newest first, and the approvals pending. */
export async function loadPipelineRuns(db: Db, limit = 200): Promise<{ runs: PipelineRun[]; pending: ApprovalRow[] }> {
  const [runs, pending] = await Promise.all([
    db.select().from(pipelineRuns).orderBy(desc(pipelineRuns.startedAt)).limit(limit),
    listPendingApprovals(db),
  ]);
  return { runs: runs as PipelineRun[], pending };
}

export interface RunDetail {
  run: PipelineRun;
  /** The run's wait for a human decision, when its pipeline required one. */
  approval: ApprovalRow | undefined;
  evaluated: RunEvaluationView | undefined;
  trials: TrialView[];
}

/** A pipeline run with its trials and the evaluation of the trial it evaluated. */
export async function loadRunDetail(db: Db, id: string): Promise<RunDetail | undefined> {
  const run = await getPipelineRun(db, id);
  if (!run) return undefined;
  const [trials, [approval]] = await Promise.all([trainingRunsOf(db, run), db.select().from(approvals).where(eq(approvals.id, run.id))]);
  const chosenId = run.trainingRunId ?? (trials.length === 1 ? trials[0].id : undefined);
  const chosen = trials.find((t) => t.id === chosenId);
  return {
    run,
    approval,
    evaluated: chosen && runEvaluationView(chosen),
    trials: trials.map((t) => ({
      trainingRunId: t.id,
      trial: t.trial,
      trainer: t.trainer as Record<string, unknown>,
      trainSeconds: t.trainSeconds,
      validationMetrics: t.validationMetrics as ModelMetrics | null,
      chosen: t.id === chosenId,
    })),
  };
}

/** A stored training run as the evaluation section reads it. */
export function runEvaluationView(row: TrainingRun): RunEvaluationView {
  return {
    trainingRunId: row.id,
    trial: row.trial,
    trainer: row.trainer as Record<string, unknown>,
    trainSeconds: row.trainSeconds,
    learningCurve: readLearningCurve(row.learningCurve),
    validationMetrics: row.validationMetrics as ModelMetrics | null,
    evaluation: row.evaluation as RunEvaluationView['evaluation'],
    gate: row.gate as RunEvaluationView['gate'],
  };
}
