import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { nonRetryableErrorTypes } from '../src/shared/errors';
import { monitorInputSchema } from '../src/shared/pipeline-input';
import type { DriftReportSummary } from '../src/shared/pipeline-result';
import { taskQueues } from '../src/shared/task-queues';
import { parseWorkflowInput } from '../src/shared/validation';

const { computeDriftReport } = proxyActivities<Activities>({
  taskQueue: taskQueues.control,
  startToCloseTimeout: '5m',
  retry: { initialInterval: '1s', maximumAttempts: 5, nonRetryableErrorTypes },
});

/** Started by a Temporal Schedule: one drift report for the production model per run. */
export async function monitor(rawInput: unknown): Promise<DriftReportSummary> {
  return computeDriftReport(parseWorkflowInput(monitorInputSchema, rawInput, 'monitor'));
}
