import { freshnessAlerts } from '../features/freshness';
import { incidentKey, type AlertInput } from '../notify/alert';
import type { StoredAlert } from '../notify/alert-store';
import type { MonitorActions, MonitorAlertSummary, MonitorInput } from '../shared/monitoring';
import { driftAlerts } from './alerts';
import { performanceAlerts } from './live-performance';
import type { LivePerformance } from './live-performance-types';
import type { ReportDetails, StoredReport } from './report';

/**
 * The alerts a stored report raises: derived from the stored row, so a retry raises exactly the
 * same ones. The incident's time is the window's end — or, when the run says which period of data
 * the window stands for (a replay of history), the end of that period: replayed months are months
 * apart as incidents.
 */
export function reportAlerts(stored: StoredReport, input: MonitorInput, version: number): AlertInput[] {
  const details = stored.features as ReportDetails;
  const performance = stored.performance as LivePerformance | null;
  const model = input.model;
  const incidentAt = input.dataPeriod ? new Date(`${input.dataPeriod.to}T00:00:00Z`).toISOString() : stored.windowEnd.toISOString();
  const context = { model, windowEnd: incidentAt, reportId: stored.id, dedupWindowMs: input.notifications.dedupWindowMs };
  return [
    ...driftAlerts(details.evaluation, {
      ...context,
      version,
      windowStart: input.dataPeriod ? `${input.dataPeriod.from}T00:00:00.000Z` : stored.windowStart.toISOString(),
    }),
    ...(performance ? performanceAlerts(performance, { ...context, versions: [version] }) : []),
    ...freshnessAlerts(details.freshness ?? [], { model, at: incidentAt, dedupWindowMs: input.notifications.dedupWindowMs }),
  ];
}

/** One alert per action the workflow took on a report (retraining started, canary rolled back or not), at the report's window end. */
export function actionAlerts(
  report: { id: number; windowEnd: Date },
  model: string,
  version: number,
  actions: MonitorActions,
): AlertInput[] {
  const reportId = report.id;
  const at = report.windowEnd.toISOString();
  const raised: AlertInput[] = [];
  if (actions.retrain?.started) {
    const r = actions.retrain;
    raised.push({
      incidentKey: `retraining:${model}:${r.workflowId}`,
      model,
      version,
      kind: 'retraining',
      severity: 'info',
      occurredAt: at,
      title: `${model} v${version}: retraining started after ${r.consecutive} drifted reports`,
      message:
        `Drift lasted ${r.consecutive} consecutive reports; keel started trainingPipeline ${r.workflowId}` +
        (r.period ? ` on the data of ${r.period.from} to ${r.period.to}` : '') +
        '. A new version reaches production only through the gate (and the canary, when configured).',
      lines: [`workflow ${r.workflowId}`, ...(r.period ? [`data ${r.period.from} … ${r.period.to}`] : [])],
      details: { reportId, retrain: r },
    });
  }
  if (actions.rollback) {
    const r = actions.rollback;
    raised.push({
      incidentKey: `rollback:${model}:${r.workflowId}:v${r.candidate}`,
      model,
      version: r.candidate,
      kind: 'rollback',
      severity: 'critical',
      occurredAt: at,
      title: `${model} v${r.candidate}: ${r.signalled ? 'canary rolled back by the monitor' : 'canary rollback could not be signalled'}`,
      message: r.signalled
        ? `The monitor signalled rollback to ${r.workflowId}: ${r.reason}`
        : `Signalling ${r.workflowId} failed (${r.error}); reason: ${r.reason}`,
      lines: [r.reason],
      details: { reportId, rollback: r },
    });
  }
  return raised;
}

/** The critical alert of a monitor that cannot run as configured. */
export function monitorFailureAlert(request: { model: string; error: string; at: string; dedupWindowMs: number }): AlertInput {
  return {
    incidentKey: incidentKey({
      kind: 'monitor_error',
      model: request.model,
      version: null,
      at: request.at,
      dedupWindowMs: request.dedupWindowMs,
    }),
    model: request.model,
    version: null,
    kind: 'monitor_error',
    severity: 'critical',
    occurredAt: request.at,
    title: `${request.model}: the monitor cannot run`,
    message: request.error,
    lines: [],
    details: {},
  };
}

/** What the workflow learns of a stored alert: whether this run created it and which deliveries wait. */
export function alertSummary(alert: StoredAlert, created: boolean): MonitorAlertSummary {
  return {
    id: alert.id,
    kind: alert.kind,
    severity: alert.severity,
    created,
    pending: alert.deliveries.filter((d) => d.status === 'pending').map((d) => d.target),
  };
}
