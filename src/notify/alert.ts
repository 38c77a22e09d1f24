import { z } from 'zod';
import { alertSeverities, alertSeveritySchema, type AlertSeverity, DEFAULT_DEDUP_WINDOW_MS } from '../shared/notifications';

/**
 * An alert: what keel tells people when a check finds something (drift, a schema problem, a
 * performance drop, an automatic rollback). Built by pure functions (e.g. driftAlerts in
 * src/monitoring/alerts.ts), stored once per incident (./alert-store.ts) and sent to webhooks
 * (./payloads.ts, ./webhook.ts). This file imports only zod and src/shared: it is workflow-safe.
 */

export const alertSchema = z.object({
  /** Deduplication key: one stored alert (and one notification) per incident. See incidentKey. */
  incidentKey: z.string().min(1).max(500),
  model: z.string().min(1),
  /** The model version concerned, or null for the model as a whole. */
  version: z.number().int().nullable(),
  /** What happened: data_drift, prediction_drift, schema, performance, rollback, retraining, ... */
  kind: z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower_snake_case'),
  severity: alertSeveritySchema,
  /** One line, e.g. "flight-delays v3: data drift in 3 of 5 features". */
  title: z.string().min(1),
  /** A few sentences: what was found and what keel does about it. */
  message: z.string(),
  /** Short bullet lines (e.g. one per drifted column), most important first. */
  lines: z.array(z.string()).default([]),
  /** When the condition was observed (ISO 8601), e.g. the end of the monitored window. */
  occurredAt: z.string().datetime({ offset: true }),
  /** Machine-readable facts for the generic webhook body (ids, scores, thresholds). */
  details: z.record(z.string(), z.unknown()).default({}),
  links: z.array(z.object({ label: z.string().min(1), url: z.string().url() })).default([]),
});
export type Alert = z.output<typeof alertSchema>;
export type AlertInput = z.input<typeof alertSchema>;

/**
 * `<kind>:<model>:v<version>:<window start>`: the same condition on the same model version is
 * one incident per dedup window (default a day, counted from the Unix epoch in UTC), so a drift
 * that persists for a day of 5-minute monitor runs notifies once, and again the next day if it is
 * still there. Deterministic: computed from the monitored window's end, never from the clock.
 */
export function incidentKey(options: {
  kind: string;
  model: string;
  version: number | null;
  at: Date | string;
  dedupWindowMs?: number;
}): string {
  const windowMs = options.dedupWindowMs ?? DEFAULT_DEDUP_WINDOW_MS;
  if (!(windowMs >= 1000)) throw new Error(`dedupWindowMs must be at least 1000, got ${windowMs}`);
  const time = typeof options.at === 'string' ? Date.parse(options.at) : options.at.getTime();
  if (Number.isNaN(time)) throw new Error(`incidentKey: invalid time ${String(options.at)}`);
  const start = new Date(Math.floor(time / windowMs) * windowMs).toISOString();
  return `${options.kind}:${options.model}:v${options.version ?? '-'}:${start}`;
}

export function severityRank(severity: AlertSeverity): number {
  return alertSeverities.indexOf(severity);
}
