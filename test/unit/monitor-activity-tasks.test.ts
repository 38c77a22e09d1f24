import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monitorActivities } from '../../activities/monitor';
import { datasetRows, datasetVersions, feedback, predictionLog } from '../../src/db/schema';
import type { DriftEvaluation } from '../../src/monitoring/drift';
import { setAlias } from '../../src/registry/aliases';
import { registerModelVersion } from '../../src/registry/model-registry';
import { monitorInputSchema } from '../../src/shared/monitoring';
import { mulberry32 } from '../../src/shared/prng';
import { drivers, openTestRegistry, type TestRegistry } from './registry-fixtures';

/**
 * The monitor activities on a real database (PGlite, and PostgreSQL when DATABASE_URL is set) for
 * a regression model with a boolean and a datetime feature: the reference is built from the
 * dataset version's rows (ISO strings, JSON booleans), the window from logged request inputs
 * (epoch ms, "yes"/"NO"), live RMSE from numeric feedback.
 */
const DAY = 86_400_000;
const START = Date.UTC(2024, 0, 1);

function traffic(n: number, seed: number, options: { night?: boolean; errorSd: number; startDay?: number }) {
  const random = mulberry32(seed);
  const noise = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Array.from({ length: n }, () => {
    const day = (options.startDay ?? 0) + Math.floor(random() * 28);
    const hour = options.night ? Math.floor(random() * 5) : 6 + Math.floor(random() * 16);
    const departure = START + day * DAY + hour * 3_600_000 + Math.floor(random() * 3_600_000);
    const delay = 15 + 10 * noise();
    return { distance: 200 + random() * 1500, holiday: random() < 0.1, departure, delay, prediction: delay + options.errorSd * noise() };
  });
}

