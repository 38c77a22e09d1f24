import cluster from 'node:cluster';
import { openDatabase } from '../db/database';
import { openArtifactStore } from '../registry/artifact-config';
import { startModelServer } from '../serving/http-server';
import { startTailTrace, stopTailTrace } from '../serving/tail-trace';
import { readEnvironment } from './environment';
import { answerMetricsRequests, clusterMetrics, runServerPrimary, shareExplicitRefreshes } from './server-cluster';
import { createLogger } from './logger';
import { loadProjectConfig } from './project-config';
import { serverOptionsFromEnvironment } from './server-options';

/**
 * `npm run server`: the model server alone; it follows the `production` aliases and the serving
 * routes in the database. It imports only storage and serving (not the workers and activities),
 * so it starts fast and a replica carries no training code. Serving settings from the
 * environment: KEEL_SERVER_PROCESSES (default 1), KEEL_SERVE_MODELS, KEEL_ROUTING_REFRESH_MS, KEEL_PREDICTION_LOG_CAPACITY, KEEL_PREDICTION_SPOOL, KEEL_PREDICTION_SPOOL_DIR, KEEL_INFERENCE_INLINE_MS, KEEL_INFERENCE_THREADS (default 2, or 1 per
 * process with several processes), KEEL_API_KEYS, KEEL_ADMIN_KEYS, and the request limits
 * KEEL_MAX_CATEGORY_LENGTH(S), KEEL_HEADERS_TIMEOUT_S, KEEL_REQUEST_TIMEOUT_S (see docs/serving.md).
 */
async function main() {
  const env = readEnvironment();
  const logger = createLogger(env.LOG_LEVEL);
  const processes = env.KEEL_SERVER_PROCESSES;
  if (processes > 1 && cluster.isPrimary) {
    if (!env.DATABASE_URL) {
      throw new Error(
        `KEEL_SERVER_PROCESSES=${processes} needs PostgreSQL (DATABASE_URL): the embedded PGlite database belongs to one process`,
      );
    }
    // Migrations once, here, rather than racing in every process.
    await (await openDatabase({ url: env.DATABASE_URL, dataDir: env.dataDir })).close();
    await runServerPrimary({ processes, logger });
    return;
  }
  // Listening from the start: a stop asked for while the server starts waits for it to be up
  // (then closes it properly) instead of killing it halfway.
  const stopRequested = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  if (env.KEEL_TAIL_TRACE) startTailTrace(env.KEEL_TAIL_TRACE);
  const config = await loadProjectConfig(env.configPath);
  const database = await openDatabase({ url: env.DATABASE_URL, dataDir: env.dataDir });
  const artifacts = openArtifactStore(env.artifactStore);
  const one = processes === 1;
  let onExplicitRefresh: (() => void) | undefined;
  const server = await startModelServer({
    ...serverOptionsFromEnvironment(env, config),
    database,
    artifacts,
    logger,
    // Several processes share the cores: one inference thread each unless told otherwise.
    inferenceThreads: env.KEEL_INFERENCE_THREADS ?? (one ? undefined : 1),
    metricsText: one ? undefined : clusterMetrics(),
    onExplicitRefresh: () => onExplicitRefresh?.(),
  });
  if (!one) {
    answerMetricsRequests(async () => (await server.metrics.render()).body);
    onExplicitRefresh = shareExplicitRefreshes(() => server.pool.refresh(), logger);
  }
  logger.info({ url: server.url }, 'model server running; Ctrl-C stops it');
  await stopRequested;
  await server.close();
  await database.close();
  await stopTailTrace();
  // A cluster process's IPC channel would keep it alive.
  if (cluster.isWorker) process.disconnect();
}

main().catch((error: unknown) => {
  process.stderr.write(`keel server: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
