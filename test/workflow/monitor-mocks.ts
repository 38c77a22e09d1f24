import type { Activities } from '../../activities';
import type { MonitorReportOutcome } from '../../activities/monitor';
import type { MonitorActions, Period } from '../../src/shared/monitoring';
import type { DriftReportSummary } from '../../src/shared/pipeline-result';

/**
 * Mocked monitor activities: each report's status comes from a script, and the drift streak is
 * kept as the real activity keeps it (drifted reports in a row; `insufficient_data` neither counts
 * nor breaks the run; a retraining starts it again), so the workflow's policy is what is tested.
 */

type MonitorActivityName =
  'prepareDriftReference' | 'computeMonitorReport' | 'recordMonitorActions' | 'recordMonitorFailure' | 'deliverAlert';
type MonitorActivities = Pick<Activities, MonitorActivityName>;

export type ReportStatus = DriftReportSummary['status'];
export type CanaryFinding = MonitorReportOutcome['canary'];

export interface MonitorRecord {
  reports: { reportId: number; runKey: string; window: { start: string; end: string }; consecutive: number }[];
  actions: { reportId: number; actions: MonitorActions }[];
}

const VERSION = 1;

export function mockMonitorActivities(script: {
  status: (index: number) => ReportStatus;
  canary?: (index: number) => CanaryFinding;
  /** Report ids (default 100, 101, …). */
  reportId?: (index: number) => number;
}) {
  const record: MonitorRecord = { reports: [], actions: [] };
  let streak: Period[] = [];
  const activities: MonitorActivities = {
    async prepareDriftReference() {
      return { version: VERSION, built: false };
    },
    async computeMonitorReport({ input, window, runKey }) {
      const index = record.reports.length;
      const status = script.status(index);
      const reportId = script.reportId?.(index) ?? 100 + index;
      const dataPeriod = { from: window.start.slice(0, 10), to: nextDay(window.end) };
      if (status === 'drift') streak.push(dataPeriod);
      else if (status === 'ok') streak = [];
      record.reports.push({ reportId, runKey, window, consecutive: streak.length });
      const report: DriftReportSummary = {
        reportId,
        model: input.model,
        version: VERSION,
        status,
        rowCount: status === 'insufficient_data' ? 0 : 500,
        driftedFeatures: status === 'drift' ? ['distance'] : [],
        message: `scripted ${status}`,
        window,
        dataPeriod,
        findings: status === 'drift' ? ['data_drift'] : [],
        performance: null,
        alerts: [],
        actions: {},
      };
      const period = streak.length ? { from: streak[0].from, to: streak.at(-1)!.to } : null;
      return { report, streak: { consecutive: streak.length, period }, canary: script.canary?.(index) ?? null };
    },
    async recordMonitorActions({ reportId, actions }) {
      record.actions.push({ reportId, actions });
      if (actions.retrain?.started) streak = [];
      return [];
    },
    async recordMonitorFailure() {
      return [];
    },
    async deliverAlert() {
      return { status: 'delivered' };
    },
  };
  return { activities, record };
}

function nextDay(iso: string): string {
  return new Date(Date.parse(iso.slice(0, 10)) + 86_400_000).toISOString().slice(0, 10);
}
