import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { taskQueues } from '../../src/shared/task-queues';

/**
 * The workflow tests' Temporal: a time-skipping test server (timers fire as soon as nothing else
 * is pending while a client awaits a result, or when `env.sleep` advances the clock), and workers
 * running today's workflow bundle with mocked activities.
 */
export async function createTimeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  try {
    // Worker logs would drown the test output; warnings still show, except the test server's
    // missing heartbeat capability (no test here fails an activity that heartbeats). Once per process.
    Runtime.install({
      logger: new DefaultLogger('WARN', (entry) => {
        if (!entry.message.includes('activity_failure_include_heartbeat')) console.warn(`[${entry.level}] ${entry.message}`);
      }),
      telemetryOptions: { logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} } },
    });
  } catch {
    // Already installed by an earlier file of this process.
  }
  const path = inject('timeSkippingServer');
  const options = path ? { server: { executable: { type: 'existing-path' as const, path } } } : {};
  // The SDK gives the test server (a JVM) 5 s to accept connections, which a loaded CI machine can
  // miss ("did not start within 5s"); a second start finds a warm JVM and disk cache.
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping(options);
    } catch (error) {
      if (attempt >= 3 || !/did not start within/.test((error as Error).message)) throw error;
      console.warn(`the time-skipping test server did not start in time (attempt ${attempt}); starting it again`);
    }
  }
}

type Queue = keyof typeof taskQueues;

/**
 * Runs workers on the given queues (the workflows name their queues) with `activities` until
 * `work` settles. Activities not in `activities` fail as unregistered, so a test notices calls it
 * did not expect.
 */
export async function withWorkers<T>(
  env: TestWorkflowEnvironment,
  activities: object,
  work: () => Promise<T>,
  queues: Queue[] = ['control'],
): Promise<T> {
  const workers = await Promise.all(
    queues.map((queue) =>
      Worker.create({
        connection: env.nativeConnection,
        namespace: env.namespace ?? 'default',
        taskQueue: taskQueues[queue],
        workflowBundle: { codePath: inject('workflowBundlePath') },
        activities,
      }),
    ),
  );
  const result = work();
  const settled = result.then(
    () => undefined,
    () => undefined,
  );
  await Promise.all(workers.map((worker) => worker.runUntil(settled)));
  return result;
}
