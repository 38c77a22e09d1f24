import type { MonitorActions } from '../../shared/monitoring';
import { driftReportSpec } from '../charts/drift';
import { chart } from '../html/chart';
import { formatDate, formatNumber } from '../html/format';
import { h, type Html } from '../html/template';

/** What the drift report section shows of one monitor report. */
export interface DriftReportView {
  id: number;
  model: string;
  version: number;
  status: string;
  message: string;
  window: { start: Date; end: Date };
  rowCount: number;
  findings: string[];
  features: { feature: string; method: string; score: number | null; threshold: number; drifted: boolean; psi: number | null }[];
  actions: MonitorActions;
}

/** One report: its verdict, each feature's statistic against its threshold, and what the monitor did. */
export function driftReportSection(view: DriftReportView): Html {
  return h`<section class="drift-report">
  <p><span class="status ${view.status}">${view.status.replace(/_/g, ' ')}</span> ${view.message}</p>
  <p class="muted">${view.model} v${view.version}, window ${formatDate(view.window.start)} → ${formatDate(view.window.end)}, ${formatNumber(view.rowCount)} logged predictions${view.findings.length ? `; findings: ${view.findings.join(', ')}` : ''}</p>
  <div class="charts">${chart(`drift-features-${view.id}`, driftReportSpec(view.features))}</div>
  <table id="drift-features"><thead><tr><th>feature</th><th>method</th><th>statistic</th><th>threshold</th><th>PSI</th><th>drifted</th></tr></thead><tbody>${view.features.map(
    (f) =>
      h`<tr><td>${f.feature}</td><td>${f.method}</td><td class="num">${formatNumber(f.score)}</td><td class="num">${formatNumber(f.threshold)}</td><td class="num">${formatNumber(f.psi)}</td><td>${f.drifted ? h`<span class="status drift">drift</span>` : 'no'}</td></tr>`,
  )}</tbody></table>
  <h3>What the monitor did</h3>
  ${monitorActionsList(view.actions)}
</section>`;
}

/** The monitor's actions in words: rollback signalled, retraining started, alerts raised and delivered. */
export function monitorActionsList(actions: MonitorActions): Html {
  const items: Html[] = [];
  if (actions.rollback) {
    items.push(
      h`<li>${actions.rollback.signalled ? 'Signalled a rollback' : 'Did not signal a rollback'} of v${actions.rollback.candidate} to <code>${actions.rollback.workflowId}</code>: ${actions.rollback.reason}${actions.rollback.error ? h` <span class="status failed">${actions.rollback.error}</span>` : ''}</li>`,
    );
  }
  if (actions.retrain) {
    items.push(
      h`<li>${actions.retrain.started ? 'Started retraining' : 'Did not start retraining'} (<code>${actions.retrain.workflowId}</code>${actions.retrain.period ? `, data ${actions.retrain.period.from} → ${actions.retrain.period.to}` : ''}, ${actions.retrain.consecutive} consecutive drifted report${actions.retrain.consecutive === 1 ? '' : 's'})${actions.retrain.error ? h` <span class="status failed">${actions.retrain.error}</span>` : ''}</li>`,
    );
  }
  for (const alert of actions.alerts ?? [])
    items.push(h`<li>Alert #${alert.id} (${alert.kind}) ${alert.created ? 'raised' : 'already open for this incident'}</li>`);
  for (const d of actions.deliveries ?? [])
    items.push(h`<li>Alert #${d.alertId} to ${d.target}: ${d.status}${d.error ? ` (${d.error})` : ''}</li>`);
  return items.length ? h`<ul class="actions">${items}</ul>` : h`<p class="muted">Nothing: no action was called for.</p>`;
}
