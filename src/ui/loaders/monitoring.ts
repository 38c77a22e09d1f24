import { desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/database';
import { alerts, driftReports } from '../../db/schema';
import type { LivePerformance } from '../../monitoring/live-performance-types';
import type { MonitorActions } from '../../shared/monitoring';
import type { DriftPoint } from '../charts/drift';
import type { PerformancePoint } from '../charts/live-performance';

/** Reports drawn per model: the newest this many (the over-time charts). */
const REPORTS_SHOWN = 500;

interface FeatureResult {
  feature: string;
  method: string;
  score: number | null;
  threshold: number;
  drifted: boolean;
  psi: number | null;
  status?: string;
}

export interface ReportSummary {
  id: number;
  modelName: string;
  version: number;
  windowStart: Date;
  windowEnd: Date;
  rowCount: number;
  status: string;
  findings: string[];
  message: string;
  features: FeatureResult[];
  performance: LivePerformance | null;
  actions: MonitorActions;
  createdAt: Date;
}

export type AlertRow = typeof alerts.$inferSelect;

/** Each monitored model with its newest report and report count. */
export async function loadMonitoredModels(db: Db) {
  const rows = await db
    .select({
      model: driftReports.modelName,
      reports: sql<number>`count(*)::int`,
      lastWindowEnd: sql<string>`max(${driftReports.windowEnd})`,
    })
    .from(driftReports)
    .groupBy(driftReports.modelName)
    .orderBy(driftReports.modelName);
  const recentAlerts = await db.select().from(alerts).orderBy(desc(alerts.createdAt)).limit(50);
  return { models: rows.map((r) => ({ ...r, lastWindowEnd: new Date(r.lastWindowEnd) })), alerts: recentAlerts };
}

/**
 * The model's newest reports (without the full drift evaluation, which the over-time charts do
 * not need: it holds every feature's histograms), its alerts, and the chart points.
 */
/**
 * A drift report's columns for the over-time views, without the full drift evaluations they do
 * not draw (the dashboard's monitoring page and the drift report's history).
 */
export const reportSummaryColumns = {
  id: driftReports.id,
  modelName: driftReports.modelName,
  version: driftReports.version,
  windowStart: driftReports.windowStart,
  windowEnd: driftReports.windowEnd,
  rowCount: driftReports.rowCount,
  status: driftReports.status,
  findings: driftReports.findings,
  message: sql<string | null>`${driftReports.features}->>'message'`,
  features: sql<FeatureResult[] | null>`${driftReports.features}->'features'`,
  performance: driftReports.performance,
  actions: driftReports.actions,
  createdAt: driftReports.createdAt,
};

export async function loadModelMonitoring(db: Db, model: string) {
  const [reports, modelAlerts] = await Promise.all([
    db
      .select(reportSummaryColumns)
      .from(driftReports)
      .where(eq(driftReports.modelName, model))
      .orderBy(desc(driftReports.windowEnd))
      .limit(REPORTS_SHOWN),
    db.select().from(alerts).where(eq(alerts.modelName, model)).orderBy(desc(alerts.createdAt)).limit(100),
  ]);
  const summaries = reports.map((r) => ({
    ...r,
    message: r.message ?? '',
    performance: r.performance as LivePerformance | null,
    actions: r.actions as MonitorActions,
    features: r.features ?? [],
  }));
  return { reports: summaries, alerts: modelAlerts, drift: driftPoints(summaries), performance: performancePoints(summaries) };
}

export function driftPoints(reports: readonly ReportSummary[]): DriftPoint[] {
  return reports.flatMap((r) =>
    r.features.map((f) => ({
      at: r.windowEnd.toISOString(),
      feature: f.feature,
      method: f.method,
      score: f.score,
      threshold: f.threshold,
      drifted: f.drifted,
      reportId: r.id,
    })),
  );
}

export function performancePoints(reports: readonly ReportSummary[]): { metric: string | null; points: PerformancePoint[] } {
  let metric: string | null = null;
  const points = reports.flatMap((r) => {
    if (!r.performance) return [];
    metric ??= r.performance.metric;
    return r.performance.versions.flatMap((v) =>
      v.metric.value === null
        ? []
        : [
            {
              at: r.windowEnd.toISOString(),
              version: v.version,
              value: v.metric.value,
              standardError: v.metric.standardError,
              reference: v.metric.reference,
              limit: v.concept.floor ?? v.concept.ceiling ?? null,
            },
          ],
    );
  });
  return { metric, points };
}

export async function loadDriftReport(db: Db, id: number) {
  const [report] = await db.select().from(driftReports).where(eq(driftReports.id, id));
  return report;
}
