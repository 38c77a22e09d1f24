import { activityInfo } from '@temporalio/activity';

/** The workflow run this activity works for: the root of every idempotency key. */
export function currentRun(): { workflowId: string; runId: string } {
  const execution = activityInfo().workflowExecution;
  if (!execution) throw new Error('keel activities run only inside a workflow');
  return { workflowId: execution.workflowId, runId: execution.runId };
}
