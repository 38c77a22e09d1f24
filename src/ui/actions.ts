import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Context } from 'hono';
import { z } from 'zod';
import { Authenticator } from '../serving/auth';
import { RequestError } from '../serving/predict';
import { canaryPauseSignal, canaryPromoteUpdate, canaryResumeSignal, canaryRollbackSignal } from '../shared/canary';
import { workflowIds } from '../shared/task-queues';
import type { ActionAccess } from './pages/rollouts';
import { strictObject } from '../shared/strict';

/**
 * The dashboard's actions: POSTs sent by its script (./html/client-script.ts), never by a plain
 * form or a link. Each must carry the header `X-Keel-Action` (a cross-site page cannot add a
 * custom header without a CORS preflight, which this server never grants), an Origin equal to the
 * dashboard's own when the browser sends one, and the admin key when KEEL_ADMIN_KEYS is set.
 */

export const rolloutActions = ['pause', 'resume', 'rollback', 'promote'] as const;
export type RolloutAction = (typeof rolloutActions)[number];

export const actionBodySchema = strictObject({ reason: z.string().max(500).optional() });

export interface ActionSettings {
  adminKeys: string[];
  /** The interface the dashboard listens on: off loopback, actions need an admin key. */
  host: string;
  /** The Temporal client actions go through; none: actions are off. */
  temporal?: () => Promise<Client>;
}

const loopback = new Set(['127.0.0.1', '::1', 'localhost']);

/** Actions are on when they can reach Temporal, and either a key guards them or only this machine can reach the page. */
export function actionAccess(settings: ActionSettings): ActionAccess {
  if (!settings.temporal) return { enabled: false, keyRequired: false, reason: 'no Temporal connection' };
  if (settings.adminKeys.length > 0) return { enabled: true, keyRequired: true };
  if (loopback.has(settings.host)) return { enabled: true, keyRequired: false };
  return { enabled: false, keyRequired: false, reason: `the dashboard listens on ${settings.host}, not loopback, and no admin key is set (KEEL_ADMIN_KEYS)` };
}

/** Throws the RequestError that refuses the action, if any: CSRF header, origin, key. */
export function checkAction(c: Context, settings: ActionSettings, authenticator: Authenticator): void {
  const access = actionAccess(settings);
  if (!access.enabled) throw new RequestError(403, `actions are off: ${access.reason}`);
  if (c.req.header('x-keel-action') !== '1') throw new RequestError(403, 'an action needs the header X-Keel-Action: 1 (sent by the dashboard)');
  const origin = c.req.header('origin');
  const host = c.req.header('host');
  if (origin && origin !== 'null' && host && new URL(origin).host !== host) throw new RequestError(403, `cross-origin action refused (origin ${origin})`);
  authenticator.check({ headers: { authorization: c.req.header('authorization'), 'x-api-key': c.req.header('x-api-key') } } as never, 'admin');
}

/** The admin key the request presented (checked by checkAction), for an approval proof. */
export function presentedKey(c: Context): string | undefined {
  const header = c.req.header('authorization');
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  return c.req.header('x-api-key');
}

export function authenticatorFor(settings: ActionSettings): Authenticator {
  return new Authenticator({ predict: [], admin: settings.adminKeys });
}

/** Sends a rollout action as the CLI does (`keel rollouts pause|resume|rollback|promote`). */
export async function runRolloutAction(client: Client, model: string, action: RolloutAction, reason: string | undefined): Promise<string> {
  const note = { actor: 'user:dashboard', ...(reason ? { reason } : {}) };
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
    if (error instanceof WorkflowUpdateFailedError) throw new RequestError(409, `promote refused: ${error.cause?.message ?? error.message}`);
    throw error;
  }
}
