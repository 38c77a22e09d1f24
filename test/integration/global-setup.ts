import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { createScratchDatabase } from '../../src/db/scratch-database';
import { startTemporalDevServer } from '../../src/runtime/temporal-dev-server';
import { workflowBundleCode } from '../fixtures/workflow-bundle';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
    /** A fresh PostgreSQL database for this run, or '' to use embedded PGlite. */
    databaseUrl: string;
  }
}

/**
 * Once per test run: a real Temporal dev server, the workflow bundle (webpack is slow, so once),
 * and, when DATABASE_URL is set, a fresh PostgreSQL database dropped afterwards.
 */
export default async function setup(project: TestProject) {
  const dir = await mkdtemp(join(tmpdir(), 'keel-it-'));
  const [server, bundle, database] = await Promise.all([
    startTemporalDevServer({ dataDir: dir, persistent: false }),
    workflowBundleCode(),
    createTestDatabase(process.env.DATABASE_URL),
  ]);
  const workflowBundlePath = join(dir, 'workflow-bundle.js');
  await writeFile(workflowBundlePath, bundle);

  project.provide('temporalAddress', server.address);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('databaseUrl', database.url);

  return async () => {
    await server.stop();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  };
}

async function createTestDatabase(baseUrl: string | undefined) {
  if (!baseUrl) return { url: '', drop: async () => {} };
  const database = await createScratchDatabase(baseUrl, 'keel_test');
  return {
    url: database.url,
    async drop() {
      // Still there (e.g. someone's psql attached): the tests' verdict stands; the name is printed.
      const notDropped = await database.drop();
      if (notDropped) console.warn(`could not drop the test database ${database.name}: ${notDropped}`);
    },
  };
}
