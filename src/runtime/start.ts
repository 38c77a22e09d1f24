import { Command } from 'commander';
import { and, count, desc, eq, gt } from 'drizzle-orm';
import type { Client } from '@temporalio/client';
import { sampleDatasetRows } from '../data/dataset-store';
import { driftReports, predictionLog } from '../db/schema';
import { resolveAlias, type ModelVersion } from '../registry/model-registry';
import { accessPolicy, describeAccess } from '../serving/auth';
import { startModelServer } from '../serving/http-server';
import type { TrainingPipelineResult } from '../shared/pipeline-result';
import type { ProjectConfig } from '../shared/project-config';
import { scheduleIds, taskQueues, workflowIds } from '../shared/task-queues';
import { readEnvironment } from './environment';
import { createLogger } from './logger';
import { productionHeadline } from './production-headline';
import { loadProjectConfig } from './project-config';
import { replayTraffic } from './replay-traffic';
import { ensureSchedules } from './schedules';
import { startDashboard } from './dashboard';
import { serverOptionsFromEnvironment } from './server-options';
import { connectTemporal, openStorage, startWorkers } from './services';
import { failureText } from '../cli/failure';
import { summarizeFailure } from '../shared/failure-chain';

/**
 * `npm start`: everything in one process on embedded defaults — a Temporal dev server (with its
 * web UI), PGlite, the workers and the model server. Trains the first model when none is in
 * production, then keeps running; `--once` exits after the first monitoring report instead.
 */
async function main() {
  const options = new Command('keel-start')
    .option('--once', 'exit 0 once a model serves and the first drift report is stored')
    .parse()
    .opts<{ once?: boolean }>();

  const env = readEnvironment();
  const logger = createLogger(env.LOG_LEVEL);
  const config = await loadProjectConfig(env.configPath);
  const model = config.pipeline.model;
  const say = (line = '') => process.stdout.write(`${line}\n`);

  const closers: (() => Promise<unknown>)[] = [];
  const shutdown = async () => {
    for (const close of closers.reverse()) await close().catch((error) => logger.error({ err: error }, 'shutdown step failed'));
  };

  try {
    const { database, artifacts } = await openStorage(env);
    closers.push(() => database.close());
    say(`keel: data in ${env.dataDir} (${database.kind === 'pglite' ? 'embedded PGlite' : 'PostgreSQL'})`);

    const { temporal, client, close: closeTemporal } = await connectTemporal(env, logger);
    closers.push(closeTemporal);
    say(`keel: Temporal at ${temporal.connectionOptions.address}, namespace ${temporal.namespace}`);

    const server = await startModelServer({
      ...serverOptionsFromEnvironment(env, config),
      database,
      artifacts,
      logger,
    });
    closers.push(() => server.close());

    const workers = await startWorkers({
      env,
      temporal,
      database,
      artifacts,
      logger,
      onDeployed: async () => void (await server.pool.refresh()),
    });
    closers.push(() => workers.close());

    const schedules = await ensureSchedules(client, config);

    // The dashboard shares this process's database: PGlite admits one process only.
    const dashboard = await startDashboard({ env, database, temporalUi: temporal.uiUrl, temporal: async () => client, logger });
    closers.push(() => dashboard.close());
    say(`Dashboard     ${dashboard.url} (runs, data, models, rollouts, monitoring)`);

    let production = await resolveAlias(database.db, model, 'production');
    if (!production) {
      say(`keel: no production version of "${model}" yet; running trainingPipeline (about a minute)...`);
      const result = await runInitialPipeline(client, config);
      if (result.status === 'rejected') throw new Error(`the first model was rejected by the gate: ${result.reason}`);
      if (result.status === 'rejected-by-approver') throw new Error(`the first model was not deployed: ${result.reason}`);
      production = await resolveAlias(database.db, model, 'production');
      if (!production) throw new Error(`trainingPipeline finished but "${model}" has no production version`);
    }
    await server.pool.refresh();

    const ui = temporal.uiUrl;
    say('');
    say(`Dashboard     ${dashboard.url}`);
    say(`Temporal UI   ${ui ?? '(no web UI for this server)'}`);
    if (ui) say(`  the run     ${ui}/namespaces/${temporal.namespace}/workflows/${encodeURIComponent(production.workflowId)}`);
    say(`Model         ${productionHeadline(production)}`);
    say(`Server        ${server.url}`);
    say(`Access        ${describeAccess(server.access, 'model server')}`);
    say(`              ${describeAccess(accessPolicy(env.apiKeys, env.KEEL_UI_HOST), 'dashboard')}`);
    say(`Schedules     ${schedules.join(', ')} (keel schedules list)`);
    say('Predict:');
    say(`  ${curlFor(server.url, model)}`);
    say('');

    if (options.once) {
      await exerciseOnce({ client, database, serverUrl: server.url, flushLog: () => server.logWriter.flush(), production, say });
    } else {
      say('keel is running; Ctrl-C stops it.');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      say('keel: shutting down...');
    }
  } finally {
    await shutdown();
  }
}

