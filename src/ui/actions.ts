import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Context } from 'hono';
import { z } from 'zod';
import { accessPolicy, type ApiKeys, Authenticator, type Caller, presentedKey as keyOf } from '../serving/auth';
import { RequestError } from '../serving/predict';
import { canaryPauseSignal, canaryPromoteUpdate, canaryResumeSignal, canaryRollbackSignal } from '../shared/canary';
import { workflowIds } from '../shared/task-queues';
import type { ActionAccess } from './pages/rollouts';
import { strictObject } from '../shared/strict';

/**
 * The dashboard's actions: POSTs sent by its script (./html/client-script.ts), never by a plain
 * form or a link. Each must carry the header `X-Keel-Action` (a cross-site page cannot add a
 * custom header without a CORS preflight, which this server never grants), an Origin equal to the
 * dashboard's own when the browser sends one, and an admin key unless the dashboard listens on
 * loopback with no key configured at all (the model server's rule, src/serving/auth.ts).
 */

export const rolloutActions = ['pause', 'resume', 'rollback', 'promote'] as const;
export type RolloutAction = (typeof rolloutActions)[number];

export const actionBodySchema = strictObject({ reason: z.string().max(500).optional() });

export interface ActionSettings {
  adminKeys: string[];
  /** Every key (KEEL_API_KEYS, KEEL_KEYS_FILE too); default: the admin keys only. */
  apiKeys?: ApiKeys;
  /** The interface the dashboard listens on: off loopback, actions need an admin key. */
  host: string;
  /** The Temporal client actions go through; none: actions are off. */
  temporal?: () => Promise<Client>;
}

function keysOf(settings: ActionSettings): ApiKeys {
  return settings.apiKeys ?? { predict: [], admin: settings.adminKeys };
}

/** Actions are on when they can reach Temporal, and either a key guards them or only this machine can reach the page with no key configured. */
export function actionAccess(settings: ActionSettings): ActionAccess {
  if (!settings.temporal) return { enabled: false, keyRequired: false, reason: 'no Temporal connection' };
  const policy = accessPolicy(keysOf(settings), settings.host);
  if (policy.admin === 'key') return { enabled: true, keyRequired: true };
  if (policy.admin === 'open') return { enabled: true, keyRequired: false };
  return { enabled: false, keyRequired: false, reason: `the dashboard's ${policy.adminReason}` };
}

/** The caller, or throws the RequestError that refuses the action: CSRF header, origin, key. */
export function checkAction(c: Context, settings: ActionSettings, authenticator: Authenticator): Caller {
  const access = actionAccess(settings);
  if (!access.enabled) throw new RequestError(403, `actions are off: ${access.reason}`);
  if (c.req.header('x-keel-action') !== '1')
    throw new RequestError(403, 'an action needs the header X-Keel-Action: 1 (sent by the dashboard)');
  const origin = c.req.header('origin');
  const host = c.req.header('host');
  if (origin && origin !== 'null' && host && new URL(origin).host !== host)
    throw new RequestError(403, `cross-origin action refused (origin ${origin})`);
  return authenticator.check(headersOf(c), 'admin');
}

function headersOf(c: Context) {
  return { authorization: c.req.header('authorization'), 'x-api-key': c.req.header('x-api-key') };
}

/** The admin key the request presented (checked by checkAction), for an approval proof. */
export function presentedKey(c: Context): string | undefined {
  return keyOf(headersOf(c));
}

export function authenticatorFor(settings: ActionSettings): Authenticator {
  return new Authenticator(keysOf(settings), settings.host);
}

/** Sends a rollout action as the CLI does (`keel rollouts pause|resume|rollback|promote`). */
export async function runRolloutAction(
  client: Client,
  model: string,
  action: RolloutAction,
  reason: string | undefined,
  actor = 'user:dashboard',
): Promise<string> {
  const note = { actor, ...(reason ? { reason } : {}) };
  const handle = client.workflow.getHandle(workflowIds.canary(model));
  try {
    switch (action) {
      case 'pause':
        await handle.signal(canaryPauseSignal, note);
        return 'pause sent';
      case 'resume':
        await handle.signal(canaryResumeSignal, note);
        return 'resume sent';
      case 'rollback':
        await handle.signal(canaryRollbackSignal, note);
        return 'rollback sent';
      case 'promote': {
        const status = await handle.executeUpdate(canaryPromoteUpdate, { args: [note] });
        return `promoted: ${status.state}`;
      }
    }
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new RequestError(409, `no running canary rollout of "${model}"`);
    if (error instanceof WorkflowUpdateFailedError)
      throw new RequestError(409, `promote refused: ${error.cause?.message ?? error.message}`);
    throw error;
  }
}
