import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { createScratchDatabase } from '../../src/db/scratch-database';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A fresh PostgreSQL database for this run of the fault suite. */
    faultsDatabaseUrl: string;
    /** Where fault tests append their figures (one JSON line each); test/faults/run.ts sums them. */
    faultsFiguresPath: string;
    /** A directory each test file makes its own data directories under. */
    faultsWorkDir: string;
  }
}

/**
 * Once per suite run: a scratch database on DATABASE_URL, dropped afterwards. Each test file starts
 * its own Temporal dev server and keel processes, because a fault may kill them.
 */
export default async function setup(project: TestProject) {
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) throw new Error('the fault suite needs PostgreSQL: set DATABASE_URL (a role that may CREATE DATABASE)');
  const workDir = process.env.KEEL_FAULTS_DIR ?? (await mkdtemp(join(tmpdir(), 'keel-faults-')));
  const database = await createScratchDatabase(baseUrl, 'keel_faults');
  project.provide('faultsDatabaseUrl', database.url);
  project.provide('faultsFiguresPath', process.env.KEEL_FAULTS_FIGURES ?? join(workDir, 'figures.jsonl'));
  project.provide('faultsWorkDir', workDir);
  return async () => {
    const notDropped = await database.drop();
    if (notDropped) console.warn(`could not drop the fault database ${database.name}: ${notDropped}`);
    if (!process.env.KEEL_FAULTS_DIR) await rm(workDir, { recursive: true, force: true });
  };
}
