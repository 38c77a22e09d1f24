import { and, desc, eq, lte, sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { driftReports } from '../db/schema';
import type { AlertInput } from '../notify/alert';
import { recordAlert } from '../notify/alert-store';
import type { MonitorActions, MonitorAlertSummary, Finding, Period } from '../shared/monitoring';
import type { NotificationsConfig } from '../shared/notifications';
import { alertSummary } from './monitor-alerts';
import type { StoredReport } from './report';

/** The report a monitor run stored under its run key, if any. */
export async function findReport(db: Db, runKey: string): Promise<StoredReport | undefined> {
  const [stored] = await db.select().from(driftReports).where(eq(driftReports.runKey, runKey));
  return stored;
}

/** Stores a report once per run key: a retried run finds the row its first attempt wrote. */
export async function storeReport(db: Db, report: typeof driftReports.$inferInsert): Promise<StoredReport> {
  await db.insert(driftReports).values(report).onConflictDoNothing();
  const stored = await findReport(db, report.runKey);
  if (!stored) throw new Error(`drift report ${report.runKey} was not stored`);
  return stored;
}

/** Merges what the workflow did about a report into its `actions`; returns the updated report. */
export async function recordReportActions(db: Db, reportId: number, actions: MonitorActions): Promise<StoredReport> {
  await db
    .update(driftReports)
    .set({ actions: sql`${driftReports.actions} || ${JSON.stringify(actions)}::jsonb` })
    .where(eq(driftReports.id, reportId));
  const [report] = await db.select().from(driftReports).where(eq(driftReports.id, reportId));
  return report;
}

/** Stores each alert once per incident (its deliveries to the configured webhooks pending). */
export async function storeAlerts(db: Db, raised: AlertInput[], notifications: NotificationsConfig): Promise<MonitorAlertSummary[]> {
  const out: MonitorAlertSummary[] = [];
  for (const alert of raised) {
    const { alert: stored, created } = await recordAlert(db, alert, notifications.webhooks);
    out.push(alertSummary(stored, created));
  }
  return out;
}

/**
 * Consecutive reports of the version, newest first up to `upTo`, with one of the `on` findings.
 * Reports without enough data neither count nor break the run; a report on which a retraining was
 * started ends it (that drift has been acted on).
 */
export async function driftStreak(
  db: Db,
  options: { model: string; version: number; upTo: Date; on: readonly Finding[]; limit: number },
): Promise<{ consecutive: number; period: Period | null }> {
  const recent = await db
    .select({
      status: driftReports.status,
      findings: driftReports.findings,
      actions: driftReports.actions,
      dataPeriod: driftReports.dataPeriod,
    })
    .from(driftReports)
    .where(
      and(eq(driftReports.modelName, options.model), eq(driftReports.version, options.version), lte(driftReports.windowEnd, options.upTo)),
    )
    .orderBy(desc(driftReports.windowEnd), desc(driftReports.id))
    .limit(1000);
  let consecutive = 0;
  const periods: Period[] = [];
  for (const report of recent) {
    if ((report.actions as MonitorActions).retrain?.started) break;
    if (report.status === 'insufficient_data') continue;
    if (!(report.findings as Finding[]).some((f) => options.on.includes(f))) break;
    consecutive++;
    if (report.dataPeriod && periods.length < options.limit) periods.push(report.dataPeriod);
  }
  const period = periods.length
    ? {
        from: periods.map((p) => p.from).sort()[0],
        to: periods
          .map((p) => p.to)
          .sort()
          .at(-1)!,
      }
    : null;
  return { consecutive, period };
}
