import { readEnvironment } from './environment';
import { createLogger } from './logger';
import { connectTemporal, openStorage, startWorkers } from './services';
import { startWorkerHealth } from './worker-health';
import { defaultWorkerIdentity } from './workers';

/**
 * `npm run worker`: a worker process for the task queues in KEEL_TASK_QUEUES (default: all).
 * Against a shared server set TEMPORAL_ADDRESS and DATABASE_URL; embedded PGlite belongs to one
 * process, so a second process on the same data directory cannot open it.
 */
async function main() {
  const env = readEnvironment();
  const logger = createLogger(env.LOG_LEVEL);
  const { database, artifacts } = await openStorage(env);
  const temporal = await connectTemporal(env, logger);
  const workers = await startWorkers({ env, temporal: temporal.temporal, database, artifacts, logger });
  const health =
    env.KEEL_WORKER_HEALTH_PORT === undefined
      ? null
      : await startWorkerHealth({ host: env.KEEL_WORKER_HEALTH_HOST, port: env.KEEL_WORKER_HEALTH_PORT, states: workers.states });
  logger.info(
    {
      queues: env.KEEL_TASK_QUEUES ?? 'all',
      identity: env.KEEL_WORKER_IDENTITY ?? defaultWorkerIdentity(),
      health: health ? `http://${env.KEEL_WORKER_HEALTH_HOST}:${health.port}` : null,
    },
    'worker running; Ctrl-C stops it',
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await workers.close();
  health?.close();
  await temporal.close();
  await database.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`keel worker: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
