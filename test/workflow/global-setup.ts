import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { workflowsPath } from '../../src/runtime/workers';
import { locateTestServer } from './test-server';
import { quietBundleLogger } from '../fixtures/quiet-bundle-logger';

declare module 'vitest' {
  export interface ProvidedContext {
    workflowBundlePath: string;
    /** The test server executable for createTimeSkipping, or '' to let the SDK download one. */
    timeSkippingServer: string;
  }
}

/** Once per run of the workflow tests: the workflow bundle (webpack is slow) and the time-skipping test server. */
export default async function setup(project: TestProject) {
  const dir = await mkdtemp(join(tmpdir(), 'keel-wf-'));
  const [bundle, server] = await Promise.all([
    bundleWorkflowCode({ workflowsPath, logger: quietBundleLogger }),
    locateTestServer((message) => console.info(message)),
  ]);
  const workflowBundlePath = join(dir, 'workflow-bundle.js');
  await writeFile(workflowBundlePath, bundle.code);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('timeSkippingServer', server ?? '');
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}
