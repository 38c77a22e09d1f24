import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { alerts } from '../db/schema';
import type { AlertSeverity, WebhookTarget } from '../shared/notifications';
import { alertSchema, severityRank, type Alert, type AlertInput } from './alert';
import { webhookPayload } from './payloads';
import { deliverWebhook, WebhookRejectedError, type DeliveryResult } from './webhook';

/**
 * The `alerts` table: every alert stored once per incident key, with one delivery record per
 * webhook target. Each function is idempotent, so the activities that call them can retry:
 * recording an alert again finds the stored row; a delivery already marked delivered is not sent
 * again; a repeated attempt record after success changes nothing.
 */

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'skipped';

export interface DeliveryRecord {
  target: string;
  status: DeliveryStatus;
  attempts: number;
  httpStatus?: number;
  error?: string;
  /** ISO time of the last attempt. */
  at?: string;
}

/** pending: some target still to try; delivered: every target that should get it did; failed: none did; partial: some did. */
export type AlertDeliveryStatus = 'none' | 'pending' | 'delivered' | 'failed' | 'partial';

export interface StoredAlert {
  id: number;
  incidentKey: string;
  model: string;
  version: number | null;
  kind: string;
  severity: AlertSeverity;
  message: string;
  alert: Alert;
  deliveryStatus: AlertDeliveryStatus;
  deliveries: DeliveryRecord[];
  createdAt: Date;
  updatedAt: Date;
}

/**
 * Stores the alert unless its incident is already stored. `created` is false for a duplicate (the
 * stored row is returned, with its delivery state). Targets below their minSeverity are recorded
 * as skipped.
 */
export async function recordAlert(
  db: Db,
  input: AlertInput,
  targets: readonly Pick<WebhookTarget, 'name' | 'minSeverity'>[] = [],
): Promise<{ alert: StoredAlert; created: boolean }> {
  const alert = alertSchema.parse(input);
  const deliveries: DeliveryRecord[] = targets.map((target) => ({
    target: target.name,
    status: severityRank(alert.severity) >= severityRank(target.minSeverity) ? 'pending' : 'skipped',
    attempts: 0,
  }));
  const inserted = await db
    .insert(alerts)
    .values({
      incidentKey: alert.incidentKey,
      modelName: alert.model,
      version: alert.version,
      kind: alert.kind,
      severity: alert.severity,
      message: alert.title + (alert.message ? `\n${alert.message}` : ''),
      payload: alert,
      deliveryStatus: summarise(deliveries),
      deliveries,
    })
    .onConflictDoNothing({ target: alerts.incidentKey })
    .returning();
  if (inserted.length) return { alert: toStored(inserted[0]), created: true };
  const existing = await getAlertByIncident(db, alert.incidentKey);
  if (!existing) throw new Error(`alert ${alert.incidentKey} vanished between insert and select`);
  return { alert: existing, created: false };
}

export async function getAlert(db: Db, id: number): Promise<StoredAlert | null> {
  const [row] = await db.select().from(alerts).where(eq(alerts.id, id));
  return row ? toStored(row) : null;
}

async function getAlertByIncident(db: Db, key: string): Promise<StoredAlert | null> {
  const [row] = await db.select().from(alerts).where(eq(alerts.incidentKey, key));
  return row ? toStored(row) : null;
}

export async function listAlerts(db: Db, options: { model?: string; kind?: string; limit?: number } = {}): Promise<StoredAlert[]> {
  const conditions = [
    options.model ? eq(alerts.modelName, options.model) : undefined,
    options.kind ? eq(alerts.kind, options.kind) : undefined,
  ].filter((c) => c !== undefined);
  const rows = await db
    .select()
    .from(alerts)
    .where(conditions.length ? and(...conditions) : undefined)
    .orderBy(desc(alerts.createdAt), desc(alerts.id))
    .limit(options.limit ?? 100);
  return rows.map(toStored);
}

/** Alerts raised so far for each of `models`, by kind and severity (the model server's `keel_alerts_total`). */
export async function countAlerts(db: Db, models: string[]): Promise<{ model: string; kind: string; severity: string; count: number }[]> {
  if (models.length === 0) return [];
  return db
    .select({ model: alerts.modelName, kind: alerts.kind, severity: alerts.severity, count: sql<number>`count(*)::int` })
    .from(alerts)
    .where(inArray(alerts.modelName, models))
    .groupBy(alerts.modelName, alerts.kind, alerts.severity);
}

export type AttemptOutcome =
  | { ok: true; httpStatus: number }
  /** `final`: no more retries will follow (non-retryable error, or the last attempt). */
  | { ok: false; error: string; httpStatus?: number; final: boolean };

