import { userInfo } from 'node:os';
import { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { databaseOpener } from './database';
import { type ApprovalRow, describeEvaluation, listApprovals, listPendingApprovals } from '../registry/approvals';
import { decideApproval, describeDecision } from '../runtime/approval-client';
import type { Environment } from '../runtime/environment';
import type { ApprovalDecision, ApprovalEvaluation } from '../shared/approval';
import { printResult } from './output';

type WithClient = <T>(work: (client: Client) => Promise<T>) => Promise<T>;

/**
 * `keel approvals list|approve|reject`: pipeline runs waiting for a person's decision before they
 * deploy (pipeline.approval), and that decision. See docs/approval.md.
 */
export function approvalsCommand(env: Environment, withClient: WithClient): Command {
  const command = new Command('approvals').description('versions waiting for approval before deploy; approve or reject them');

  const withDb = databaseOpener(env);

  command
    .command('list')
    .description('pending approvals, oldest first, with the evaluation against production')
    .option('--model <name>', 'only this model')
    .option('--all', 'decided ones too, newest first')
    .option('--json', 'machine-readable output')
    .action((opts: { model?: string; all?: boolean; json?: boolean }) =>
      withDb(async (db) => {
        const rows = opts.all ? await listApprovals(db, { model: opts.model }) : await listPendingApprovals(db, { model: opts.model });
        printResult(opts.json, rows, () =>
          rows.length
            ? rows.map(describeRow).join('\n')
            : `no ${opts.all ? '' : 'pending '}approvals${opts.model ? ` of "${opts.model}"` : ''}`,
        );
      }),
    );

  for (const decision of ['approve', 'reject'] as const satisfies readonly ApprovalDecision[]) {
    command
      .command(`${decision} <model> <version>`)
      .description(
        decision === 'approve'
          ? 'approve a version: its pipeline goes on to deploy'
          : 'reject a version: it stays registered, not deployed',
      )
      .option('--reason <text>', 'why (recorded)')
      .option('--as <name>', 'who decides (default: user:<login>)')
      .option('--workflow <id>', "the waiting pipeline's workflow id (default: found in the approvals table)")
      .option('--json', 'machine-readable output')
      .action((model: string, versionText: string, opts: { reason?: string; as?: string; workflow?: string; json?: boolean }) =>
        withClient(async (client) => {
          const version = Number(versionText);
          if (!Number.isInteger(version) || version < 1) throw new Error(`<version>: not a version number: "${versionText}"`);
          const request = {
            model,
            version,
            decision,
            approver: opts.as ?? `user:${userInfo().username}`,
            reason: opts.reason,
            channel: 'cli' as const,
            // The worker checks a proof derived from it; the key itself is never sent.
            adminKey: env.KEEL_ADMIN_KEY ?? env.adminKeys[0],
            workflowId: opts.workflow,
          };
          const outcome = opts.workflow
            ? await decideApproval(client, undefined, request)
            : await withDb((db) => decideApproval(client, db, request));
          const next = decision === 'approve' ? 'the pipeline goes on to deploy' : 'the version stays registered, not deployed';
          printResult(
            opts.json,
            outcome,
            () =>
              `${decision === 'approve' ? 'approved' : 'rejected'} ${model} version ${version} as ${outcome.decision.approver} (${outcome.workflowId}): ${next}`,
          );
        }),
      );
  }
  return command;
}

function describeRow(row: ApprovalRow): string {
  const evaluation = row.evaluation as ApprovalEvaluation;
  return [
    `${row.modelName} version ${row.version}  ${describeDecision(row)}`,
    `  requested ${row.requestedAt.toISOString()} by ${row.workflowId}`,
    `  ${describeEvaluation(evaluation)}`,
    ...(row.status === 'pending' ? [`  keel approvals approve ${row.modelName} ${row.version} --reason "…"`] : []),
  ].join('\n');
}
