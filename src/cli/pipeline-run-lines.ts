import type { PipelineRun, PipelineStage } from '../registry/pipeline-runs';
import { failureLines } from '../shared/failure-chain';

/** How `keel runs` shows a pipeline run: one JSON shape, a list entry, and the full detail. */

export function pipelineRunJson(run: PipelineRun) {
  return {
    id: run.id,
    workflowId: run.workflowId,
    runId: run.runId,
    model: run.modelName,
    status: run.status,
    startedAt: run.startedAt.toISOString(),
    endedAt: run.endedAt?.toISOString() ?? null,
    seconds: run.endedAt ? seconds(run.startedAt, run.endedAt) : null,
    stages: run.stages,
    failure: run.failure,
    datasetVersionId: run.datasetVersionId,
    trainingRunId: run.trainingRunId,
    modelVersion: run.modelVersion,
  };
}

/** A run in `keel runs list`: one line, plus the root cause under a failed run. */
export function pipelineRunLines(run: PipelineRun): string[] {
  const took = run.endedAt ? `${seconds(run.startedAt, run.endedAt).toFixed(1)} s` : 'running';
  const stages = run.stages.map((stage) => `${stage.name}${outcomeMark[stage.outcome]}`).join(' ');
  const version = run.modelVersion !== null ? `  v${run.modelVersion}` : '';
  const lines = [`${run.workflowId}  ${run.status}  ${run.startedAt.toISOString()}  ${took}${version}  ${stages}`];
  if (run.failure) lines.push(`  ${failureLines(run.failure)[0]}`);
  return lines;
}

/** A run in `keel runs show`: its ids, timeline, outputs and the failure's whole chain. */
export function pipelineRunDetail(run: PipelineRun): string[] {
  const produced = [
    run.datasetVersionId && `dataset version ${run.datasetVersionId}`,
    run.trainingRunId && `training run ${run.trainingRunId}`,
    run.modelVersion !== null && `model version ${run.modelVersion}`,
  ].filter(Boolean);
  const width = Math.max(5, ...run.stages.map((stage) => stage.name.length));
  return [
    `run        ${run.workflowId} (run ${run.runId})`,
    `model      ${run.modelName}`,
    `status     ${run.status}`,
    `started    ${run.startedAt.toISOString()}`,
    `ended      ${run.endedAt ? `${run.endedAt.toISOString()} (${seconds(run.startedAt, run.endedAt).toFixed(1)} s)` : '-'}`,
    `produced   ${produced.join(', ') || '-'}`,
    `stages     ${run.stages.length ? '' : '(none recorded)'}`.trimEnd(),
    ...run.stages.map(
      (stage) => `  ${stage.name.padEnd(width)}  ${stage.startedAt}  ${stageTime(stage).padStart(8)}  ${stageOutcome(stage)}`,
    ),
    ...(run.failure ? failureLines(run.failure).map((line, i) => (i === 0 ? `failure    ${line}` : `  ${line}`)) : []),
  ];
}

const outcomeMark: Record<PipelineStage['outcome'], string> = { running: '…', succeeded: ' ✓', failed: ' ✗', cancelled: ' ⊘' };

function stageTime(stage: PipelineStage): string {
  return stage.endedAt ? `${seconds(new Date(stage.startedAt), new Date(stage.endedAt)).toFixed(1)} s` : '';
}

function stageOutcome(stage: PipelineStage): string {
  return stage.attempts !== undefined ? `${stage.outcome} (attempt ${stage.attempts})` : stage.outcome;
}

function seconds(from: Date, to: Date): number {
  return (to.getTime() - from.getTime()) / 1000;
}
