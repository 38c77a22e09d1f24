import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { and, eq, inArray } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleDatasetRows } from '../../src/data/dataset-store';
import { alerts, driftReferences, driftReports, predictionLog } from '../../src/db/schema';
import type { DriftEvaluation } from '../../src/monitoring/drift';
import type { LivePerformance } from '../../src/monitoring/live-performance-types';
import { getAlert, listAlerts } from '../../src/notify/alert-store';
import { loadProjectConfig } from '../../src/runtime/project-config';
import { startModelServer, type ModelServer } from '../../src/serving/http-server';
import { getRoute } from '../../src/serving/routes';
import type { MonitorRequest } from '../../src/shared/monitoring';
import type { DriftReportSummary, TrainingPipelineResult } from '../../src/shared/pipeline-result';
import type { ProjectConfig } from '../../src/shared/project-config';
import { taskQueues } from '../../src/shared/task-queues';
import { captureHistory, historyCapturePath } from './capture-history';
import { createHarness, type Harness } from './harness';
import { logPredictions, predict, sendFeedback, startWebhookReceiver, type WebhookReceiver } from './monitor-support';
import type { canaryRollout } from '../../workflows/canary-rollout';

let harness: Harness;
let server: ModelServer;
let receiver: WebhookReceiver;
let config: ProjectConfig;
let version: number;
let features: string[];
let january: Record<string, unknown>[];
const model = `monitor-it-${Date.now().toString(36)}`;
let runs = 0;

/**
 * The monitor workflow on real components: a model trained by trainingPipeline on 20,000 real
 * January 2001 flights, the real model server and feedback endpoint, a scripted webhook receiver.
 * Each test monitors an explicit window around the traffic it made.
 */
