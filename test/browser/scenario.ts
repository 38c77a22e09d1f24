import { and, eq, sql } from 'drizzle-orm';
import { pino } from 'pino';
import { sampleDatasetRows } from '../../src/data/dataset-store';
import { approvals, rolloutEvents, rollouts } from '../../src/db/schema';
import { loadProjectConfig } from '../../src/runtime/project-config';
import { startModelServer, type ModelServer } from '../../src/serving/http-server';
import type { MonitorRequest } from '../../src/shared/monitoring';
import type { DriftReportSummary, TrainingPipelineResult } from '../../src/shared/pipeline-result';
import type { ProjectConfig } from '../../src/shared/project-config';
import { taskQueues } from '../../src/shared/task-queues';
import type { Harness } from '../integration/harness';
import { predict, sendFeedback } from '../integration/monitor-support';

/**
 * What the browser tests look at, made by keel itself on real components: a pipeline run on
 * 20,000 real January 2001 flights (v1, production), two monitor reports over real traffic with
 * ground truth (the second shifted: drift), and a second, tuned pipeline run (v2) whose canary
 * rollout passes its first step on live traffic, then waits for an operator; and a third run
 * that waits for approval before it deploys.
 */
export interface Scenario {
  model: string;
  features: string[];
  first: Extract<TrainingPipelineResult, { status: 'registered' }>;
  second: Extract<TrainingPipelineResult, { status: 'registered' }>;
  reports: DriftReportSummary[];
  rolloutId: string;
  /** A third run (v3) that waits for a person's approval before it deploys. */
  awaiting: { workflowId: string; runId: string; result: Promise<TrainingPipelineResult> };
  server: ModelServer;
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function runPipeline(harness: Harness, pipeline: ProjectConfig['pipeline'], id: string) {
  const handle = await harness.client.workflow.start('trainingPipeline', {
    taskQueue: taskQueues.control,
    workflowId: `train/${pipeline.model}/${id}`,
    args: [pipeline],
  });
  const result = (await handle.result()) as TrainingPipelineResult;
  if (result.status !== 'registered') throw new Error(`setup: pipeline ${id} did not register a model: ${result.reason}`);
  return result;
}

/** Runs with the harness's workers running (the caller keeps them running for the rollout). */
export async function buildScenario(harness: Harness): Promise<Scenario> {
  const base = await loadProjectConfig('keel.config.json');
  const model = `ui-it-${Date.now().toString(36)}`;
  const pipeline = { ...base.pipeline, model, dataset: { ...base.pipeline.dataset, limit: 20_000 } };
  const features = pipeline.features.map((f) => f.name);
  const first = await runPipeline(harness, pipeline, 'first');

  const server = await startModelServer({
    database: harness.database,
    artifacts: harness.artifacts,
    port: 0,
    refreshMs: 250,
    logger: pino({ level: 'warn' }),
  });
  harness.setOnDeployed(async () => void (await server.pool.refresh()));
  await server.pool.refresh();
  const january = await sampleDatasetRows(harness.database.db, first.datasetVersionId, 600);

  const monitor = async (rows: Record<string, unknown>[], n: number) => {
    const start = new Date();
    const predictions = await predict(server.url, model, rows, features);
    await sendFeedback(
      server.url,
      predictions.map((p, i) => ({ prediction_id: p.id, label: Number(rows[i].delayed) })),
    );
    await server.logWriter.flush();
    await wait(5);
    const input: MonitorRequest = {
      model,
      windowMinutes: 60,
      minRows: 100,
      drift: base.monitor.drift,
      performance: { ...base.monitor.performance, minLabelled: 100 },
      notifications: { webhooks: [], retry: { maximumAttempts: 1, initialIntervalSeconds: 0.2, backoffCoefficient: 2 } },
      window: { start: start.toISOString(), end: new Date().toISOString() },
    };
    const handle = await harness.client.workflow.start('monitor', {
      taskQueue: taskQueues.control,
      workflowId: `monitor/${model}/${n}`,
      args: [input],
    });
    return (await handle.result()) as DriftReportSummary;
  };
  const shifted = january.map((row) => ({ ...row, hour: (Number(row.hour) + 9) % 24, distance: Number(row.distance) * 3 }));
  const reports = [await monitor(january, 1), await monitor(shifted, 2)];

  // The canary's first step is judged on a burst of live traffic sent once its route is applied;
  // nothing follows, so the 100 % step lacks data and pauses for an operator.
  const secondHandle = await harness.client.workflow.start('trainingPipeline', {
    taskQueue: taskQueues.control,
    workflowId: `train/${model}/second`,
    args: [
      {
        ...pipeline,
        tuning: { strategy: 'grid', space: { l2: [0.0001, 0.01] }, concurrency: 2 },
        rollout: {
          strategy: 'canary',
          steps: [25, 100],
          bakeSeconds: 5,
          checkEverySeconds: 1,
          health: { minRequests: 20 },
          insufficientData: { action: 'pause' },
        },
      },
    ],
  });
  const rolloutEvent = async (kind: string) => {
    for (let i = 0; i < 600; i++) {
      const [event] = await harness.database.db
        .select({ rolloutId: rolloutEvents.rolloutId, kind: rolloutEvents.kind })
        .from(rolloutEvents)
        .innerJoin(rollouts, eq(rollouts.id, rolloutEvents.rolloutId))
        .where(and(eq(rollouts.modelName, model), eq(rolloutEvents.kind, kind)));
      if (event) return event.rolloutId;
      const [ended] = await harness.database.db
        .select()
        .from(rollouts)
        .where(and(eq(rollouts.modelName, model), sql`${rollouts.status} <> 'running'`));
      if (ended) throw new Error(`setup: the rollout ended early: ${ended.status} (${ended.reason})`);
      await wait(100);
    }
    throw new Error(`setup: no rollout event "${kind}" within 60 s`);
  };
  await rolloutEvent('step');
  // The burst must meet the route: a loaded machine can delay the background refresh past any
  // fixed wait, and a burst before the route reaches the baseline alone (the step then pauses).
  for (let i = 0; !server.pool.route(model); i++) {
    if (i > 300) throw new Error('setup: the model server did not take up the canary route within 60 s');
    await server.pool.refresh();
    await wait(200);
  }
  // 80 requests of 5 rows: traffic is split per request, and 4 requests of 100 rows left the
  // candidate without one a third of the time (0.75^4), so the step paused instead of passing.
  await predict(server.url, model, january.slice(0, 400), features, 5);
  const second = (await secondHandle.result()) as TrainingPipelineResult;
  if (second.status !== 'registered' || !second.rollout) throw new Error('setup: the second pipeline started no rollout');
  const rolloutId = await rolloutEvent('step_passed');

  const approvalHandle = await harness.client.workflow.start('trainingPipeline', {
    taskQueue: taskQueues.control,
    workflowId: `train/${model}/approval`,
    args: [{ ...pipeline, approval: { required: true, timeout: '1h' } }],
  });
  const result = approvalHandle.result() as Promise<TrainingPipelineResult>;
  result.catch(() => undefined);
  for (let i = 0; ; i++) {
    const [pending] = await harness.database.db.select().from(approvals).where(eq(approvals.workflowId, approvalHandle.workflowId));
    if (pending) break;
    if (i > 300) throw new Error('setup: the third pipeline did not ask for approval within 60 s');
    await wait(200);
  }
  const awaiting = { workflowId: approvalHandle.workflowId, runId: approvalHandle.firstExecutionRunId, result };
  return { model, features, first, second: second, reports, rolloutId, awaiting, server };
}
