import { activityInfo } from '@temporalio/activity';
import { deliverStoredAlert, type DeliveryStatus } from '../src/notify/alert-store';
import type { WebhookTarget } from '../src/shared/notifications';
import type { ActivityDeps } from './deps';

export function notifyActivities({ database }: ActivityDeps) {
  return {
    /**
     * Sends one stored alert to one webhook target and records the attempt on the alert. A failure
     * is rethrown so Temporal retries it with backoff (WebhookDeliveryError: timeouts, network
     * errors, 5xx, 408, 429); WebhookRejectedError (other 4xx, bad URL, unset urlEnv) is listed as
     * non-retryable by the workflow. On the retry policy's last attempt the failure is recorded as
     * final (`failed`), so the workflow can catch it and carry on. Idempotent: a target already
     * delivered, skipped or failed is not sent again.
     */
    async deliverAlert(request: { alertId: number; target: WebhookTarget }): Promise<{ status: DeliveryStatus; httpStatus?: number }> {
      const info = activityInfo();
      const maximumAttempts = info.retryPolicy?.maximumAttempts ?? 0;
      const finalAttempt = maximumAttempts > 0 && info.attempt >= maximumAttempts;
      const outcome = await deliverStoredAlert(database.db, { alertId: request.alertId, target: request.target, finalAttempt });
      return { status: outcome.status, ...(outcome.result ? { httpStatus: outcome.result.status } : {}) };
    },
  };
}
