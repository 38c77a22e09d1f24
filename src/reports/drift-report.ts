import { html } from 'hono/html';
import type { VersionPerformance } from '../monitoring/live-performance';
import { distributionSpec } from '../ui/charts/distribution';
import { driftOverTimeSpec, driftReportSpec } from '../ui/charts/drift';
import { livePerformanceSpec } from '../ui/charts/live-performance';
import type { DriftReportView, FeatureScore } from './drift-view';
import type { Html, ReportContent, ReportSection } from './html-document';
import { facts, num, percent, table, verdict } from './html-parts';

/** `keel report drift <id>`: what one monitor run compared, what it found, and what it did about it. */
export function driftReportContent(view: DriftReportView): ReportContent {
  return {
    kind: 'drift',
    title: `Drift report ${view.id}: ${view.model} v${view.version}`,
    facts: [
      ['status', view.status],
      ['window', `${view.window.start} .. ${view.window.end}`],
      ['predictions', num(view.rowCount)],
      ['findings', view.findings.length ? view.findings.join(', ') : 'none'],
      ['reference', `dataset version ${view.referenceDatasetVersionId}`],
    ],
    sections: [featuresSection(view), historySection(view), distributionSection(view), performanceSection(view), actionsSection(view)],
  };
}

function featuresSection(view: DriftReportView): ReportSection {
  const rows = [...view.features, ...(view.prediction ? [view.prediction] : [])];
  return {
    title: 'Drift per feature',
    empty: `Nothing was compared: ${view.message || 'no features in this report'}.`,
    charts: rows.some((f) => f.score !== null)
      ? [{ title: 'Statistic against threshold', spec: driftReportSpec(rows), caption: 'p-values (ks, chisquare, z) drift below their threshold, distances at or above it.' }]
      : [],
    body: html`<p>${view.message}</p>${table<FeatureScore>(
      [
        { header: 'column', value: (f) => f.feature },
        { header: 'statistic', value: (f) => f.method },
        { header: 'score', value: (f) => f.score, numeric: true },
        { header: 'threshold', value: (f) => `${isPValue(f.method) ? '<' : '≥'} ${num(f.threshold)}`, numeric: true },
        { header: 'verdict', value: (f) => (f.score === null ? 'not compared' : verdict(!f.drifted, 'ok', 'drift')) },
      ],
      rows,
    )}` as Html,
  };
}

function historySection(view: DriftReportView): ReportSection {
  const windows = new Set(view.history.map((p) => p.at)).size;
  return {
    title: 'Drift over time',
    empty: 'No compared features in this or earlier reports of the model.',
    charts: view.history.some((p) => p.score !== null)
      ? [{ title: `Statistic per feature, last ${windows} reports`, spec: driftOverTimeSpec(view.history), caption: 'Dashed: each feature’s threshold.' }]
      : [],
  };
}

function distributionSection(view: DriftReportView): ReportSection {
  return {
    title: 'Reference distributions',
    empty: `No drift reference of ${view.model} v${view.version} is stored.`,
    charts: view.distributions.length
      ? [{ title: 'Training reference, share per bin', spec: distributionSpec(view.distributions), caption: 'The bins the monitor compares the window with (PSI bins of the training data). The window’s own shares are not stored with the report; the statistics above compare them.' }]
      : [],
  };
}

function performanceSection(view: DriftReportView): ReportSection {
  const performance = view.performance;
  if (!performance || performance.versions.length === 0) return { title: 'Live performance', empty: 'Not judged: live performance is off or no feedback arrived.', charts: [] };
  return {
    title: 'Live performance',
    charts: view.performanceHistory.length
      ? [{ title: `Live ${performance.metric}`, spec: livePerformanceSpec(performance.metric, view.performanceHistory), caption: 'This report and the model’s earlier ones, per version.' }]
      : [],
    empty: 'No labelled predictions in the window.',
    body: table<VersionPerformance>(
      [
        { header: 'version', value: (v) => `v${v.version}` },
        { header: 'predictions', value: (v) => v.predictions, numeric: true },
        { header: 'labelled', value: (v) => `${num(v.labelled)} (${percent(v.coverage)})`, numeric: true },
        { header: performance.metric, value: (v) => v.metric.value, numeric: true },
        { header: '± s.e.', value: (v) => v.metric.standardError, numeric: true },
        { header: 'reference', value: (v) => v.metric.reference, numeric: true },
        { header: 'concept', value: (v) => `${v.concept.status}${v.concept.reasons.length ? `: ${v.concept.reasons.join('; ')}` : ''}` },
        { header: 'label shift', value: (v) => v.labelShift.status },
      ],
      performance.versions,
    ),
  };
}

/** p-values decide drift below their threshold; distances at or above it. */
function isPValue(method: string): boolean {
  return method === 'ks' || method === 'chisquare' || method === 'z';
}

function actionsSection(view: DriftReportView): ReportSection {
  const { rollback, retrain } = view.actions;
  const did: [string, string][] = [
    ['rollback', rollback ? `${rollback.signalled ? 'signalled' : 'not signalled'} to ${rollback.workflowId} (candidate v${rollback.candidate}): ${rollback.reason}${rollback.error ? ` — ${rollback.error}` : ''}` : 'none'],
    ['retraining', retrain ? `${retrain.started ? 'started' : 'not started'} ${retrain.workflowId} after ${retrain.consecutive} drifting report(s)${retrain.period ? ` on ${retrain.period.from} .. ${retrain.period.to}` : ''}${retrain.error ? ` — ${retrain.error}` : ''}` : 'none'],
  ];
  return {
    title: 'Alerts and actions',
    charts: [],
    body: html`${facts(did)}${
      view.alerts.length
        ? table(
            [
              { header: 'alert', value: (a) => a.id, numeric: true },
              { header: 'kind', value: (a) => a.kind },
              { header: 'severity', value: (a) => a.severity },
              { header: 'message', value: (a) => a.message },
              { header: 'delivery', value: (a) => a.deliveryStatus },
            ],
            view.alerts,
          )
        : html`<p class="empty">No alert was raised.</p>`
    }` as Html,
  };
}
