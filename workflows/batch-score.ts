import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { type BatchScoreInput, type BatchScoreResult, batchScoreInputSchema, planChunks } from '../src/shared/batch-score';
import { nonRetryableErrorTypes } from '../src/shared/errors';
import { taskQueues } from '../src/shared/task-queues';
import { mapWithConcurrency } from '../src/shared/tuning';
import { parseWorkflowInput } from '../src/shared/validation';

const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes };

const light = proxyActivities<Activities>({ taskQueue: taskQueues.control, startToCloseTimeout: '1m', retry });
const ingest = proxyActivities<Activities>({ taskQueue: taskQueues.train, startToCloseTimeout: '2h', heartbeatTimeout: '30s', retry });

/**
 * Scores a dataset version (or a source, ingested first) with one registered model version, in
 * chunks: each chunk is a heartbeating activity on the training queue, so the chunks spread over
 * the training fleet, and a chunk whose worker dies moves to another one after the heartbeat
 * timeout. The job id is this run (`<workflowId>/<runId>`): the chunk ledger is keyed by it, so a
 * chunk whose activity completed its write but not its report is found done, not scored again.
 */
export async function batchScore(rawInput: BatchScoreInput): Promise<BatchScoreResult> {
  const input = parseWorkflowInput(batchScoreInputSchema, rawInput, 'batchScore');
  const { workflowId, runId } = workflowInfo();
  const jobId = `${workflowId}/${runId}`;

  let dataset: { name: string; version?: string };
  if ('source' in input.input) {
    const ingested = await ingest.ingestDataset({ dataset: input.input.source });
    dataset = { name: input.input.source.name, version: ingested.datasetVersionId };
  } else {
    dataset = { name: input.input.dataset, version: input.input.version };
  }
  const plan = await light.planBatchScore({ model: input.model, dataset: dataset.name, datasetVersion: dataset.version });

  const scoring = proxyActivities<Activities>({
    taskQueue: taskQueues.train,
    startToCloseTimeout: '2h',
    heartbeatTimeout: `${input.heartbeatTimeoutSeconds}s`,
    retry,
  });
  const chunks = planChunks(plan.rowCount, input.chunkRows);
  const outcomes = await mapWithConcurrency(chunks, input.concurrency, (chunk) =>
    scoring.scoreBatchChunk({
      jobId,
      model: plan.model,
      version: plan.version,
      onnxSha256: plan.onnxSha256,
      contract: plan.contract,
      datasetVersionId: plan.datasetVersionId,
      chunk,
      output: input.output,
    }),
  );
  return {
    jobId,
    model: plan.model,
    version: plan.version,
    datasetVersionId: plan.datasetVersionId,
    rows: outcomes.reduce((sum, o) => sum + o.rows, 0),
    chunks: chunks.length,
    chunksSkipped: outcomes.filter((o) => o.skipped).length,
    output: input.output,
  };
}
