import { type Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Db } from '../db/database';
import { approvalProof } from '../registry/approval-proof';
import { type ApprovalRow, findApproval, listPendingApprovals } from '../registry/approvals';
import { type ApprovalDecision, type ApprovalRecord, approvalUpdate } from '../shared/approval';

/**
 * Deciding a pending approval from outside the workflow: the function behind `keel approvals
 * approve|reject` and the dashboard's buttons. It finds the waiting pipeline run in the
 * `approvals` table (or takes its workflow id), signs the decision with the admin key when one is
 * given, and sends the `approval` update, whose validator refuses at once what cannot apply.
 */

export interface DecideApprovalRequest {
  model: string;
  version: number;
  decision: ApprovalDecision;
  /** Who decides (recorded). */
  approver: string;
  reason?: string;
  channel: 'cli' | 'dashboard' | 'api';
  /** An admin key (never sent: only the proof derived from it). Needed when the worker has KEEL_ADMIN_KEYS. */
  adminKey?: string;
  /** The waiting pipeline's workflow id, when known; default: found in the approvals table. */
  workflowId?: string;
}

export interface DecideApprovalResult {
  workflowId: string;
  decision: ApprovalRecord;
}

/** A decision that was refused (by the validator, the proof check, or because nothing waits): `message` says why. */
export class ApprovalRefusedError extends Error {
  override readonly name = 'ApprovalRefusedError';
}

export async function decideApproval(client: Client, db: Db | undefined, request: DecideApprovalRequest): Promise<DecideApprovalResult> {
  const target: { workflowId: string; runId?: string } = request.workflowId
    ? { workflowId: request.workflowId }
    : await waitingRun(requireDb(db), request.model, request.version);
  const handle = client.workflow.getHandle(target.workflowId, target.runId);
  const proof = request.adminKey
    ? approvalProof(request.adminKey, { workflowId: target.workflowId, version: request.version, decision: request.decision })
    : undefined;
  try {
    const decision = await handle.executeUpdate(approvalUpdate, {
      args: [
        {
          version: request.version,
          decision: request.decision,
          approver: request.approver,
          reason: request.reason ?? '',
          channel: request.channel,
          ...(proof ? { proof } : {}),
        },
      ],
    });
    return { workflowId: target.workflowId, decision };
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError)
      throw new ApprovalRefusedError(`${request.decision} refused: ${error.cause?.message ?? error.message}`);
    if (error instanceof WorkflowNotFoundError) {
      throw new ApprovalRefusedError(
        `${request.decision} refused: the pipeline ${target.workflowId} is not running any more (it may have timed out or failed)`,
      );
    }
    throw error;
  }
}

function requireDb(db: Db | undefined): Db {
  if (!db) throw new ApprovalRefusedError('the approvals table is needed to find the waiting pipeline: give its workflow id instead');
  return db;
}

/**
 * The run waiting for a decision on `model` `version`. When that version awaits nothing but exactly
 * one other version of the model does, that run is taken, so its validator names the right version.
 */
async function waitingRun(db: Db, model: string, version: number): Promise<{ workflowId: string; runId: string }> {
  const row = await findApproval(db, model, version);
  if (row?.status === 'pending') return row;
  if (row) throw new ApprovalRefusedError(`${model} version ${version} was already decided: ${describeDecision(row)}`);
  const pending = await listPendingApprovals(db, { model });
  if (pending.length === 1) return pending[0];
  if (pending.length === 0)
    throw new ApprovalRefusedError(`no approval of "${model}" is pending (keel approvals list shows the pending ones)`);
  throw new ApprovalRefusedError(
    `${model} version ${version} awaits no approval; pending: ${pending.map((p) => `version ${p.version} (${p.workflowId})`).join(', ')}`,
  );
}

export function describeDecision(row: ApprovalRow): string {
  if (row.status === 'pending') return `pending until ${row.deadline.toISOString()} (then ${row.onTimeout})`;
  const by = `${row.decidedBy} (${row.channel}${row.authenticated ? ', admin key' : ''}) at ${row.decidedAt?.toISOString()}`;
  return `${row.status} by ${by}${row.reason ? `: ${row.reason}` : ''}`;
}
