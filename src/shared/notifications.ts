import { z } from 'zod';
import { boundedName } from './names';
import { strictObject } from './strict';

/**
 * Where keel's alerts go: webhook targets, how a delivery is retried and how alerts are
 * deduplicated. Pure zod (bundled into workflows), embedded in the monitor's input and in a
 * pipeline's `approval.notifications`; src/notify re-exports it (via ./monitoring).
 */

export const alertSeverities = ['info', 'warning', 'critical'] as const;
export const alertSeveritySchema = z.enum(alertSeverities);
export type AlertSeverity = z.infer<typeof alertSeveritySchema>;

/** Alerts of the same kind, model and version within one dedup window are one incident. */
export const DEFAULT_DEDUP_WINDOW_MS = 24 * 60 * 60 * 1000;

const httpUrl = z
  .string()
  .url()
  .refine((url) => /^https?:\/\//i.test(url), 'must be an http(s) URL');

/**
 * A webhook target. A URL is a secret (a Slack incoming-webhook URL lets anyone post): prefer
 * `urlEnv`, the name of an environment variable the worker reads, so the URL stays out of config
 * files and out of workflow histories.
 */
export const webhookTargetSchema = strictObject({
  name: boundedName(64, /^[A-Za-z0-9_.-]+$/, 'must be letters, digits, _ . -').describe('Names the target in the stored delivery status.'),
  url: httpUrl
    .optional()
    .describe('The http(s) URL to POST alerts to. It is a secret (a Slack webhook URL lets anyone post): prefer `urlEnv`.'),
  urlEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name')
    .optional()
    .describe('Environment variable holding the URL (read by the worker at delivery time).'),
  format: z
    .enum(['slack', 'generic'])
    .default('generic')
    .describe(
      "'slack': {text, blocks} for Slack incoming webhooks (and compatible: Mattermost, Discord's /slack); 'generic': the alert as JSON.",
    ),
  timeoutMs: z.number().int().min(100).max(60_000).default(5_000).describe('Per request, response body included.'),
  minSeverity: alertSeveritySchema.default('warning').describe('Alerts below this severity are not sent to this target (still stored).'),
  headers: z.record(z.string(), z.string()).default({}).describe('Extra request headers (e.g. an Authorization for a generic receiver).'),
}).refine((t) => (t.url === undefined) !== (t.urlEnv === undefined), { message: 'give exactly one of url and urlEnv', path: ['url'] });
export type WebhookTarget = z.output<typeof webhookTargetSchema>;

/**
 * The error type a webhook delivery fails with when retrying cannot help (4xx, bad URL, unset
 * urlEnv): listed as non-retryable for the delivery activity. Equals WebhookRejectedErrorType in
 * src/notify/webhook.ts (a unit test checks it), written out here because workflows import only src/shared.
 */
export const webhookRejectedErrorType = 'WebhookRejectedError';

/** How a failed delivery is retried (Temporal activity retries with exponential backoff). */
export const deliveryRetrySchema = strictObject({
  maximumAttempts: z
    .number()
    .int()
    .min(1)
    .max(100)
    .default(5)
    .describe('Attempts in all, the first included; after the last, the delivery is recorded as failed.'),
  initialIntervalSeconds: z.number().min(0.1).max(3600).default(2).describe('Wait before the first retry.'),
  backoffCoefficient: z.number().min(1).max(10).default(2).describe('Each wait is this many times the previous one.'),
  maximumIntervalSeconds: z.number().min(0.1).max(86_400).default(120).describe('The longest wait between attempts.'),
}).describe('How a failed delivery is retried (Temporal activity retries with exponential backoff).');

export const notificationsConfigSchema = strictObject({
  webhooks: z.array(webhookTargetSchema).default([]).describe('Where alerts are sent (Slack-compatible or generic JSON webhooks).'),
  dedupWindowMs: z
    .number()
    .int()
    .min(1000)
    .default(DEFAULT_DEDUP_WINDOW_MS)
    .describe('One alert per kind, model version and window of this length (see incidentKey in src/notify/alert.ts).'),
  retry: deliveryRetrySchema.prefault({}),
}).superRefine((config, ctx) => {
  const seen = new Set<string>();
  config.webhooks.forEach((target, i) => {
    if (seen.has(target.name))
      ctx.addIssue({ code: 'custom', path: ['webhooks', i, 'name'], message: `duplicate webhook name "${target.name}"` });
    seen.add(target.name);
  });
});
export type NotificationsConfig = z.output<typeof notificationsConfigSchema>;
export type NotificationsConfigInput = z.input<typeof notificationsConfigSchema>;
