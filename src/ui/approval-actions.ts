import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/database';
import { approvals } from '../db/schema';
import { approvalProof } from '../registry/approval-proof';
import { RequestError } from '../serving/predict';
import { type ApprovalDecision, type ApprovalRecord, approvalUpdate } from '../shared/approval';
import { strictObject } from '../shared/strict';

export const approvalBodySchema = strictObject({
  approver: z.string().trim().min(1, 'must name who decides').max(200).default('user:dashboard'),
  reason: z.string().max(2000).optional(),
});

/**
 * Decides a pending approval from the dashboard: the pipeline's `approval` update (validated by
 * the workflow: the version must be the one waiting), with channel `dashboard` and, when admin
 * keys are configured, the proof computed from the key the caller presented (already checked
 * against KEEL_ADMIN_KEYS): the key itself never reaches Temporal.
 */
export async function decideApproval(
  db: Db,
  client: Client,
  request: { id: string; decision: ApprovalDecision; approver: string; reason?: string; adminKey?: string },
): Promise<ApprovalRecord> {
  const [row] = await db.select().from(approvals).where(eq(approvals.id, request.id));
  if (!row) throw new RequestError(404, `no approval "${request.id}"`);
  if (row.status !== 'pending') throw new RequestError(409, `already decided: ${row.status} by ${row.decidedBy ?? '?'}`);
  const proof = request.adminKey
    ? approvalProof(request.adminKey, { workflowId: row.workflowId, version: row.version, decision: request.decision })
    : undefined;
  const handle = client.workflow.getHandle(row.workflowId, row.runId);
  try {
    return await handle.executeUpdate(approvalUpdate, {
      args: [
        {
          version: row.version,
          decision: request.decision,
          approver: request.approver,
          reason: request.reason ?? '',
          channel: 'dashboard',
          ...(proof ? { proof } : {}),
        },
      ],
    });
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError)
      throw new RequestError(409, `${request.decision} refused: ${error.cause?.message ?? error.message}`);
    if (error instanceof WorkflowNotFoundError) throw new RequestError(409, `the pipeline run ${row.workflowId} is no longer running`);
    throw error;
  }
}
