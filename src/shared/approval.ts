import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { intervalSchema } from './interval';
import { notificationsConfigSchema } from './notifications';
import type { ModelMetrics } from './model-metrics';
import { strictObject } from './strict';

/**
 * Human approval before deploy: the pipeline input's `approval` section, the messages that decide
 * (an update with a validator, a signal of the same shape, a query) and the pure rules the
 * validator applies. Pure module: bundled into the workflow sandbox. See docs/approval.md.
 */

// --- input -----------------------------------------------------------------------------------------

export const approvalSpecSchema = strictObject({
  required: z
    .boolean()
    .default(false)
    .describe("Wait for a person's decision after the version is registered, before it deploys or a rollout starts (needs `deploy`)."),
  timeout: intervalSchema.default('24h').describe('How long the pipeline waits, e.g. `24h` (a number followed by s, m, h or d).'),
  onTimeout: z
    .enum(['reject', 'approve'])
    .default('reject')
    .describe('What a wait that timed out decides: `reject` (default: never deploy what nobody looked at) or `approve`.'),
  notifications: notificationsConfigSchema
    .optional()
    .describe('Webhooks that announce a pending approval (the same shape as `monitor.notifications`).'),
});
export type ApprovalSpec = z.output<typeof approvalSpecSchema>;

// --- messages --------------------------------------------------------------------------------------

export const approvalDecisions = ['approve', 'reject'] as const;
export type ApprovalDecision = (typeof approvalDecisions)[number];

/** Where a decision came from: the `keel approvals` CLI, the dashboard, a client of the update, a signal (e.g. from the Temporal UI), or the timeout. */
export type ApprovalChannel = 'cli' | 'dashboard' | 'api' | 'signal' | 'timeout';

const decisionShape = {
  /** The registered version the decision is about: a decision for another version is refused. */
  version: z.number().int().positive(),
  decision: z.enum(approvalDecisions),
  /** Who decides (recorded). */
  approver: z.string().trim().min(1, 'must name who decides').max(200),
  reason: z.string().max(2000).default(''),
  /**
   * With admin keys configured: HMAC-SHA256(admin key, approvalProofMessage(...)) in hex. It proves
   * the caller holds a key without the key entering the workflow history, and fits only this
   * workflow, version and decision. See src/registry/approval-proof.ts.
   */
  proof: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits (HMAC-SHA256)')
    .optional(),
};

/** The update's argument. */
export const approvalRequestSchema = strictObject({ ...decisionShape, channel: z.enum(['cli', 'dashboard', 'api']).default('api') });
export type ApprovalRequest = z.input<typeof approvalRequestSchema>;

/** The signal's argument (its channel is always `signal`). */
export const approvalSignalSchema = strictObject(decisionShape);
export type ApprovalSignalRequest = z.input<typeof approvalSignalSchema>;

/** A decision as recorded (in the workflow's state and result, and in the `approvals` table). */
export interface ApprovalRecord {
  version: number;
  decision: ApprovalDecision;
  approver: string;
  reason: string;
  channel: ApprovalChannel;
  /** ISO time (workflow time). */
  at: string;
  /** The caller proved it holds an admin key; false when none are configured (or for the timeout). */
  authenticated: boolean;
}

/** How the candidate compared with production on the test split: what an approver looks at. */
export interface ApprovalEvaluation {
  metrics: ModelMetrics;
  production?: { version: number; metrics: ModelMetrics };
  gate: { passed: boolean; reasons: string[] };
  /** The metric the gate compared, with both values (production: null without one). */
  compare: { metric: string; candidate: number; production: number | null };
}

export interface PendingApproval {
  model: string;
  version: number;
  requestedAt: string;
  deadline: string;
  onTimeout: ApprovalDecision;
}

/** A signal that decided nothing, and why (signals cannot be refused, so they are recorded). */
export interface IgnoredApprovalSignal {
  at: string;
  why: string;
  /** What the signal said, without its proof. */
  request: unknown;
}

export interface ApprovalState {
  required: boolean;
  pending: PendingApproval | null;
  decision: ApprovalRecord | null;
  ignoredSignals: IgnoredApprovalSignal[];
}

/**
 * Approve or reject the version awaiting approval. Refused at once by a synchronous validator —
 * wrong version, nothing pending, already decided, no approver — and, after the validator, when
 * admin keys are configured and the proof does not match. Answers with the recorded decision.
 */
export const approvalUpdate = defineUpdate<ApprovalRecord, [ApprovalRequest]>('approval');
/** The same decision as a signal, e.g. from the Temporal UI; one that cannot apply is recorded as ignored. */
export const approvalSignal = defineSignal<[ApprovalSignalRequest]>('approval');
/** What the pipeline waits for, what was decided, and the signals it ignored. */
export const approvalQuery = defineQuery<ApprovalState>('approval');

/** The text an approval proof signs: valid for one workflow, one version and one decision. */
export function approvalProofMessage(workflowId: string, version: number, decision: ApprovalDecision): string {
  return `approve:${workflowId}:${version}:${decision}`;
}

/** Why a decision for `version` cannot apply now, or null when it can. */
export function approvalRefusal(state: ApprovalState, version: number, stage: string): string | null {
  if (!state.required) return 'this pipeline does not require approval (pipeline.approval.required is false)';
  if (state.decision) {
    const d = state.decision;
    return `already decided: ${d.decision === 'approve' ? 'approved' : 'rejected'} v${d.version} by ${d.approver} (${d.channel}) at ${d.at}`;
  }
  if (!state.pending) return `no approval is pending yet: the pipeline is at stage "${stage}"`;
  if (version !== state.pending.version) {
    return `version ${version} is not the one awaiting approval: this pipeline waits for ${state.pending.model} version ${state.pending.version}`;
  }
  return null;
}
