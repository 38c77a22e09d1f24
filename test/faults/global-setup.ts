import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { createScratchDatabase } from '../../src/db/scratch-database';
import { workflowBundleCode } from '../fixtures/workflow-bundle';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A fresh PostgreSQL database for this run of the fault suite. */
    faultsDatabaseUrl: string;
    /** Where fault tests append their figures (one JSON line each); test/faults/run.ts sums them. */
    faultsFiguresPath: string;
    /** A directory each test file makes its own data directories under. */
    faultsWorkDir: string;
    /** The workflow bundle every worker process of the suite loads (KEEL_WORKFLOW_BUNDLE). */
    faultsWorkflowBundle: string;
  }
}

/**
 * Once per suite run: a scratch database on DATABASE_URL, dropped afterwards, and the workflow
 * bundle: the suite starts a dozen worker processes, and each would otherwise bundle the workflows
 * with webpack (seconds of CPU, on a machine the other lane keeps busy). Each test file starts its
 * own Temporal dev server and keel processes, because a fault may kill them.
 */
export default async function setup(project: TestProject) {
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) throw new Error('the fault suite needs PostgreSQL: set DATABASE_URL (a role that may CREATE DATABASE)');
  const workDir = process.env.KEEL_FAULTS_DIR ?? (await mkdtemp(join(tmpdir(), 'keel-faults-')));
  const [database, bundle] = await Promise.all([createScratchDatabase(baseUrl, 'keel_faults'), workflowBundleCode()]);
  const workflowBundle = join(workDir, 'workflow-bundle.js');
  await writeFile(workflowBundle, bundle);
  project.provide('faultsDatabaseUrl', database.url);
  project.provide('faultsFiguresPath', process.env.KEEL_FAULTS_FIGURES ?? join(workDir, 'figures.jsonl'));
  project.provide('faultsWorkDir', workDir);
  project.provide('faultsWorkflowBundle', workflowBundle);
  return async () => {
    const notDropped = await database.drop();
    if (notDropped) console.warn(`could not drop the fault database ${database.name}: ${notDropped}`);
    if (!process.env.KEEL_FAULTS_DIR) await rm(workDir, { recursive: true, force: true });
  };
}
