import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { activityInfo, heartbeat } from '@temporalio/activity';
import type { Logger } from 'pino';
import { type FaultPause, faultPauseMarker } from './fault-pause-setting';

type ActivityFunctions = Record<string, (...args: never[]) => Promise<unknown>>;

/**
 * A test-only hook for the fault suite (KEEL_FAULT_PAUSES, off by default): the activities it
 * names, in the workflows it names, do their work and then, on their first attempt, hold on to
 * the result instead of reporting it, with a marker file saying so, until the process is killed.
 * Short stages (validate, split, export, evaluate, register) end in milliseconds, too fast to
 * catch by timing; held this way, a SIGKILL lands at the worst moment for each of them, with its
 * side effects done and its completion lost, every time. Retries run normally, so a new worker
 * carries the run on. The activities not named stay as they are.
 */
export function withFaultPauses<T extends ActivityFunctions>(activities: T, pauses: FaultPause[], dir: string, logger: Logger): T {
  const wrapped: ActivityFunctions = { ...activities };
  for (const type of new Set(pauses.map((p) => p.activityType))) {
    const activity = activities[type];
    if (!activity) throw new Error(`KEEL_FAULT_PAUSES: no activity named "${type}"`);
    wrapped[type] = async (...args) => {
      const result = await activity(...args);
      const info = activityInfo();
      const workflowId = info.workflowExecution?.workflowId;
      if (info.attempt === 1 && pauses.some((p) => p.activityType === type && p.workflowId === workflowId)) {
        await holdUntilKilled(faultPauseMarker(dir, { activityType: type, workflowId: workflowId! }), logger);
      }
      return result;
    };
  }
  return wrapped as T;
}

/** Heartbeats while it holds, so the server keeps the attempt until the process is gone. */
async function holdUntilKilled(marker: string, logger: Logger): Promise<never> {
  logger.warn({ marker }, 'KEEL_FAULT_PAUSES: holding a finished activity until this process is killed (test-only)');
  await mkdir(join(marker, '..'), { recursive: true });
  await writeFile(marker, `${process.pid}\n`);
  return new Promise<never>(() => {
    // Unref'd: the hold never keeps a process alive by itself.
    setInterval(() => heartbeat({ held: true }), 1000).unref();
  });
}
