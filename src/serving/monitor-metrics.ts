import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Db } from '../db/database';
import { latestDriftReports, type LatestDriftReport } from '../monitoring/latest-reports';
import { countAlerts } from '../notify/alert-store';

/**
 * What the monitor found, on the model server's `/metrics`: the monitor runs as a workflow and has
 * no endpoint of its own, but its reports and alerts are rows in PostgreSQL, and Prometheus already
 * scrapes the model server. Only the served models are read, so the label set stays bounded.
 *
 * The rows are read at a scrape, at most every `maxAgeMs`, and never hold the scrape for more than
 * `waitMs`: with the database slow or down, the scrape answers at once with the last snapshot
 * (and the log says why it is old) instead of timing out.
 */
interface MonitorSnapshot {
  drift: LatestDriftReport[];
  alerts: { model: string; kind: string; severity: string; count: number }[];
}

export interface MonitorMetricsOptions {
  db: Db;
  /** The models this server serves now. */
  models: () => string[];
  logger: Logger;
  registers: Registry[];
  maxAgeMs?: number;
  waitMs?: number;
}

export function registerMonitorMetrics(options: MonitorMetricsOptions): void {
  const maxAgeMs = options.maxAgeMs ?? 15_000;
  const waitMs = options.waitMs ?? 1_000;
  let snapshot: MonitorSnapshot = { drift: [], alerts: [] };
  let readAt = -Infinity;
  let reading: Promise<void> | undefined;
  let failing = false;

  const read = async () => {
    try {
      const models = options.models();
      const [drift, alerts] = await Promise.all([latestDriftReports(options.db, models), countAlerts(options.db, models)]);
      snapshot = { drift, alerts };
      readAt = performance.now();
      if (failing) options.logger.info('drift and alert metrics read from the database again');
      failing = false;
    } catch (error) {
      if (!failing) options.logger.warn({ err: error }, 'reading drift reports and alerts for /metrics failed; serving the last values');
      failing = true;
    } finally {
      reading = undefined;
    }
  };
  /** The snapshot, fresh when the database answers within waitMs; one read at a time. */
  const current = async (): Promise<MonitorSnapshot> => {
    if (performance.now() - readAt >= maxAgeMs) {
      reading ??= read();
      await Promise.race([reading, sleep(waitMs, undefined, { ref: false })]);
    }
    return snapshot;
  };

  const { registers } = options;
  new Gauge({
    name: 'keel_drift_detected',
    help: '1 when the newest drift report of a served model found drift (status drift), else 0; by the version it monitored. From the drift_reports table, read at most every 15 s.',
    labelNames: ['model', 'version'],
    registers,
    async collect() {
      const { drift } = await current();
      this.reset();
      for (const r of drift) this.set({ model: r.model, version: String(r.version) }, r.status === 'drift' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'keel_drift_share',
    help: 'Share of compared features that drift in the newest drift report of a served model (its dataset-drift share; the report drifts above the threshold).',
    labelNames: ['model', 'version'],
    registers,
    async collect() {
      const { drift } = await current();
      this.reset();
      for (const r of drift) this.set({ model: r.model, version: String(r.version) }, r.share);
    },
  });
  new Gauge({
    name: 'keel_drift_report_timestamp_seconds',
    help: 'End of the window of the newest drift report of a served model (Unix seconds): how fresh the drift figures are.',
    labelNames: ['model', 'version'],
    registers,
    async collect() {
      const { drift } = await current();
      this.reset();
      for (const r of drift) this.set({ model: r.model, version: String(r.version) }, r.windowEnd.getTime() / 1000);
    },
  });
  new Counter({
    name: 'keel_alerts_total',
    help: 'Alerts the monitor raised for a served model (one per incident, see docs/monitoring.md), by kind (data_drift, feature_drift, prediction_drift, schema, performance, ...) and severity. From the alerts table.',
    labelNames: ['model', 'kind', 'severity'],
    registers,
    async collect() {
      const { alerts } = await current();
      // The table is the running total: set, not add (a counter reset only if rows are deleted).
      this.reset();
      for (const a of alerts) this.inc({ model: a.model, kind: a.kind, severity: a.severity }, a.count);
    },
  });
}
