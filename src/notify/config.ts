import { z } from 'zod';
import { alertSeveritySchema, DEFAULT_DEDUP_WINDOW_MS } from './alert';

/**
 * Where alerts go: webhook targets, as a zod schema that keel.config.json's `notifications`
 * section (and the monitor input) can embed. Imports only zod: workflow-safe.
 *
 * A webhook URL is a secret (a Slack incoming-webhook URL lets anyone post): prefer `urlEnv`, the
 * name of an environment variable the worker reads, so the URL stays out of config files and out
 * of workflow histories.
 */

const httpUrl = z
  .string()
  .url()
  .refine((url) => /^https?:\/\//i.test(url), 'must be an http(s) URL');

export const webhookTargetSchema = z
  .object({
    /** Names the target in the stored delivery status. */
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (at most 64)'),
    url: httpUrl.optional(),
    /** Environment variable holding the URL (read by the worker at delivery time). */
    urlEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name').optional(),
    /** 'slack': {text, blocks} for Slack incoming webhooks (and compatible: Mattermost, Discord's /slack); 'generic': the alert as JSON. */
    format: z.enum(['slack', 'generic']).default('generic'),
    /** Per request, response body included. */
    timeoutMs: z.number().int().min(100).max(60_000).default(5_000),
    /** Alerts below this severity are not sent to this target (still stored). */
    minSeverity: alertSeveritySchema.default('warning'),
    /** Extra request headers (e.g. an Authorization for a generic receiver). */
    headers: z.record(z.string(), z.string()).default({}),
  })
  .strict()
  .refine((t) => (t.url === undefined) !== (t.urlEnv === undefined), { message: 'give exactly one of url and urlEnv', path: ['url'] });
export type WebhookTarget = z.output<typeof webhookTargetSchema>;

export const notificationsConfigSchema = z
  .object({
    webhooks: z.array(webhookTargetSchema).default([]),
    /** One alert per kind, model version and window of this length (see incidentKey). */
    dedupWindowMs: z.number().int().min(1000).default(DEFAULT_DEDUP_WINDOW_MS),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.webhooks.forEach((target, i) => {
      if (seen.has(target.name)) ctx.addIssue({ code: 'custom', path: ['webhooks', i, 'name'], message: `duplicate webhook name "${target.name}"` });
      seen.add(target.name);
    });
  });
export type NotificationsConfig = z.output<typeof notificationsConfigSchema>;
export type NotificationsConfigInput = z.input<typeof notificationsConfigSchema>;