describe.each(drivers)('monitor activities for a regression model with boolean and datetime features on %s', (driver) => {
  let registry: TestRegistry;
  let activities: ReturnType<typeof monitorActivities>;
  const model = `kinds-${driver}`;
  const env = () => new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR', () => {}) });

  beforeAll(async () => {
    registry = await openTestRegistry(driver);
    const db = registry.database.db;
    activities = monitorActivities({
      database: registry.database,
      artifacts: registry.artifacts,
      codeVersion: { gitCommit: null, gitDirty: null },
      logger: pino({ level: 'silent' }),
    });
    const rows = traffic(4000, 1, { errorSd: 10 }).map((r) => ({
      distance: r.distance,
      holiday: r.holiday,
      departure: new Date(r.departure).toISOString(),
      delay: r.delay,
    }));
    await db.insert(datasetVersions).values({
      id: 'ds-kinds',
      name: 'kinds',
      contentHash: 'content-kinds',
      spec: {},
      columns: [
        { name: 'distance', type: 'number' },
        { name: 'holiday', type: 'boolean' },
        { name: 'departure', type: 'datetime' },
        { name: 'delay', type: 'number' },
      ],
      rowsRead: rows.length,
      rowCount: rows.length,
      quarantinedCount: 0,
    });
    for (let start = 0; start < rows.length; start += 1000) {
      await db
        .insert(datasetRows)
        .values(rows.slice(start, start + 1000).map((data, i) => ({ datasetVersionId: 'ds-kinds', rowIndex: start + i, data })));
    }
    await registerModelVersion(db, {
      modelName: model,
      idempotencyKey: `${model}/1`,
      artifactSha256: 'b'.repeat(64),
      artifactBytes: 1,
      contract: {
        task: 'regression',
        inputs: [
          { name: 'distance', type: 'float32' },
          { name: 'holiday', type: 'string' },
          { name: 'departure', type: 'float64' },
        ],
        outputs: [{ name: 'prediction', type: 'float32', shape: [-1, 1] }],
      },
      params: {
        target: 'delay',
        task: 'regression',
        features: [
          { name: 'distance', kind: 'numeric' },
          { name: 'holiday', kind: 'boolean' },
          { name: 'departure', kind: 'datetime', parts: ['hour', 'weekday'] },
        ],
      },
      metrics: { task: 'regression', n: 1000, rmse: 10, mae: 8, r2: 0.5, meanLabel: 15, meanPrediction: 15 },
      datasetVersionId: 'ds-kinds',
      datasetHash: 'content-kinds',
      trainingRunId: '',
      gitCommit: null,
      gitDirty: null,
      workflowId: '',
      runId: '',
      creator: 'test',
      source: 'pipeline',
    });
    await setAlias(db, { model, alias: 'production', version: 1, actor: 'user:test', reason: 'test' });
  });
  afterAll(() => registry?.close());

  /** Logs traffic as the server would (epoch ms, boolean words) with feedback values, in a one-hour window. */
  async function logTraffic(rows: ReturnType<typeof traffic>, hour: number) {
    const at = Date.UTC(2024, 5, 1, hour);
    const ids = rows.map(() => randomUUID());
    await registry.database.db.insert(predictionLog).values(
      rows.map((r, i) => ({
        id: ids[i],
        modelName: model,
        version: 1,
        inputs: { distance: r.distance, holiday: r.holiday ? (i % 2 ? 'yes' : 'TRUE') : i % 2 ? 'no' : 'False', departure: r.departure },
        outputs: { prediction: r.prediction },
        latencyMs: 0.1,
        createdAt: new Date(at + i),
      })),
    );
    await registry.database.db.insert(feedback).values(rows.map((r, i) => ({ predictionId: ids[i], label: null, value: r.delay })));
    return { start: new Date(at).toISOString(), end: new Date(at + 3_600_000).toISOString() };
  }

  async function report(window: { start: string; end: string }, performance: Record<string, unknown> = {}) {
    const input = monitorInputSchema.parse({ model, windowMinutes: 60, minRows: 100, window, performance });
    type Prepare = typeof activities.prepareDriftReference;
    type Compute = typeof activities.computeMonitorReport;
    const { version } = await env().run<Parameters<Prepare>, Awaited<ReturnType<Prepare>>, Prepare>(activities.prepareDriftReference, {
      model,
      window,
    });
    return env().run<Parameters<Compute>, Awaited<ReturnType<Compute>>, Compute>(activities.computeMonitorReport, {
      input,
      window,
      version,
      runKey: randomUUID(),
    });
  }

  it('the same traffic is ok in every column, and the live RMSE matches the test split', async () => {
    const outcome = await report(await logTraffic(traffic(1500, 2, { errorSd: 10 }), 1));
    const { report: summary } = outcome;
    expect(summary.status).toBe('ok');
    expect(summary.findings).toEqual([]);
    expect(summary.performance).toMatchObject({ metric: 'rmse', labelled: 1500, concept: 'ok', reference: 10 });
    expect(summary.performance!.value!).toBeGreaterThan(9);
    expect(summary.performance!.value!).toBeLessThan(11);
  });

  it('night departures on holidays with larger errors: drift in the boolean and the hour part, and concept drift from the RMSE', async () => {
    const rows = traffic(1500, 3, { errorSd: 14, night: true }).map((r) => ({ ...r, holiday: true }));
    const { report: summary } = await report(await logTraffic(rows, 2));
    expect(summary.driftedFeatures.sort()).toEqual(['departure.hour', 'holiday']);
    // 2 of the 4 compared columns (distance, holiday, departure.hour, departure.weekday): dataset drift at the default share 0.5.
    expect(summary.findings).toEqual(['data_drift', 'concept_drift']);
    expect(summary.status).toBe('drift');
    expect(summary.performance).toMatchObject({ metric: 'rmse', concept: 'drift' });
    expect(summary.message).toMatch(/performance on 1500 labels: rmse 1[34]\.\d+ \(test split 10\.0000\) — concept drift/);
  });

  it('a weekday part is not compared when the window’s departures span less than a week', async () => {
    const rows = traffic(600, 4, { errorSd: 10 }).map((r) => ({ ...r, departure: START + (r.departure % (3 * DAY)) }));
    const { report: summary } = await report(await logTraffic(rows, 3));
    const details = (await registry.database.db.query.driftReports.findFirst({ where: (r, { eq }) => eq(r.id, summary.reportId) }))!
      .features as {
      evaluation: DriftEvaluation;
    };
    const weekday = details.evaluation.columns.find((c) => c.column === 'departure.weekday')!;
    expect(weekday.status).toBe('ignored');
    expect(weekday.choice).toMatch(/less than one cycle of weekday \(7 days\)/);
    expect(details.evaluation.columns.find((c) => c.column === 'departure.hour')!.status).toBe('ok');
  });

  it('refuses a live metric of another task, naming the field and value', async () => {
    const window = { start: new Date(Date.UTC(2024, 5, 1, 1)).toISOString(), end: new Date(Date.UTC(2024, 5, 1, 2)).toISOString() };
    await expect(report(window, { metric: 'rocAuc' })).rejects.toThrow(
      'performance.metric "rocAuc" is not a live metric of a regression model (its metrics: rmse, mae)',
    );
  });
});