async function runInitialPipeline(client: Client, config: ProjectConfig): Promise<TrainingPipelineResult> {
  // A fixed id: after a crash, `npm start` attaches to the pipeline already running.
  const handle = await client.workflow.start('trainingPipeline', {
    taskQueue: taskQueues.control,
    workflowId: workflowIds.training(config.pipeline.model, 'initial'),
    args: [config.pipeline],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
  });
  return handle.result() as Promise<TrainingPipelineResult>;
}

/** Proves the loop once: a prediction over HTTP, some real traffic, then a stored drift report. */
async function exerciseOnce(options: {
  client: Client;
  database: Awaited<ReturnType<typeof openStorage>>['database'];
  serverUrl: string;
  flushLog: () => Promise<unknown>;
  production: ModelVersion;
  say: (line?: string) => void;
}) {
  const { client, database, serverUrl, flushLog, production, say } = options;
  const model = production.modelName;
  const started = new Date(Date.now() - 1000);
  const response = await fetch(`${serverUrl}/v1/models/${model}:predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ instances: [exampleInstance] }),
  });
  if (!response.ok) throw new Error(`the demo prediction failed: ${response.status} ${await response.text()}`);
  say(`Prediction    ${JSON.stringify(await response.json())}`);

  const features = (production.contract as { inputs: { name: string }[] }).inputs.map((i) => i.name);
  const rows = await sampleDatasetRows(database.db, production.datasetVersionId, 500);
  const traffic = await replayTraffic({ serverUrl, model, rows, features });
  say(`Traffic       ${traffic.predictions} January flights sent in ${traffic.requests} requests`);

  // The server logs after answering: wait until every prediction just made is stored, so the
  // report sees them all.
  const expected = traffic.predictions + 1;
  await waitFor(async () => {
    await flushLog();
    const [{ logged }] = await database.db
      .select({ logged: count() })
      .from(predictionLog)
      .where(and(eq(predictionLog.modelName, model), gt(predictionLog.createdAt, started)));
    return logged >= expected ? logged : undefined;
  }, 60_000);
  const since = new Date();
  await client.schedule.getHandle(scheduleIds.monitor(model)).trigger();
  const report = await waitFor(async () => {
    const [latest] = await database.db
      .select()
      .from(driftReports)
      .where(and(eq(driftReports.modelName, model), gt(driftReports.createdAt, since)))
      .orderBy(desc(driftReports.createdAt))
      .limit(1);
    return latest;
  }, 120_000);
  const details = report.features as {
    message: string;
    features: { feature: string; method: string; score: number | null; threshold: number; drifted: boolean; psi: number | null }[];
  };
  say(`Drift report  #${report.id} ${report.status}: ${details.message}; ${report.rowCount} logged predictions`);
  const number = (x: number | null) => (x === null ? '-' : x.toFixed(4));
  for (const f of details.features) {
    say(
      `  ${f.feature.padEnd(12)} ${f.method.padEnd(13)} ${number(f.score)} (threshold ${f.threshold})${f.drifted ? ' DRIFT' : ''}  PSI ${number(f.psi)}`,
    );
  }
}

const exampleInstance = { hour: 17, weekday: 5, distance: 733, origin: 'ORD', destination: 'LGA' };

function curlFor(serverUrl: string, model: string): string {
  return `curl -s -X POST ${serverUrl}/v1/models/${model}:predict -H 'content-type: application/json' -d '${JSON.stringify({ instances: [exampleInstance] })}'`;
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    // A failed workflow: its root cause and chain, as the CLI prints it; anything else: the stack.
    const summary = summarizeFailure(error);
    process.stderr.write(`${summary.cause.length > 1 ? failureText(summary) : `keel: ${(error as Error).stack ?? String(error)}`}\n`);
    process.exit(1);
  },
);
