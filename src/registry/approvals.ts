import { and, asc, desc, eq } from 'drizzle-orm';
import type { Db } from '../db/database';
import { approvals } from '../db/schema';
import type { ApprovalDecision, ApprovalEvaluation, ApprovalRecord } from '../shared/approval';

/**
 * The `approvals` table: a pipeline run's wait for a human decision before deploy, and the
 * decision. Writers are idempotent (the id is the workflow run; a decision is written once), so the
 * activities that call them can retry. See docs/approval.md.
 */

export type ApprovalRow = typeof approvals.$inferSelect;

export interface ApprovalRequestRecord {
  workflowId: string;
  runId: string;
  model: string;
  version: number;
  evaluation: ApprovalEvaluation;
  requestedAt: Date;
  deadline: Date;
  onTimeout: ApprovalDecision;
}

/** Records a pending approval; a retry finds the row it wrote. */
export async function recordApprovalRequest(db: Db, request: ApprovalRequestRecord): Promise<ApprovalRow> {
  const id = `${request.workflowId}/${request.runId}`;
  const [inserted] = await db
    .insert(approvals)
    .values({
      id,
      workflowId: request.workflowId,
      runId: request.runId,
      modelName: request.model,
      version: request.version,
      evaluation: request.evaluation,
      requestedAt: request.requestedAt,
      deadline: request.deadline,
      onTimeout: request.onTimeout,
    })
    .onConflictDoNothing()
    .returning();
  if (inserted) return inserted;
  const [existing] = await db.select().from(approvals).where(eq(approvals.id, id));
  return existing;
}

/** Completes a pending approval with its decision; a decided one is left as it is. */
export async function recordApprovalDecision(
  db: Db,
  request: { workflowId: string; runId: string; decision: ApprovalRecord },
): Promise<ApprovalRow | undefined> {
  const id = `${request.workflowId}/${request.runId}`;
  const { decision } = request;
  await db
    .update(approvals)
    .set({
      status: decision.decision === 'approve' ? 'approved' : 'rejected',
      decidedBy: decision.approver,
      decidedAt: new Date(decision.at),
      reason: decision.reason,
      channel: decision.channel,
      authenticated: decision.authenticated,
    })
    .where(and(eq(approvals.id, id), eq(approvals.status, 'pending')));
  const [row] = await db.select().from(approvals).where(eq(approvals.id, id));
  return row;
}

/** Pending approvals, oldest first (the one closest to its deadline is usually the most urgent). */
export async function listPendingApprovals(db: Db, options: { model?: string } = {}): Promise<ApprovalRow[]> {
  const pending = eq(approvals.status, 'pending');
  return db
    .select()
    .from(approvals)
    .where(options.model ? and(pending, eq(approvals.modelName, options.model)) : pending)
    .orderBy(asc(approvals.requestedAt));
}

/** Every approval of a model (or all models), newest first: the decisions' record. */
export async function listApprovals(db: Db, options: { model?: string; limit?: number } = {}): Promise<ApprovalRow[]> {
  return db
    .select()
    .from(approvals)
    .where(options.model ? eq(approvals.modelName, options.model) : undefined)
    .orderBy(desc(approvals.requestedAt))
    .limit(options.limit ?? 100);
}

/** The newest approval of a model version, pending or decided. */
export async function findApproval(db: Db, model: string, version: number): Promise<ApprovalRow | undefined> {
  const [row] = await db
    .select()
    .from(approvals)
    .where(and(eq(approvals.modelName, model), eq(approvals.version, version)))
    .orderBy(desc(approvals.requestedAt))
    .limit(1);
  return row;
}

/** One line on how the candidate compares with production, e.g. `rocAuc 0.8123 vs production v2 0.8001 (+0.0122)`. */
export function describeEvaluation(evaluation: ApprovalEvaluation): string {
  const { metric, candidate, production } = evaluation.compare;
  const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : String(x));
  if (production === null || !evaluation.production) return `${metric} ${fmt(candidate)} (no production version to compare with)`;
  const delta = candidate - production;
  return `${metric} ${fmt(candidate)} vs production v${evaluation.production.version} ${fmt(production)} (${delta >= 0 ? '+' : ''}${fmt(delta)})`;
}
