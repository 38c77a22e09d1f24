import { ApplicationFailure } from '@temporalio/common';
import { incidentKey } from '../src/notify/alert';
import { recordAlert } from '../src/notify/alert-store';
import { checkApprovalProof } from '../src/registry/approval-proof';
import { describeEvaluation, recordApprovalDecision, recordApprovalRequest } from '../src/registry/approvals';
import type { ApprovalDecision, ApprovalEvaluation, ApprovalRecord } from '../src/shared/approval';
import { ApprovalRefusedErrorType } from '../src/shared/errors';
import type { MonitorAlertSummary } from '../src/shared/monitoring';
import type { NotificationsConfig } from '../src/shared/notifications';
import { currentRun } from './current-run';
import type { ActivityDeps } from './deps';

export interface RequestApprovalInput {
  model: string;
  version: number;
  evaluation: ApprovalEvaluation;
  requestedAt: string;
  deadline: string;
  onTimeout: ApprovalDecision;
  notifications?: NotificationsConfig;
}

export function approvalActivities({ database, adminKeys = [] }: ActivityDeps) {
  return {
    /**
     * Records the pending approval (what `keel approvals list` and the dashboard show) and stores
     * the alert that announces it, once per pipeline run; returns the alert with the webhook
     * targets still to deliver to.
     */
    async requestApproval(input: RequestApprovalInput): Promise<{ alert: MonitorAlertSummary | null }> {
      const { workflowId, runId } = currentRun();
      await recordApprovalRequest(database.db, {
        workflowId,
        runId,
        model: input.model,
        version: input.version,
        evaluation: input.evaluation,
        requestedAt: new Date(input.requestedAt),
        deadline: new Date(input.deadline),
        onTimeout: input.onTimeout,
      });
      if (!input.notifications) return { alert: null };
      const command = `keel approvals approve ${input.model} ${input.version} --reason "…"`;
      const { alert, created } = await recordAlert(
        database.db,
        {
          // One incident per pipeline run, however often this activity is retried.
          incidentKey: `${incidentKey({ kind: 'approval_pending', model: input.model, version: input.version, at: input.requestedAt })}:${workflowId}/${runId}`,
          model: input.model,
          version: input.version,
          kind: 'approval_pending',
          severity: 'warning',
          title: `${input.model} v${input.version} awaits approval before deploy`,
          message:
            `The version passed the gate and is registered; it deploys only once someone approves it. ` +
            `Without a decision by ${input.deadline} it is ${input.onTimeout === 'approve' ? 'approved' : 'rejected'}.`,
          lines: [
            describeEvaluation(input.evaluation),
            ...input.evaluation.gate.reasons,
            `approve: ${command}`,
            `reject: keel approvals reject ${input.model} ${input.version} --reason "…"`,
          ],
          occurredAt: input.requestedAt,
          details: {
            workflowId,
            runId,
            deadline: input.deadline,
            onTimeout: input.onTimeout,
            compare: input.evaluation.compare,
            approveCommand: command,
          },
        },
        input.notifications.webhooks,
      );
      return {
        alert: {
          id: alert.id,
          kind: alert.kind,
          severity: alert.severity,
          created,
          pending: alert.deliveries.filter((d) => d.status === 'pending').map((d) => d.target),
        },
      };
    },

    /**
     * Checks a decision's proof against the admin keys (the update's validator cannot: it must be
     * synchronous). Refused (non-retryable) when keys are configured and the proof does not match.
     */
    async verifyApprovalProof(input: { version: number; decision: ApprovalDecision; proof?: string }): Promise<{ authenticated: boolean }> {
      const { workflowId } = currentRun();
      const check = checkApprovalProof(adminKeys, { workflowId, ...input });
      if (check.status === 'refused') throw ApplicationFailure.nonRetryable(check.why, ApprovalRefusedErrorType);
      return { authenticated: check.status === 'valid' };
    },

    /** Completes the pending approval's row with the decision (once). */
    async recordApprovalDecision(decision: ApprovalRecord): Promise<void> {
      const { workflowId, runId } = currentRun();
      await recordApprovalDecision(database.db, { workflowId, runId, decision });
    },
  };
}
