import { type Client, ScheduleAlreadyRunning, type ScheduleOptions } from '@temporalio/client';
import type { ProjectConfig } from '../shared/project-config';
import { scheduleIds, taskQueues, workflowIds } from '../shared/task-queues';

/** The schedules a project config asks for: monitoring at an interval, retraining by cron. */
export function schedulesFor(config: ProjectConfig): ScheduleOptions[] {
  const model = config.pipeline.model;
  const { every, ...monitor } = config.monitor;
  return [
    {
      scheduleId: scheduleIds.monitor(model),
      spec: { intervals: [{ every: every as `${number}m` }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'monitor',
        workflowId: workflowIds.monitor(model),
        taskQueue: taskQueues.control,
        args: [{ model, ...monitor }],
      },
      policies: { overlap: 'SKIP', catchupWindow: '1m' },
      memo: { purpose: `drift report for ${model}` },
    },
    {
      scheduleId: scheduleIds.retrain(model),
      spec: { cronExpressions: [config.retrain.cron] },
      action: {
        type: 'startWorkflow',
        workflowType: 'trainingPipeline',
        workflowId: workflowIds.training(model, 'scheduled'),
        taskQueue: taskQueues.control,
        args: [config.pipeline],
      },
      policies: { overlap: 'SKIP', catchupWindow: '1h' },
      memo: { purpose: `continuous training of ${model}` },
    },
  ];
}

/**
 * Creates the schedules, or brings existing ones up to date with the config: provisioning is
 * idempotent, and a user's pause survives a restart (only spec, action and policies are updated).
 */
export async function ensureSchedules(client: Client, config: ProjectConfig): Promise<string[]> {
  const ids: string[] = [];
  for (const options of schedulesFor(config)) {
    try {
      await client.schedule.create(options);
    } catch (error) {
      if (!(error instanceof ScheduleAlreadyRunning)) throw error;
      await client.schedule.getHandle(options.scheduleId).update((previous) => ({
        ...previous,
        spec: options.spec,
        action: options.action,
        policies: { ...previous.policies, ...options.policies },
      }));
    }
    ids.push(options.scheduleId);
  }
  return ids;
}
