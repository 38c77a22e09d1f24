import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { type Logger, pino } from 'pino';
import { inject } from 'vitest';
import { createActivities } from '../../activities';
import type { SourcePolicy } from '../../src/data/source-policy';
import { type Database, openDatabase } from '../../src/db/database';
import type { TrainerCommands } from '../../src/ml/trainer-commands';
import { LocalArtifactStore } from '../../src/registry/artifact-store';
import { readCodeVersion } from '../../src/runtime/code-version';
import { createWorkers } from '../../src/runtime/workers';

let runtimeInstalled = false;

/**
 * Real components for an integration test: the run's Temporal dev server, PostgreSQL (or PGlite
 * when DATABASE_URL is unset), a local artifact store, and keel's real workers and activities.
 */
export async function createHarness(
  options: {
    onDeployed?: (model: string) => Promise<void>;
    adminKeys?: string[];
    sources?: SourcePolicy;
    trainers?: TrainerCommands;
    /** The activities' logger (default: warnings to stdout). */
    logger?: Logger;
  } = {},
) {
  if (!runtimeInstalled) {
    // Worker logs would drown the test output; warnings still show.
    Runtime.install({ logger: new (await import('@temporalio/worker')).DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const address = inject('temporalAddress');
  const dataDir = await mkdtemp(join(tmpdir(), 'keel-harness-'));
  const database: Database = await openDatabase({ url: inject('databaseUrl') || undefined, dataDir });
  const artifacts = new LocalArtifactStore(join(dataDir, 'artifacts'));
  const nativeConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const deployed = { hook: options.onDeployed };
  const activities = createActivities({
    database,
    artifacts,
    codeVersion: readCodeVersion(),
    logger: options.logger ?? pino({ level: 'warn' }),
    adminKeys: options.adminKeys,
    sources: options.sources,
    trainers: options.trainers,
    onDeployed: (model) => deployed.hook?.(model) ?? Promise.resolve(),
  });
  return {
    database,
    artifacts,
    client,
    dataDir,
    /** Replace the deploy hook (e.g. once a model server exists). */
    setOnDeployed(hook: (model: string) => Promise<void>) {
      deployed.hook = hook;
    },
    /** Runs fresh workers until `work` settles, then shuts them down. */
    async withWorkers<T>(work: () => Promise<T>): Promise<T> {
      const workers = await createWorkers({
        connection: nativeConnection,
        namespace: 'default',
        activities,
        workflowBundle: { codePath: inject('workflowBundlePath') },
      });
      const result = work();
      const settled = result.then(
        () => undefined,
        () => undefined,
      );
      await Promise.all(workers.map((worker) => worker.runUntil(settled)));
      return result;
    },
    async close() {
      await connection.close();
      await nativeConnection.close();
      await database.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export type Harness = Awaited<ReturnType<typeof createHarness>>;
