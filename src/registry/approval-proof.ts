import { createHmac, timingSafeEqual } from 'node:crypto';
import { type ApprovalDecision, approvalProofMessage } from '../shared/approval';

/**
 * Proof that whoever approves (or rejects) holds an admin key, without the key itself ever being
 * sent to Temporal: the caller sends HMAC-SHA256(key, `approve:<workflowId>:<version>:<decision>`)
 * and the worker, which holds the keys (KEEL_ADMIN_KEYS), recomputes it. The proof lands in the
 * workflow history, where it is worth nothing: it fits one workflow, one version and one decision,
 * and that workflow takes one decision only. Used by the CLI, the dashboard and the activity.
 */

export interface ProofSubject {
  workflowId: string;
  version: number;
  decision: ApprovalDecision;
}

/** The proof a holder of `adminKey` sends with its decision (hex). */
export function approvalProof(adminKey: string, subject: ProofSubject): string {
  return createHmac('sha256', adminKey)
    .update(approvalProofMessage(subject.workflowId, subject.version, subject.decision))
    .digest('hex');
}

/**
 * How a decision stands against the configured admin keys: `open` (none configured: allowed,
 * recorded as unauthenticated), `valid` (the proof matches one of them), or why not.
 */
export function checkApprovalProof(
  adminKeys: readonly string[],
  subject: ProofSubject & { proof?: string },
): { status: 'open' | 'valid' } | { status: 'refused'; why: string } {
  if (adminKeys.length === 0) return { status: 'open' };
  if (!subject.proof) {
    return {
      status: 'refused',
      why: 'admin keys are configured (KEEL_ADMIN_KEYS): a decision needs a proof of one (keel approvals sets it from KEEL_ADMIN_KEY)',
    };
  }
  const presented = Buffer.from(subject.proof, 'hex');
  let found = false;
  // Every key is compared, in constant time, whichever matches.
  for (const key of adminKeys) {
    const expected = Buffer.from(approvalProof(key, subject), 'hex');
    found = (presented.length === expected.length && timingSafeEqual(presented, expected)) || found;
  }
  return found
    ? { status: 'valid' }
    : {
        status: 'refused',
        why: `the proof does not match any admin key for ${subject.decision} of version ${subject.version} of workflow ${subject.workflowId}`,
      };
}
