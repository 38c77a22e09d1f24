import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { MaterializeResult } from '../src/features/materialize';
import { nonRetryableErrorTypes } from '../src/shared/errors';
import { materializeFeaturesInputSchema } from '../src/shared/feature-store';
import { taskQueues } from '../src/shared/task-queues';
import { parseWorkflowInput } from '../src/shared/validation';

const heavy = proxyActivities<Activities>({
  taskQueue: taskQueues.train,
  startToCloseTimeout: '30m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes },
});

/**
 * Materialises each view into the online store, as of the input's time or the run's start (for a
 * Schedule: when it fired). Each view's write is one activity whose id (`<workflowId>/<runId>/
 * <view>`) makes a retry find the committed swap instead of writing twice.
 */
export async function materializeFeatures(rawInput: unknown): Promise<{ views: MaterializeResult[] }> {
  const input = parseWorkflowInput(materializeFeaturesInputSchema, rawInput, 'materializeFeatures');
  const { workflowId, runId, runStartTime } = workflowInfo();
  const asOf = input.asOf ?? runStartTime.toISOString();
  const views: MaterializeResult[] = [];
  for (const view of input.views) {
    views.push(await heavy.materializeFeatureView({ view, id: `${workflowId}/${runId}/${view}`, asOf, backfill: input.backfill }));
  }
  return { views };
}
