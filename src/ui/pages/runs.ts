import type { PipelineRun } from '../../registry/pipeline-runs';
import { stageTimelineSpec } from '../charts/stage-timeline';
import { chart } from '../html/chart';
import { formatDate, formatSeconds, short } from '../html/format';
import { h, type Html } from '../html/template';
import { paths, type TemporalLinks, temporalWorkflowsUrl, temporalWorkflowUrl } from '../links';
import type { RunDetail } from '../loaders/runs';
import type { ApprovalRow } from '../../registry/approvals';
import { type ApprovalAccess, approvalPanel, pendingApprovalsList } from '../sections/approval';
import { runEvaluationSection, tuningTrialsSection } from '../sections/run-evaluation';
import { badge, layout } from './layout';

function duration(run: PipelineRun, now: Date): number {
  return ((run.endedAt ?? now).getTime() - run.startedAt.getTime()) / 1000;
}

/** The failure in words: the root cause first, then the chain it travelled through. */
export function failureSection(run: PipelineRun): Html {
  const failure = run.failure;
  if (!failure) return h``;
  return h`<div class="failure" id="failure"><strong>Failed${failure.type ? h` (${failure.type}${failure.nonRetryable ? ', not retryable' : ''})` : ''}:</strong> ${failure.error}${
    failure.attempts ? h` <span class="muted">after ${failure.attempts} attempt${failure.attempts === 1 ? '' : 's'}</span>` : ''
  }
  <div class="cause">${failure.cause.map((link, i) => h`${'  '.repeat(i)}${link.kind}${link.type ? h` [${link.type}]` : ''}${link.activityType ? h` (${link.activityType})` : ''}: ${link.message}\n`)}</div></div>`;
}

function stagesText(run: PipelineRun): Html {
  return h`${run.stages.map((s, i) => h`${i ? ' → ' : ''}<span class="stage ${s.outcome}" title="${s.outcome}">${s.name}${s.outcome === 'failed' ? ' ✗' : s.outcome === 'running' ? ' …' : ''}</span>`)}`;
}

export function runsPage(runs: PipelineRun[], pending: ApprovalRow[], links: TemporalLinks, now: Date): Html {
  const body = h`${pendingApprovalsList(pending)}${
    runs.length
      ? h`<table class="sortable" id="runs"><thead><tr><th>started</th><th>model</th><th>status</th><th>stages</th><th>duration</th><th>result or cause</th><th>Temporal</th></tr></thead><tbody>${runs.map(
          (run) => h`<tr>
  <td data-value="${run.startedAt.toISOString()}"><a href="${paths.run(run.id)}">${formatDate(run.startedAt)}</a></td>
  <td><a href="${paths.model(run.modelName)}">${run.modelName}</a></td>
  <td>${badge(run.status)}</td>
  <td class="stages">${stagesText(run)}</td>
  <td class="num" data-value="${duration(run, now)}">${formatSeconds(duration(run, now))}</td>
  <td>${run.failure ? h`<span class="cause">${run.failure.type ? `${run.failure.type}: ` : ''}${run.failure.error}</span>` : run.modelVersion ? h`<a href="${paths.version(run.modelName, run.modelVersion)}">v${run.modelVersion}</a>` : ''}</td>
  <td><a href="${temporalWorkflowUrl(links, run.workflowId, run.runId) ?? '#'}" target="_blank" rel="noopener">${short(run.workflowId, 40)}</a></td>
</tr>`,
        )}</tbody></table>`
      : h`<p class="note">No pipeline runs recorded yet. Start one with <code>npm run keel -- pipeline run</code>.</p>`
  }`;
  return layout({
    title: 'Pipeline runs',
    section: 'runs',
    temporal: { href: temporalWorkflowsUrl(links, 'trainingPipeline'), label: 'trainingPipeline runs' },
    body,
  });
}

export function runPage(detail: RunDetail, access: ApprovalAccess, links: TemporalLinks, now: Date): Html {
  const { run } = detail;
  const body = h`<dl class="facts">
  <dt>model</dt><dd><a href="${paths.model(run.modelName)}">${run.modelName}</a></dd>
  <dt>status</dt><dd>${badge(run.status)}</dd>
  <dt>started</dt><dd>${formatDate(run.startedAt)}</dd>
  <dt>ended</dt><dd>${formatDate(run.endedAt)} (${formatSeconds(duration(run, now))})</dd>
  <dt>dataset version</dt><dd>${run.datasetVersionId ? h`<a href="${paths.dataset(run.datasetVersionId)}">${short(run.datasetVersionId, 16)}</a>` : '–'}</dd>
  <dt>model version</dt><dd>${run.modelVersion ? h`<a href="${paths.version(run.modelName, run.modelVersion)}">v${run.modelVersion}</a>` : '–'}</dd>
  <dt>workflow</dt><dd><code>${run.workflowId}</code> run <code>${run.runId}</code></dd>
</dl>
${failureSection(run)}
${detail.approval ? approvalPanel(detail.approval, access) : ''}
<div class="charts">${run.stages.length ? chart('stages', stageTimelineSpec(run.stages, now)) : ''}</div>
${detail.evaluated ? runEvaluationSection(detail.evaluated) : h`<p class="note">No training run recorded for this pipeline run (it stopped before training).</p>`}
${tuningTrialsSection(detail.trials)}`;
  return layout({
    title: `Run ${run.workflowId}`,
    section: 'runs',
    temporal: { href: temporalWorkflowUrl(links, run.workflowId, run.runId), label: 'This run' },
    body,
  });
}