describe('monitor', () => {
  beforeAll(async () => {
    harness = await createHarness();
    receiver = await startWebhookReceiver();
    const base = await loadProjectConfig('keel.config.json');
    config = { ...base, pipeline: { ...base.pipeline, model, dataset: { ...base.pipeline.dataset, limit: 20_000 } } };
    const result = await harness.withWorkers(async () => {
      const handle = await harness.client.workflow.start('trainingPipeline', {
        taskQueue: taskQueues.control,
        workflowId: `train/${model}/it`,
        args: [config.pipeline],
      });
      return (await handle.result()) as TrainingPipelineResult;
    });
    if (result.status !== 'registered') throw new Error(`setup: the pipeline did not register a model: ${result.reason}`);
    version = result.version;
    features = config.pipeline.features.map((f) => f.name);
    server = await startModelServer({
      database: harness.database,
      artifacts: harness.artifacts,
      port: 0,
      refreshMs: 60_000,
      logger: pino({ level: 'warn' }),
    });
    january = await sampleDatasetRows(harness.database.db, result.datasetVersionId, 1500);
  });
  afterAll(async () => {
    await server?.close();
    await receiver?.close();
    await harness?.close();
  });

  /** Monitor settings for the tests: the config's, with webhooks to the local receiver and quick retries. */
  function request(overrides: Partial<MonitorRequest> & { window: { start: string; end: string } }): MonitorRequest {
    return {
      model,
      windowMinutes: 60,
      minRows: 100,
      drift: config.monitor.drift,
      performance: { ...config.monitor.performance, minLabelled: 100 },
      notifications: {
        webhooks: [
          { name: 'ops-slack', url: `${receiver.url}/slack`, format: 'slack', minSeverity: 'warning' },
          { name: 'pager', url: `${receiver.url}/generic`, format: 'generic', minSeverity: 'critical' },
        ],
        retry: { maximumAttempts: 3, initialIntervalSeconds: 0.2, backoffCoefficient: 2 },
      },
      ...overrides,
    };
  }

  function runMonitor(input: MonitorRequest): Promise<DriftReportSummary> {
    return harness.withWorkers(async () => {
      const handle = await harness.client.workflow.start('monitor', {
        taskQueue: taskQueues.control,
        workflowId: `monitor/${model}/${++runs}`,
        args: [input],
      });
      return (await handle.result()) as DriftReportSummary;
    });
  }

  /** Sends rows through the model server and returns the window that holds exactly them. */
  async function traffic(rows: Record<string, unknown>[]) {
    const start = new Date();
    const predictions = await predict(server.url, model, rows, features);
    await server.logWriter.flush();
    await new Promise((resolve) => setTimeout(resolve, 5));
    return { predictions, window: { start: start.toISOString(), end: new Date().toISOString() } };
  }

  async function storedReport(id: number) {
    const [row] = await harness.database.db.select().from(driftReports).where(eq(driftReports.id, id));
    return row;
  }

  it('an empty window gives a clear "not enough data" report and no alarm', async () => {
    const before = receiver.received.length;
    const report = await runMonitor(request({ window: { start: '2031-01-01T00:00:00Z', end: '2031-01-01T01:00:00Z' } }));
    expect(report).toMatchObject({ status: 'insufficient_data', rowCount: 0, findings: [], alerts: [], version });
    expect(report.message).toContain('not enough data: 0 rows in the window, 100 needed');
    expect(report.dataPeriod).toEqual({ from: '2031-01-01', to: '2031-01-02' });
    expect((await storedReport(report.reportId)).status).toBe('insufficient_data');
    expect(receiver.received.length).toBe(before);
    // The version's drift reference was built once, from its training data and test-split scores.
    const [reference] = await harness.database.db.select().from(driftReferences).where(eq(driftReferences.modelName, model));
    expect(reference.summary).toMatchObject({ rows: 20_000, target: 'delayed' });
    expect(Object.keys((reference.references as { features: object }).features).sort()).toEqual([...features].sort());
  });

  it('January traffic with its true delays is ok; the report holds every statistic and live performance', async () => {
    const { predictions, window } = await traffic(january);
    await sendFeedback(
      server.url,
      predictions.map((p, i) => ({ prediction_id: p.id, label: Number(january[i].delayed) })),
    );
    const report = await runMonitor(request({ window }));
    expect(report.status).toBe('ok');
    expect(report.rowCount).toBe(1500);
    expect(report.findings).toEqual([]);
    expect(report.performance).toMatchObject({ version, labelled: 1500, metric: 'rocAuc', concept: 'ok', labelShift: 'ok' });
    expect(report.alerts).toEqual([]);
    const stored = await storedReport(report.reportId);
    const evaluation = (stored.features as { evaluation: DriftEvaluation }).evaluation;
    // The first 20,000 January flights are January 1 and 2: two weekdays, compared as few values (Jensen–Shannon).
    expect(evaluation.columns.map((c) => [c.column, c.method])).toEqual([
      ['hour', 'wasserstein'],
      ['weekday', 'jensenshannon'],
      ['distance', 'wasserstein'],
      ['origin', 'psi'],
      ['destination', 'psi'],
    ]);
    expect(evaluation.prediction).toMatchObject({ column: 'probability', status: 'ok' });
    expect((stored.performance as LivePerformance).versions[0].metrics?.n).toBe(1500);
  });

  it('finds drift in shifted traffic and alerts once per incident, to Slack and the generic webhook by severity', async () => {
    const shifted = january.map((row) => ({
      ...row,
      hour: (Number(row.hour) + 9) % 24,
      weekday: (Number(row.weekday) + 3) % 7,
      distance: Number(row.distance) * 2.5,
    }));
    const { window } = await traffic(shifted);
    const before = receiver.received.length;
    const report = await runMonitor(request({ window }));
    expect(report.status).toBe('drift');
    expect(report.findings).toContain('data_drift');
    expect(report.driftedFeatures).toEqual(expect.arrayContaining(['hour', 'weekday', 'distance']));
    const dataDrift = report.alerts.find((a) => a.kind === 'data_drift')!;
    expect(dataDrift).toMatchObject({ severity: 'critical', created: true });
    expect(report.actions.deliveries).toEqual(
      expect.arrayContaining([
        { alertId: dataDrift.id, target: 'ops-slack', status: 'delivered' },
        { alertId: dataDrift.id, target: 'pager', status: 'delivered' },
      ]),
    );
    const slack = receiver.to('/slack').slice(-report.alerts.length);
    expect(slack.map((r) => (r.body as { text: string }).text)).toEqual(expect.arrayContaining([expect.stringMatching(/data drift/)]));
    expect(receiver.to('/generic').at(-1)!.body).toMatchObject({ type: 'keel.alert', version: 1, alert: { kind: 'data_drift', model } });
    expect(receiver.received.at(-1)!.headers['idempotency-key']).toMatch(new RegExp(`^[a-z_]+:${model}:v${version}:`));
    const sent = receiver.received.length - before;

    // The same incident again (same window: a retried or repeated run): stored once, not sent again.
    const again = await runMonitor(request({ window }));
    expect(again.reportId).not.toBe(report.reportId);
    expect(again.alerts.find((a) => a.kind === 'data_drift')).toMatchObject({ id: dataDrift.id, created: false, pending: [] });
    expect(receiver.received.length - before).toBe(sent);
    const stored = await getAlert(harness.database.db, dataDrift.id);
    expect(stored?.deliveryStatus).toBe('delivered');
  });

  it('reports a feature missing from the logged inputs as a schema problem and compares the others', async () => {
    const at = new Date('2031-02-01T00:30:00Z');
    await logPredictions(
      harness.database,
      model,
      january.slice(0, 400).map((row) => ({
        version,
        inputs: { hour: row.hour, weekday: row.weekday, distance: row.distance, destination: row.destination },
        probability: 0.2,
        label: 0,
        createdAt: at,
      })),
    );
    const report = await runMonitor(request({ window: { start: '2031-02-01T00:00:00Z', end: '2031-02-01T01:00:00Z' } }));
    expect(report.rowCount).toBe(400);
    expect(report.findings).toContain('schema');
    const schema = report.alerts.find((a) => a.kind === 'schema')!;
    expect(schema.severity).toBe('critical');
    const stored = await getAlert(harness.database.db, schema.id);
    expect(stored?.alert.lines).toEqual(['origin: absent']);
    const evaluation = ((await storedReport(report.reportId)).features as { evaluation: DriftEvaluation }).evaluation;
    expect(evaluation.columns.find((c) => c.column === 'origin')?.status).toBe('absent');
    expect(evaluation.columns.filter((c) => c.status === 'ok' || c.status === 'drift')).toHaveLength(4);
  });

  it('a webhook that answers 500 or times out is retried with backoff, then recorded as failed; the monitor completes', async () => {
    receiver.always('/down', { status: 500 });
    receiver.always('/slow', { hang: true });
    const at = new Date('2031-03-01T00:30:00Z');
    await logPredictions(
      harness.database,
      model,
      january.slice(0, 300).map((row) => ({ version, inputs: { ...row, origin: undefined }, probability: 0.2, label: 0, createdAt: at })),
    );
    const started = Date.now();
    const report = await runMonitor(
      request({
        window: { start: '2031-03-01T00:00:00Z', end: '2031-03-01T01:00:00Z' },
        notifications: {
          webhooks: [
            { name: 'down', url: `${receiver.url}/down`, minSeverity: 'warning' },
            { name: 'slow', url: `${receiver.url}/slow`, minSeverity: 'warning', timeoutMs: 300 },
            { name: 'fine', url: `${receiver.url}/fine`, minSeverity: 'warning' },
          ],
          retry: { maximumAttempts: 3, initialIntervalSeconds: 0.5, backoffCoefficient: 2 },
        },
      }),
    );
    expect(report.status).not.toBe('insufficient_data');
    const schema = report.alerts.find((a) => a.kind === 'schema')!;
    expect(report.actions.deliveries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          alertId: schema.id,
          target: 'down',
          status: 'failed',
          error: expect.stringContaining('answered HTTP 500'),
        }),
        expect.objectContaining({
          alertId: schema.id,
          target: 'slow',
          status: 'failed',
          error: expect.stringContaining('timed out after 300 ms'),
        }),
        { alertId: schema.id, target: 'fine', status: 'delivered' },
      ]),
    );
    const stored = await getAlert(harness.database.db, schema.id);
    expect(stored?.deliveryStatus).toBe('partial');
    expect(stored?.deliveries.find((d) => d.target === 'down')).toMatchObject({ status: 'failed', attempts: 3, httpStatus: 500 });
    expect(stored?.deliveries.find((d) => d.target === 'slow')).toMatchObject({ status: 'failed', attempts: 3 });
    // Three attempts with backoff 0.5 s then 1 s between them.
    const down = receiver.to('/down').filter((r) => r.at >= started && r.headers['idempotency-key'] === `${stored!.incidentKey}/down`);
    expect(down).toHaveLength(3);
    expect(down[1].at - down[0].at).toBeGreaterThanOrEqual(400);
    expect(down[2].at - down[1].at).toBeGreaterThanOrEqual(900);
  });

  it('joins late ground truth: concept drift and label drift of the served version', async () => {
    const { predictions, window } = await traffic(january.slice(0, 1000));
    // Half the labels arrive, and they contradict the model: delayed where it sees low risk, on time where it sees high risk.
    const order = predictions.map((p, i) => ({ p, i })).sort((a, b) => a.p.probability - b.p.probability);
    const labels = [
      ...order.slice(0, 250).map(({ p }) => ({ prediction_id: p.id, label: 1 })),
      ...order.slice(-250).map(({ p }) => ({ prediction_id: p.id, label: 0 })),
    ];
    let report = await runMonitor(request({ window }));
    expect(report.performance).toMatchObject({ labelled: 0, concept: 'insufficient_labels' });
    await sendFeedback(server.url, labels);
    report = await runMonitor(request({ window }));
    expect(report.status).toBe('drift');
    expect(report.findings).toEqual(expect.arrayContaining(['concept_drift', 'label_drift']));
    expect(report.performance).toMatchObject({ labelled: 500, concept: 'drift', labelShift: 'drift' });
    expect(report.performance!.value!).toBeLessThan(0.5);
    expect(report.alerts.map((a) => [a.kind, a.severity])).toEqual(
      expect.arrayContaining([
        ['concept_drift', 'critical'],
        ['label_drift', 'warning'],
      ]),
    );
  });

  it('sustained drift starts trainingPipeline on the drifted period, once per run of drifted reports', async () => {
    const input = (n: number): MonitorRequest => {
      const month = String(n + 3).padStart(2, '0');
      return request({
        window: { start: `2031-${month}-01T00:00:00Z`, end: `2031-${month}-01T01:00:00Z` },
        dataPeriod: { from: `2001-${month}-01`, to: `2001-${month}-08` },
        notifications: { webhooks: [] },
        policy: { retrain: { enabled: true, afterConsecutive: 2, pipeline: { ...config.pipeline, deploy: false } } },
      });
    };
    for (const n of [1, 2, 3]) {
      const month = String(n + 3).padStart(2, '0');
      await logPredictions(
        harness.database,
        model,
        january.slice(0, 300).map((row) => ({
          version,
          inputs: { ...row, distance: Number(row.distance) * 3, hour: 23 },
          probability: 0.2,
          label: 0,
          createdAt: new Date(`2031-${month}-01T00:10:00Z`),
        })),
      );
    }
    // An ok report first: earlier tests' drifted reports of this version must not count.
    const clean = await predict(server.url, model, january.slice(0, 1000), features);
    await logPredictions(
      harness.database,
      model,
      clean.map((p, i) => ({
        version,
        inputs: january[i],
        probability: p.probability,
        label: p.label as 0 | 1,
        createdAt: new Date('2031-03-31T00:10:00Z'),
      })),
    );
    const ok = await runMonitor(
      request({ window: { start: '2031-03-31T00:00:00Z', end: '2031-03-31T01:00:00Z' }, performance: { enabled: false } }),
    );
    expect(ok.status).toBe('ok');
    const first = await runMonitor(input(1));
    expect(first.status).toBe('drift');
    expect(first.actions.retrain).toBeUndefined();
    const second = await runMonitor(input(2));
    expect(second.actions.retrain).toMatchObject({
      started: true,
      consecutive: 2,
      period: { from: '2001-04-01', to: '2001-05-08' },
      workflowId: `train/${model}/drift-${second.reportId}`,
    });
    expect(second.alerts.find((a) => a.kind === 'retraining')).toMatchObject({ severity: 'info', created: true });
    const training = harness.client.workflow.getHandle(second.actions.retrain!.workflowId);
    const description = await training.describe();
    expect(description.type).toBe('trainingPipeline');
    const [args] = (await training.fetchHistory()).events![0].workflowExecutionStartedEventAttributes!.input!.payloads!;
    expect(JSON.parse(Buffer.from(args.data!).toString())).toMatchObject({
      dataset: { recipe: 'flights', period: { from: '2001-04-01', to: '2001-05-08' }, name: `${model}-2001-04-01_2001-05-08` },
    });
    await training.terminate('the test only checks that it started').catch(() => {});
    // The drift goes on, but the run of reports starts again after a retraining.
    const third = await runMonitor(input(3));
    expect(third.status).toBe('drift');
    expect(third.actions.retrain).toBeUndefined();
    const [stored] = await harness.database.db.select().from(driftReports).where(eq(driftReports.id, second.reportId));
    expect(stored.actions).toMatchObject({ retrain: { started: true } });
  });

  it('the long-running variant checks in a loop and continues as new', async () => {
    const { workflowId, firstRunId, result } = await harness.withWorkers(async () => {
      const id = `monitor/${model}/loop`;
      const handle = await harness.client.workflow.start('monitor', {
        taskQueue: taskQueues.control,
        workflowId: id,
        args: [
          {
            ...request({ window: { start: '', end: '' } }),
            window: undefined,
            loop: { everySeconds: 1, iterationsPerRun: 2, maxIterations: 3 },
          },
        ],
      });
      return { workflowId: id, firstRunId: handle.firstExecutionRunId, result: (await handle.result()) as DriftReportSummary };
    });
    expect(result.window.end > result.window.start).toBe(true);
    const executions = [];
    for await (const execution of harness.client.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
      executions.push(execution.status.name);
    expect(executions.sort()).toEqual(['COMPLETED', 'CONTINUED_AS_NEW']);
    // Replay fixtures (test/replay/monitor.replay.test.ts): the run that continued as new, and the next.
    const first = harness.client.workflow.getHandle(workflowId, firstRunId);
    const next = (await first.fetchHistory()).events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    expect(next).toBeTruthy();
    for (const [runId, name] of [
      [firstRunId, 'monitor-loop-run-1.json'],
      [next!, 'monitor-loop-run-2.json'],
    ]) {
      const path = historyCapturePath(name);
      if (path) await captureHistory(workflowId, path, runId);
    }
    const keys = await harness.database.db
      .select({ runKey: driftReports.runKey })
      .from(driftReports)
      .where(eq(driftReports.modelName, model));
    expect(
      keys
        .filter((k) => k.runKey.startsWith(`${workflowId}/`))
        .map((k) => k.runKey.split('/').at(-1))
        .sort(),
    ).toEqual(['0', '1', '2']);
  });

  it('signals rollback to an active canary whose candidate shows concept drift on its own predictions', async () => {
    // A candidate registered by the same pipeline (not deployed), rolled out at 50 % with a long bake.
    const candidate = await harness.withWorkers(async () => {
      const handle = await harness.client.workflow.start('trainingPipeline', {
        taskQueue: taskQueues.control,
        workflowId: `train/${model}/candidate`,
        args: [{ ...config.pipeline, deploy: false }],
      });
      return (await handle.result()) as TrainingPipelineResult;
    });
    if (candidate.status !== 'registered') throw new Error('the candidate was not registered');
    const rolloutId = `canary/${model}`;
    const outcome = await harness.withWorkers(async () => {
      const rollout = await harness.client.workflow.start<typeof canaryRollout>('canaryRollout', {
        taskQueue: taskQueues.control,
        workflowId: rolloutId,
        args: [{ model, candidate: candidate.version, steps: [50], bakeSeconds: 600, checkEverySeconds: 300, initiator: 'user:test' }],
      });
      await expect.poll(async () => (await getRoute(harness.database.db, model))?.candidateWeight, { timeout: 20_000 }).toBe(0.5);
      await server.pool.refresh();
      const { predictions, window } = await traffic(january);
      const byVersion = await harness.database.db
        .select({ id: predictionLog.id, version: predictionLog.version })
        .from(predictionLog)
        .where(
          inArray(
            predictionLog.id,
            predictions.map((p) => p.id),
          ),
        );
      const versionOf = new Map(byVersion.map((r) => [r.id, r.version]));
      // Ground truth: the baseline's rows get their true delays; the candidate's contradict its scores.
      await sendFeedback(
        server.url,
        predictions.map((p, i) => ({
          prediction_id: p.id,
          label: versionOf.get(p.id) === candidate.version ? (p.probability < 0.2 ? 1 : 0) : Number(january[i].delayed),
        })),
      );
      const monitorRun = await harness.client.workflow.start('monitor', {
        taskQueue: taskQueues.control,
        workflowId: `monitor/${model}/${++runs}`,
        args: [request({ window })],
      });
      const report = (await monitorRun.result()) as DriftReportSummary;
      return { report, result: await rollout.result() };
    });
    const { report, result } = outcome;
    expect(report.performance).toMatchObject({ version, concept: 'ok' });
    expect(report.actions.rollback).toMatchObject({ workflowId: rolloutId, candidate: candidate.version, signalled: true });
    expect(report.alerts.find((a) => a.kind === 'rollback')).toMatchObject({ severity: 'critical', created: true });
    expect(result.outcome).toBe('rolled_back');
    expect(result.decision.actor).toMatch(/^workflow:monitor\//);
    expect(result.decision.reason).toContain(`candidate v${candidate.version} live rocAuc`);
    expect(await getRoute(harness.database.db, model)).toBeUndefined();
    const stored = await storedReport(report.reportId);
    const candidatePerformance = (stored.performance as LivePerformance).versions.find((v) => v.version === candidate.version)!;
    expect(candidatePerformance.concept.status).toBe('drift');
  });

  it('a reference from another schema fails the monitor at once, naming the columns, and raises a monitor_error alert', async () => {
    const db = harness.database.db;
    const key = and(eq(driftReferences.modelName, model), eq(driftReferences.version, version));
    const [original] = await db.select().from(driftReferences).where(key);
    const other = {
      features: {
        price: {
          kind: 'numeric',
          rows: 10,
          missing: 0,
          min: 1,
          max: 9,
          mean: 5,
          std: 2,
          bins: { kind: 'numeric', edges: [5], proportions: [0.5, 0.5], missing: 0 },
        },
        hour: {
          kind: 'categorical',
          rows: 10,
          missing: 0,
          counts: [{ value: 'x', count: 10 }],
          other: 0,
          bins: { kind: 'categorical', categories: ['x'], proportions: [1, 0], missing: 0 },
        },
      },
      prediction: null,
    };
    await db.update(driftReferences).set({ references: other }).where(key);
    try {
      const error = await runMonitor(request({ window: { start: '2031-09-01T00:00:00Z', end: '2031-09-01T01:00:00Z' } })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(WorkflowFailedError);
      const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
      expect(cause.type).toBe('DataValidationError');
      expect(cause.nonRetryable).toBe(true);
      expect(cause.message).toContain(
        'the drift reference does not match the monitored columns: no reference for "weekday", "distance", "origin", "destination"',
      );
      const failures = await listAlerts(db, { model, kind: 'monitor_error' });
      expect(failures).toHaveLength(1);
      expect(failures[0].severity).toBe('critical');
      expect(failures[0].deliveryStatus).toBe('delivered');
    } finally {
      await db.update(driftReferences).set({ references: original.references }).where(key);
    }
    const rows = await db.select().from(alerts).where(eq(alerts.modelName, model));
    expect(rows.every((r) => r.deliveryStatus !== 'pending')).toBe(true);
  });
});
