import { ActivityFailure, log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { nonRetryableErrorTypes } from '../src/shared/errors';
import { type MonitorActions, type MonitorAlertSummary } from '../src/shared/monitoring';
import { type NotificationsConfig, webhookRejectedErrorType } from '../src/shared/notifications';
import { taskQueues } from '../src/shared/task-queues';

/**
 * One activity per alert and pending target, in parallel, retried with exponential backoff. The
 * last attempt records the failure on the alert; the workflow catches it and carries on, so a
 * webhook that times out or answers 500 never fails the monitor.
 */
export async function deliverAlerts(
  notifications: NotificationsConfig,
  alerts: MonitorAlertSummary[],
): Promise<NonNullable<MonitorActions['deliveries']>> {
  const { webhooks, retry: policy } = notifications;
  if (!webhooks.length) return [];
  const { deliverAlert } = proxyActivities<Activities>({
    taskQueue: taskQueues.control,
    startToCloseTimeout: Math.max(...webhooks.map((t) => t.timeoutMs)) + 30_000,
    retry: {
      initialInterval: policy.initialIntervalSeconds * 1000,
      backoffCoefficient: policy.backoffCoefficient,
      maximumInterval: policy.maximumIntervalSeconds * 1000,
      maximumAttempts: policy.maximumAttempts,
      nonRetryableErrorTypes: [webhookRejectedErrorType, ...nonRetryableErrorTypes],
    },
  });
  const targets = new Map(webhooks.map((t) => [t.name, t]));
  const jobs = alerts.flatMap((alert) =>
    alert.pending.flatMap((name) => (targets.has(name) ? [{ alert, target: targets.get(name)! }] : [])),
  );
  return Promise.all(
    jobs.map(async ({ alert, target }) => {
      try {
        const result = await deliverAlert({ alertId: alert.id, target });
        return {
          alertId: alert.id,
          target: target.name,
          status:
            result.status === 'delivered'
              ? ('delivered' as const)
              : result.status === 'failed'
                ? ('failed' as const)
                : ('skipped' as const),
        };
      } catch (error) {
        const message = error instanceof ActivityFailure && error.cause ? error.cause.message : (error as Error).message;
        log.warn('webhook delivery failed for good', { alertId: alert.id, target: target.name, error: message });
        return { alertId: alert.id, target: target.name, status: 'failed' as const, error: message };
      }
    }),
  );
}