/** Records one delivery attempt to `target` and returns the updated alert. */
export async function recordDeliveryAttempt(
  db: Db,
  alertId: number,
  target: string,
  outcome: AttemptOutcome,
  at = new Date(),
): Promise<StoredAlert> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(alerts).where(eq(alerts.id, alertId)).for('update');
    if (!row) throw new Error(`no alert ${alertId}`);
    const deliveries = [...((row.deliveries as DeliveryRecord[]) ?? [])];
    let index = deliveries.findIndex((d) => d.target === target);
    if (index < 0) {
      deliveries.push({ target, status: 'pending', attempts: 0 });
      index = deliveries.length - 1;
    }
    const current = deliveries[index];
    // A delivered target stays delivered (a retried activity may report again).
    if (current.status === 'delivered') return toStored(row);
    const next: DeliveryRecord = { ...current, attempts: current.attempts + 1, at: at.toISOString() };
    if (outcome.ok) {
      next.status = 'delivered';
      next.httpStatus = outcome.httpStatus;
      delete next.error;
    } else {
      next.status = outcome.final ? 'failed' : 'pending';
      next.error = outcome.error.slice(0, 500);
      if (outcome.httpStatus !== undefined) next.httpStatus = outcome.httpStatus;
      else delete next.httpStatus;
    }
    deliveries[index] = next;
    const [updated] = await tx
      .update(alerts)
      .set({ deliveries, deliveryStatus: summarise(deliveries), updatedAt: at })
      .where(eq(alerts.id, alertId))
      .returning();
    return toStored(updated);
  });
}

/**
 * Sends a stored alert to one target and records the outcome; the body of a delivery activity.
 * Returns without sending when that target is already delivered, skipped or failed. On failure
 * the error is recorded and rethrown (WebhookDeliveryError: retry; WebhookRejectedError: don't);
 * `finalAttempt` (the activity's last allowed attempt) records a retryable failure as final.
 */
export async function deliverStoredAlert(
  db: Db,
  options: {
    alertId: number;
    target: WebhookTarget;
    finalAttempt: boolean;
    /** Resolves `urlEnv`; defaults to process.env. */
    env?: Record<string, string | undefined>;
    fetch?: typeof fetch;
  },
): Promise<{ status: DeliveryStatus; result?: DeliveryResult }> {
  const stored = await getAlert(db, options.alertId);
  if (!stored) throw new Error(`no alert ${options.alertId}`);
  const { target } = options;
  const record = stored.deliveries.find((d) => d.target === target.name);
  if (record && record.status !== 'pending') return { status: record.status };
  try {
    // The whole environment: `urlEnv` names any variable the operator chose, not one of keel's settings.
    const url = webhookUrl(target, options.env ?? process.env);
    const result = await deliverWebhook(url, webhookPayload(stored.alert, target.format), {
      timeoutMs: target.timeoutMs,
      headers: target.headers,
      idempotencyKey: `${stored.incidentKey}/${target.name}`,
      fetch: options.fetch,
    });
    await recordDeliveryAttempt(db, stored.id, target.name, { ok: true, httpStatus: result.status });
    return { status: 'delivered', result };
  } catch (error) {
    const final = options.finalAttempt || error instanceof WebhookRejectedError;
    const httpStatus = (error as { status?: number }).status;
    await recordDeliveryAttempt(db, stored.id, target.name, { ok: false, error: (error as Error).message, httpStatus, final });
    throw error;
  }
}

/** The target's URL, from `url` or the environment variable named by `urlEnv`. */
export function webhookUrl(target: Pick<WebhookTarget, 'name' | 'url' | 'urlEnv'>, env: Record<string, string | undefined>): string {
  if (target.url) return target.url;
  const value = target.urlEnv ? env[target.urlEnv] : undefined;
  if (!value) throw new WebhookRejectedError(`webhook "${target.name}": environment variable ${target.urlEnv ?? '(none)'} is not set`);
  return value;
}

export function summarise(deliveries: readonly DeliveryRecord[]): AlertDeliveryStatus {
  const relevant = deliveries.filter((d) => d.status !== 'skipped');
  if (relevant.length === 0) return 'none';
  if (relevant.some((d) => d.status === 'pending')) return 'pending';
  const delivered = relevant.filter((d) => d.status === 'delivered').length;
  if (delivered === relevant.length) return 'delivered';
  return delivered === 0 ? 'failed' : 'partial';
}

function toStored(row: typeof alerts.$inferSelect): StoredAlert {
  return {
    id: row.id,
    incidentKey: row.incidentKey,
    model: row.modelName,
    version: row.version,
    kind: row.kind,
    severity: row.severity as AlertSeverity,
    message: row.message,
    alert: row.payload as Alert,
    deliveryStatus: row.deliveryStatus as AlertDeliveryStatus,
    deliveries: (row.deliveries as DeliveryRecord[]) ?? [],
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
