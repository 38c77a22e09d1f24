import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { locateTestServer } from './test-server';
import { workflowBundleCode } from '../fixtures/workflow-bundle';

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
  const [bundle, server] = await Promise.all([workflowBundleCode(), locateTestServer((message) => console.info(message))]);
  const workflowBundlePath = join(dir, 'workflow-bundle.js');
  await writeFile(workflowBundlePath, bundle);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('timeSkippingServer', server ?? '');
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}
