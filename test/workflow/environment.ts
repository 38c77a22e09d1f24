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
 * Real time a test's workflow work may take. Each takes seconds; the time-skipping test server
 * has hung now and then in CI (a query or an unlock-with-sleep that never returns, cf.
 * temporalio/sdk-java#2670), and vitest's own timeout would leave the test's workers registered,
 * so every later test of the file failed to start its own.
 */
const WORK_DEADLINE_MS = 60_000;

/**
 * Runs workers on the given queues (the workflows name their queues) with `activities` until
 * `work` settles, or fails it after WORK_DEADLINE_MS of real time; the workers are shut down
 * either way. Activities not in `activities` fail as unregistered, so a test notices calls it did
 * not expect.
 */
export async function withWorkers<T>(
  env: TestWorkflowEnvironment,
  activities: object,
  work: () => Promise<T>,
  queues: Queue[] = ['control'],
): Promise<T> {
  let deadline: NodeJS.Timeout | undefined;
  const bounded = (): Promise<T> =>
    Promise.race([
      work(),
      new Promise<never>((_, reject) => {
        deadline = setTimeout(
          () => reject(new Error(`the workflow test's work did not settle within ${WORK_DEADLINE_MS / 1000} s of real time`)),
          WORK_DEADLINE_MS,
        );
      }),
    ]).finally(() => clearTimeout(deadline));
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
  const result = bounded();
  const settled = result.then(
    () => undefined,
    () => undefined,
  );
  await Promise.all(workers.map((worker) => worker.runUntil(settled)));
  return result;
}
