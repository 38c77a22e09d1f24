import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Activities } from '../../activities';
import { taskQueues } from '../shared/task-queues';

export const workflowsPath = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

/** Heavy activities a training worker runs at once (training uses the cores by itself). */
export const trainActivitySlots = 2;

export type TaskQueueName = keyof typeof taskQueues;

/**
 * One worker per task queue. The control queue runs the workflows and the light activities; the
 * train queue only heavy activities, few at a time (training uses the cores by itself).
 */
export async function createWorkers(options: {
  connection: NativeConnection;
  namespace: string;
  activities: Activities;
  queues?: TaskQueueName[];
  /** A prebuilt workflow bundle (tests build it once); otherwise workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Names this process in the history of every task it runs; default `<host>/<pid>`. */
  identity?: string;
}): Promise<Worker[]> {
  const identity = options.identity ?? defaultWorkerIdentity();
  const queues = options.queues ?? (Object.keys(taskQueues) as TaskQueueName[]);
  const workflows = options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath };
  return Promise.all(
    queues.map((queue) =>
      Worker.create({
        connection: options.connection,
        namespace: options.namespace,
        taskQueue: taskQueues[queue],
        activities: options.activities,
        // Activity task started events carry it: the history shows which worker ran each trial.
        identity: `${identity}@${taskQueues[queue]}`,
        ...(queue === 'control' ? workflows : {}),
        maxConcurrentActivityTaskExecutions: queue === 'train' ? trainActivitySlots : 20,
      }),
    ),
  );
}

export function parseTaskQueues(list: string | undefined): TaskQueueName[] | undefined {
  if (!list) return undefined;
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!(name in taskQueues)) {
      throw new Error(`KEEL_TASK_QUEUES: unknown task queue "${name}" (known: ${Object.keys(taskQueues).join(', ')})`);
    }
  }
  return names as TaskQueueName[];
}

/** `<host>/<pid>`: unique among the workers of a fleet, and it says where to look. */
export function defaultWorkerIdentity(): string {
  return `${hostname()}/${process.pid}`;
}
