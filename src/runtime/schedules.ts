import { type Client, ScheduleAlreadyRunning, type ScheduleOptions } from '@temporalio/client';
import { InvalidInputError } from '../shared/errors';
import type { FeatureStoreDefinitions, MaterializeFeaturesInput } from '../shared/feature-store';
import type { MonitorRequest } from '../shared/monitoring';
import type { ProjectConfig } from '../shared/project-config';
import { scheduleIds, taskQueues, workflowIds } from '../shared/task-queues';

/** The schedules a project config asks for: monitoring at an interval, retraining by cron. */
export function schedulesFor(config: ProjectConfig): ScheduleOptions[] {
  const model = config.pipeline.model;
  const { every, ...monitor } = config.monitor;
  const retrain = monitor.policy.retrain;
  const monitorInput: MonitorRequest = {
    model,
    ...monitor,
    // Drift-triggered retraining runs the configured pipeline (narrowed to the drifted period).
    policy: { ...monitor.policy, retrain: { ...retrain, pipeline: retrain.enabled ? (retrain.pipeline ?? config.pipeline) : undefined } },
  };
  return [
    {
      scheduleId: scheduleIds.monitor(model),
      spec: { intervals: [{ every: every as `${number}m` }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'monitor',
        workflowId: workflowIds.monitor(model),
        taskQueue: taskQueues.control,
        args: [monitorInput],
      },
      policies: { overlap: 'SKIP', catchupWindow: '1m' },
      memo: { purpose: `drift report for ${model}` },
    },
    {
      scheduleId: scheduleIds.retrain(model),
      spec: { cronExpressions: [config.retrain.cron], ...(config.retrain.jitter ? { jitter: config.retrain.jitter as `${number}m` } : {}) },
      action: {
        type: 'startWorkflow',
        workflowType: 'trainingPipeline',
        workflowId: workflowIds.training(model, 'scheduled'),
        taskQueue: taskQueues.control,
        args: [config.pipeline],
      },
      policies: { overlap: 'SKIP', catchupWindow: config.retrain.catchupWindow as `${number}m` },
      memo: { purpose: `continuous training of ${model}` },
    },
  ];
}

/**
 * Creates the schedules, or brings existing ones up to date with the config: provisioning is
 * idempotent, and a user's pause survives a restart (only spec, action and policies are updated).
 */
export async function ensureSchedules(client: Client, config: ProjectConfig): Promise<string[]> {
  return ensureScheduleOptions(client, schedulesFor(config));
}

/**
 * Creates or updates each schedule. A spec the server refuses fails with an InvalidInputError
 * naming the schedule and the server's reason.
 */
export async function ensureScheduleOptions(client: Client, schedules: ScheduleOptions[]): Promise<string[]> {
  const ids: string[] = [];
  for (const options of schedules) {
    try {
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
    } catch (error) {
      // Temporal's reason (a spec its client cannot encode throws a TypeError, e.g. "Hour is not in
      // range [0-23]"; the server answers INVALID_ARGUMENT), with the schedule it is about.
      const reason = (error as { details?: string; message?: string }).details || (error as Error).message;
      if (error instanceof TypeError || (error as { code?: number }).code === 3 /* INVALID_ARGUMENT */) {
        throw new InvalidInputError(`schedule ${options.scheduleId} was rejected by Temporal: ${reason}`);
      }
      throw error;
    }
    ids.push(options.scheduleId);
  }
  return ids;
}

/** The materialisation schedule of a feature store whose definitions set `materializeEvery`. */
export function featureScheduleFor(defs: FeatureStoreDefinitions): ScheduleOptions | undefined {
  if (!defs.materializeEvery || defs.views.length === 0) return undefined;
  const input: MaterializeFeaturesInput = { views: defs.views.map((view) => view.name) };
  return {
    scheduleId: scheduleIds.materialize('materialize'),
    spec: { intervals: [{ every: defs.materializeEvery as `${number}m` }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'materializeFeatures',
      workflowId: workflowIds.materialize('all', 'scheduled'),
      taskQueue: taskQueues.control,
      args: [input],
    },
    policies: { overlap: 'SKIP', catchupWindow: '1m' },
    memo: { purpose: 'feature store materialisation' },
  };
}
