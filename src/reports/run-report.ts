import { stageTimelineSpec } from '../ui/charts/stage-timeline';
import { chart } from '../ui/html/chart';
import { formatDate, formatNumber } from '../ui/html/format';
import { h, type Html } from '../ui/html/template';
import { badge } from '../ui/pages/layout';
import { failureSection } from '../ui/pages/runs';
import { runEvaluationSection, tuningTrialsSection } from '../ui/sections/run-evaluation';
import type { ReportDocument } from './html-document';
import type { RunReportView } from './run-view';

/**
 * `keel report run <id>`: one pipeline run — its stages, learning curves, the evaluation plots,
 * tuning trials, the gate's decision and the lineage — with the dashboard's sections.
 */
export function runReportDocument(view: RunReportView): ReportDocument {
  const { evaluated, pipelineRun, version } = view;
  const status = pipelineRun?.status ?? (evaluated.gate ? (evaluated.gate.passed ? 'passed the gate' : 'rejected') : 'not evaluated');
  return {
    kind: 'run',
    title: `Run report: ${view.model}${version ? ` v${version.version}` : ''}`,
    facts: [
      ['status', badge(status)],
      ['workflow', h`<code>${view.workflowId}</code> run <code>${view.runId}</code>`],
      ['training run', h`<code>${evaluated.trainingRunId}</code>`],
      [
        'model version',
        version
          ? `v${version.version} (${version.status})${version.aliases.length ? ` [${version.aliases.join(', ')}]` : ''}`
          : 'not registered',
      ],
      ...(view.approval ? [['approval', approvalText(view.approval)] as [string, string]] : []),
    ],
    body: h`${pipelineRun ? failureSection(pipelineRun) : ''}
${stagesSection(view)}
${runEvaluationSection(evaluated)}
${view.trials.length > 1 ? tuningTrialsSection(view.trials) : h`<section class="trials"><h2>Tuning trials</h2><p class="muted">One trial: this run did not tune.</p></section>`}
${lineageSection(view)}`,
  };
}

function stagesSection({ pipelineRun }: RunReportView): Html {
  if (!pipelineRun?.stages.length) {
    return h`<section class="stages"><h2>Stages</h2><p class="note">No stage timeline was recorded for this run (it ran before keel recorded pipeline runs).</p></section>`;
  }
  const end = pipelineRun.endedAt ?? new Date(pipelineRun.stages.at(-1)?.endedAt ?? pipelineRun.startedAt);
  return h`<section class="stages"><h2>Stages</h2><div class="charts">${chart('stages', stageTimelineSpec(pipelineRun.stages, end))}</div></section>`;
}

function lineageSection({ model, workflowId, runId, version, dataset, evaluated }: RunReportView): Html {
  const rows: [string, string | Html][] = [
    ['model version', version ? `${model}@${version.version}, registered ${formatDate(version.createdAt)}` : 'not registered'],
    ['ONNX artifact', version ? h`sha256 <code>${version.artifactSha256}</code> (${formatNumber(version.artifactBytes)} bytes)` : '–'],
    ['dataset version', dataset ? h`${dataset.name} <code>${dataset.id}</code>` : '–'],
    ['dataset content hash', dataset ? h`<code>${dataset.contentHash}</code>` : '–'],
    [
      'dataset rows',
      dataset
        ? `${formatNumber(dataset.rowsRead)} read = ${formatNumber(dataset.rowCount)} accepted + ${formatNumber(dataset.quarantinedCount)} quarantined + ${formatNumber(dataset.duplicateCount)} duplicates`
        : '–',
    ],
    [
      'code',
      version?.gitCommit ? h`<code>${version.gitCommit}</code>${version.gitDirty ? ' with uncommitted changes' : ''}` : 'not recorded',
    ],
    [
      'produced by',
      h`workflow <code>${workflowId}</code>, run <code>${runId}</code>, training run <code>${evaluated.trainingRunId}</code>`,
    ],
  ];
  return h`<section class="lineage"><h2>Lineage</h2><dl class="facts">${rows.map(([label, value]) => h`<dt>${label}</dt><dd>${value}</dd>`)}</dl></section>`;
}

function approvalText(approval: NonNullable<RunReportView['approval']>): string {
  if (approval.status === 'pending') return `pending until ${formatDate(approval.deadline)}`;
  const by =
    approval.channel === 'timeout'
      ? 'by the deadline'
      : `by ${approval.decidedBy ?? 'unknown'}${approval.channel ? ` (${approval.channel})` : ''}`;
  return `${approval.status} ${by} at ${formatDate(approval.decidedAt)}${approval.reason ? `: ${approval.reason}` : ''}`;
}
