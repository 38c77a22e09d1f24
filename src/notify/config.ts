/**
 * Where alerts go: webhook targets. The schemas live in src/shared/monitoring.ts (workflow-safe,
 * embedded in the monitor input and keel.config.json's `monitor.notifications`); re-exported here.
 *
 * A webhook URL is a secret (a Slack incoming-webhook URL lets anyone post): prefer `urlEnv`, the
 * name of an environment variable the worker reads, so the URL stays out of config files and out
 * of workflow histories.
 */
export {
  deliveryRetrySchema,
  notificationsConfigSchema,
  webhookTargetSchema,
  type NotificationsConfig,
  type NotificationsConfigInput,
  type WebhookTarget,
} from '../shared/monitoring';
