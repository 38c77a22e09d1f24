import { driftOverTimeSpec } from '../charts/drift';
import { livePerformanceSpec } from '../charts/live-performance';
import { chart } from '../html/chart';
import { formatDate, formatNumber } from '../html/format';
import { h, type Html } from '../html/template';
import { paths, type TemporalLinks, temporalSchedulesUrl, temporalWorkflowsUrl, temporalWorkflowUrl } from '../links';
import type { AlertRow, loadModelMonitoring, loadMonitoredModels } from '../loaders/monitoring';
import { type DriftReportView, driftReportSection, monitorActionsList } from '../sections/drift-report';
import { badge, layout } from './layout';

/** Reports listed in the table (the charts draw all that were loaded). */
const REPORTS_LISTED = 100;

function alertsTable(list: AlertRow[]): Html {
  if (!list.length) return h`<p class="muted">No alerts.</p>`;
  return h`<table id="alerts"><thead><tr><th>raised</th><th>model</th><th>kind</th><th>severity</th><th>message</th><th>delivery</th></tr></thead><tbody>${list.map(
    (a) =>
      h`<tr><td>${formatDate(a.createdAt)}</td><td>${a.modelName}${a.version ? ` v${a.version}` : ''}</td><td>${a.kind}</td><td>${badge(a.severity)}</td><td>${a.message}</td><td>${badge(a.deliveryStatus)}</td></tr>`,
  )}</tbody></table>`;
}

export function monitoringPage(data: Awaited<ReturnType<typeof loadMonitoredModels>>, links: TemporalLinks): Html {
  const body = h`${
    data.models.length
      ? h`<table id="monitored"><thead><tr><th>model</th><th>reports</th><th>newest window end</th></tr></thead><tbody>${data.models.map(
          (m) =>
            h`<tr><td><a href="${paths.monitoringModel(m.model)}">${m.model}</a></td><td class="num">${m.reports}</td><td>${formatDate(m.lastWindowEnd)}</td></tr>`,
        )}</tbody></table>`
      : h`<p class="note">No monitoring reports yet: the monitor schedule writes one per run (<code>keel schedules trigger keel/monitor/&lt;model&gt;</code>).</p>`
  }
<h2>Recent alerts</h2>
${alertsTable(data.alerts)}`;
  return layout({
    title: 'Monitoring',
    section: 'monitoring',
    temporal: { href: temporalSchedulesUrl(links), label: 'Monitor schedules' },
    body,
  });
}

export function modelMonitoringPage(model: string, data: Awaited<ReturnType<typeof loadModelMonitoring>>, links: TemporalLinks): Html {
  const features = [...new Set(data.drift.map((p) => p.feature))];
  const acted = data.reports.filter((r) => r.actions.rollback || r.actions.retrain || r.actions.alerts?.length);
  const body = h`<p>${data.reports.length} report${data.reports.length === 1 ? '' : 's'} (newest first below), ${features.length} monitored features.</p>
<div class="charts">${data.drift.length ? chart('drift-over-time', driftOverTimeSpec(data.drift)) : ''}${
    data.performance.points.length
      ? chart('live-performance', livePerformanceSpec(data.performance.metric ?? 'metric', data.performance.points))
      : h`<p class="note">No live performance yet: it needs ground truth (<code>POST /v1/feedback</code>) and <code>monitor.performance</code>.</p>`
  }</div>
<h2>What the monitor did</h2>
${
  acted.length
    ? h`<table id="monitor-actions"><thead><tr><th>report</th><th>window end</th><th>actions</th></tr></thead><tbody>${acted.map(
        (r) =>
          h`<tr><td><a href="${paths.driftReport(r.id)}">#${r.id}</a></td><td>${formatDate(r.windowEnd)}</td><td>${monitorActionsList(r.actions)}</td></tr>`,
      )}</tbody></table>`
    : h`<p class="muted">No rollback, retraining or alert so far.</p>`
}
<h2>Alerts</h2>
${alertsTable(data.alerts)}
<h2>Reports${data.reports.length > REPORTS_LISTED ? ` (the newest ${REPORTS_LISTED})` : ''}</h2>
<table class="sortable" id="reports"><thead><tr><th>report</th><th>window end</th><th>version</th><th>rows</th><th>status</th><th>findings</th><th>message</th></tr></thead><tbody>${data.reports
    .slice(0, REPORTS_LISTED)
    .map(
      (r) =>
        h`<tr><td data-value="${r.id}"><a href="${paths.driftReport(r.id)}">#${r.id}</a></td><td data-value="${r.windowEnd.toISOString()}">${formatDate(r.windowEnd)}</td><td>v${r.version}</td><td class="num">${formatNumber(r.rowCount)}</td><td>${badge(r.status)}</td><td>${r.findings.join(', ')}</td><td>${r.message}</td></tr>`,
    )}</tbody></table>`;
  return layout({
    title: `Monitoring of ${model}`,
    section: 'monitoring',
    temporal: { href: temporalWorkflowsUrl(links, 'monitor'), label: 'monitor runs' },
    body,
  });
}

export function driftReportPage(view: DriftReportView, runKey: string, links: TemporalLinks): Html {
  const [workflowId, runId] = splitRunKey(runKey);
  const body = h`<p><a href="${paths.monitoringModel(view.model)}">← monitoring of ${view.model}</a></p>${driftReportSection(view)}`;
  return layout({
    title: `Drift report #${view.id}`,
    section: 'monitoring',
    temporal: { href: temporalWorkflowUrl(links, workflowId, runId), label: 'The monitor run' },
    body,
  });
}

/** `<workflowId>/<runId>`: the run id is the last segment (workflow ids contain slashes). */
function splitRunKey(runKey: string): [string, string | undefined] {
  const cut = runKey.lastIndexOf('/');
  return cut < 0 ? [runKey, undefined] : [runKey.slice(0, cut), runKey.slice(cut + 1)];
}
