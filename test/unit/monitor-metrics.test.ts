import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database';
import { driftReports } from '../../src/db/schema';
import { recordAlert } from '../../src/notify/alert-store';
import { registerMonitorMetrics } from '../../src/serving/monitor-metrics';
import { parseJson } from '../fixtures/json';

/** The monitor's rows on /metrics (src/serving/monitor-metrics.ts), on embedded PGlite. */
describe('monitor metrics', () => {
  let dir: string;
  let database: Database;
  const warnings: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void warnings.push(parseJson<{ msg: string }>(line).msg) });

  const report = (model: string, version: number, status: string, share: number, windowEnd: Date) =>
    database.db.insert(driftReports).values({
      runKey: `monitor/${model}/${windowEnd.toISOString()}`,
      modelName: model,
      version,
      referenceDatasetVersionId: 'reference',
      windowStart: new Date(windowEnd.getTime() - 600_000),
      windowEnd,
      rowCount: 100,
      status,
      features: { message: status, features: [], evaluation: { dataset: { share } } },
    });
  const alert = (model: string, kind: string, bucket: number) =>
    recordAlert(database.db, {
      incidentKey: `${kind}:${model}:v1:${bucket}`,
      model,
      version: 1,
      kind,
      severity: 'warning',
      title: `${model}: ${kind}`,
      message: kind,
      occurredAt: new Date().toISOString(),
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-monitor-metrics-'));
    database = await openDatabase({ dataDir: join(dir, 'db') });
  });
  afterAll(async () => {
    await database?.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('reports the newest drift report and the alert counts of served models only, re-read when stale, the last values when the database fails', async () => {
    await report('served', 1, 'drift', 0.75, new Date('2026-03-01T00:00:00Z'));
    await report('served', 2, 'ok', 0.1, new Date('2026-03-02T00:00:00Z')); // newest: it counts
    await report('elsewhere', 1, 'drift', 1, new Date('2026-03-02T00:00:00Z'));
    await alert('served', 'feature_drift', 1);
    await alert('served', 'feature_drift', 2);
    await alert('elsewhere', 'data_drift', 1);

    const cached = new Registry();
    registerMonitorMetrics({ db: database.db, models: () => ['served'], logger, registers: [cached], maxAgeMs: 60_000 });
    const fresh = new Registry();
    registerMonitorMetrics({ db: database.db, models: () => ['served'], logger, registers: [fresh], maxAgeMs: 0, waitMs: 2_000 });
    const first = await cached.metrics();
    expect(first).toContain('keel_drift_detected{model="served",version="2"} 0');
    expect(first).toContain('keel_drift_share{model="served",version="2"} 0.1');
    expect(first).toContain(`keel_drift_report_timestamp_seconds{model="served",version="2"} ${Date.parse('2026-03-02T00:00:00Z') / 1000}`);
    expect(first).toContain('keel_alerts_total{model="served",kind="feature_drift",severity="warning"} 2');
    expect(first).not.toContain('elsewhere');
    expect(await fresh.metrics()).toBe(first);

    // A new report and alert: read at once with maxAgeMs 0, at the next period otherwise.
    await report('served', 2, 'drift', 0.6, new Date('2026-03-03T00:00:00Z'));
    await alert('served', 'data_drift', 3);
    const now = await fresh.metrics();
    expect(now).toContain('keel_drift_detected{model="served",version="2"} 1');
    expect(now).toContain('keel_alerts_total{model="served",kind="data_drift",severity="warning"} 1');
    expect(await cached.metrics()).toBe(first);

    // The database gone: the scrape still answers, with the last values, and says why once.
    await database.close();
    const started = performance.now();
    expect(await fresh.metrics()).toBe(now);
    expect(await fresh.metrics()).toBe(now);
    expect(performance.now() - started).toBeLessThan(4_000);
    expect(warnings.filter((w) => w.startsWith('reading drift reports and alerts for /metrics failed'))).toHaveLength(1);
  });
});
