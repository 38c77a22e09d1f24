import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from '../../activities';
import { createPooledScorer } from '../batch/batch-scorer';
import { type Database, openDatabase } from '../db/database';
import { openArtifactStore } from '../registry/artifact-config';
import type { ArtifactStore } from '../registry/artifact-store';
import { readCodeVersion } from './code-version';
import { loadTrainerCommands } from './project-config';
import type { Environment } from './environment';
import { provideTemporal } from './temporal-dev-server';
import { withFaultPauses } from './fault-pauses';
import { createWorkers, parseTaskQueues, trainActivitySlots } from './workers';

/** The pieces every keel process is built from; each returns what it must close. */

export async function openStorage(env: Environment): Promise<{ database: Database; artifacts: ArtifactStore }> {
  const database = await openDatabase({ url: env.DATABASE_URL, dataDir: env.dataDir });
  // <dataDir>/artifacts by default; KEEL_ARTIFACT_STORE selects another directory or s3://bucket/prefix.
  const artifacts = openArtifactStore(env.artifactStore);
  return { database, artifacts };
}

export async function connectTemporal(env: Environment, logger: Logger) {
  const temporal = await provideTemporal(
    {
      address: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      tls: env.temporalTls,
      apiKey: env.TEMPORAL_API_KEY,
      dataDir: env.dataDir,
    },
    (message: string) => logger.info(message),
  );
  const clientConnection = await Connection.connect(temporal.connectionOptions);
  const client = new Client({ connection: clientConnection, namespace: temporal.namespace });
  return {
    temporal,
    client,
    close: async () => {
      await clientConnection.close();
      await temporal.stop();
    },
  };
}

export async function startWorkers(options: {
  env: Environment;
  temporal: Awaited<ReturnType<typeof provideTemporal>>;
  database: Database;
  artifacts: ArtifactStore;
  logger: Logger;
  onDeployed?: (model: string) => Promise<void>;
}) {
  const trainers = await loadTrainerCommands(options.env.configPath);
  if (Object.keys(trainers).length > 0 && !options.env.trainerUser && process.getuid?.() === 0) {
    options.logger.warn(
      { trainers: Object.keys(trainers) },
      'trainer commands will run as root: set KEEL_TRAINER_USER=uid:gid (docs/security.md)',
    );
  }
  // The SDK logs every bundling step at INFO; keep its warnings unless keel itself is verbose.
  const sdkLevel = ['trace', 'debug'].includes(options.env.LOG_LEVEL) ? 'DEBUG' : 'WARN';
  Runtime.install({ logger: new DefaultLogger(sdkLevel) });
  const connection = await NativeConnection.connect(options.temporal.connectionOptions);
  // As many scoring threads as the training queue runs activities at once; started on first use.
  const batchScorer = createPooledScorer({ threads: trainActivitySlots, logger: options.logger });
  const allActivities = createActivities({
    database: options.database,
    artifacts: options.artifacts,
    codeVersion: readCodeVersion(),
    logger: options.logger,
    adminKeys: options.env.adminKeys,
    sources: options.env.sources,
    trainers,
    trainerUser: options.env.trainerUser,
    onDeployed: options.onDeployed,
    batchOutputDir: options.env.batchOutputDir,
    batchScorer,
  });
  const pauses = options.env.faultPauses;
  const activities = pauses ? withFaultPauses(allActivities, pauses.pauses, pauses.dir, options.logger) : allActivities;
  const workers: Worker[] = await createWorkers({
    connection,
    namespace: options.temporal.namespace,
    activities,
    queues: parseTaskQueues(options.env.KEEL_TASK_QUEUES),
    identity: options.env.KEEL_WORKER_IDENTITY,
    workflowBundle: options.env.KEEL_WORKFLOW_BUNDLE ? { codePath: options.env.KEEL_WORKFLOW_BUNDLE } : undefined,
  });
  const running = Promise.all(workers.map((worker) => worker.run()));
  return {
    running,
    /** Each Temporal worker's state (RUNNING while it polls). */
    states: () => workers.map((worker) => worker.getState()),
    async close() {
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await batchScorer.close();
      await connection.close();
    },
  };
}
