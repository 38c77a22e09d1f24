import { distributionSpec } from '../ui/charts/distribution';
import { driftOverTimeSpec } from '../ui/charts/drift';
import { livePerformanceSpec } from '../ui/charts/live-performance';
import { chart } from '../ui/html/chart';
import { formatDate, formatNumber, formatPercent } from '../ui/html/format';
import { h, type Html } from '../ui/html/template';
import { driftReportSection } from '../ui/sections/drift-report';
import type { DriftReportView } from './drift-view';
import type { ReportDocument } from './html-document';

/** `keel report drift <id>`: what one monitor run compared, what it found, and what it did about it. */
export function driftReportDocument(view: DriftReportView): ReportDocument {
  const { section } = view;
  return {
    kind: 'drift',
    title: `Drift report #${section.id}: ${section.model} v${section.version}`,
    facts: [
      ['status', section.status.replace(/_/g, ' ')],
      ['window', `${formatDate(section.window.start)} → ${formatDate(section.window.end)}`],
      ['data period', view.dataPeriod ? `${view.dataPeriod.from} → ${view.dataPeriod.to}` : '–'],
      ['reference', `dataset version ${view.referenceDatasetVersionId}`],
    ],
    body: h`${driftReportSection(section)}
<section class="drift-history"><h2>Drift over time (last ${new Set(view.history.map((p) => p.reportId)).size} reports)</h2>
<div class="charts">${view.history.some((p) => p.score !== null) ? chart('drift-over-time', driftOverTimeSpec(view.history)) : h`<p class="note">No feature was compared in this or earlier reports.</p>`}</div></section>
<section class="distributions"><h2>Distributions: reference and window</h2>
${
  view.distributions.length
    ? h`<div class="charts">${chart('distributions', distributionSpec(view.distributions), distributionCaption(view))}</div>`
    : h`<p class="note">No drift reference of v${section.version} is stored.</p>`
}</section>
${performanceSection(view)}
<section class="alerts"><h2>Alerts</h2>${alertsTable(view)}</section>`,
  };
}

function distributionCaption(view: DriftReportView): string {
  return view.distributions.some((b) => b.set === 'current')
    ? 'Share per PSI bin of the training reference and of this window, as the monitor counted them; the most frequent categories, the rest as (other).'
    : 'Share per PSI bin of the training reference. This report was stored before reports kept the window’s shares; the statistics above compare them.';
}

function performanceSection(view: DriftReportView): Html {
  const live = view.livePerformance;
  if (!live)
    return h`<section class="performance"><h2>Live performance</h2><p class="note">Not judged: live performance is off for this model or no feedback arrived.</p></section>`;
  return h`<section class="performance"><h2>Live performance (${live.metric})</h2>
<div class="charts">${view.performance.points.length ? chart('live-performance', livePerformanceSpec(view.performance.metric ?? live.metric, view.performance.points)) : ''}</div>
<table id="performance"><thead><tr><th>version</th><th>predictions</th><th>labelled</th><th>${live.metric}</th><th>± s.e.</th><th>reference</th><th>concept</th><th>label shift</th></tr></thead><tbody>${live.versions.map(
    (v) =>
      h`<tr><td>v${v.version}</td><td class="num">${formatNumber(v.predictions)}</td><td class="num">${formatNumber(v.labelled)} (${formatPercent(v.coverage)})</td><td class="num">${formatNumber(v.metric.value)}</td><td class="num">${formatNumber(v.metric.standardError)}</td><td class="num">${formatNumber(v.metric.reference)}</td><td>${v.concept.status}${v.concept.reasons.length ? `: ${v.concept.reasons.join('; ')}` : ''}</td><td>${v.labelShift.status}</td></tr>`,
  )}</tbody></table></section>`;
}

function alertsTable(view: DriftReportView): Html {
  if (!view.alerts.length) return h`<p class="muted">No alert was raised by this report.</p>`;
  return h`<table id="alerts"><thead><tr><th>alert</th><th>kind</th><th>severity</th><th>message</th><th>delivery</th></tr></thead><tbody>${view.alerts.map(
    (a) => h`<tr><td>#${a.id}</td><td>${a.kind}</td><td>${a.severity}</td><td>${a.message}</td><td>${a.deliveryStatus}</td></tr>`,
  )}</tbody></table>`;
}
