import { log, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { nonRetryableErrorTypes } from '../src/shared/errors';
import { pipelineStageQuery } from '../src/shared/messages';
import { trainingPipelineInputSchema } from '../src/shared/pipeline-input';
import type { TrainingPipelineResult } from '../src/shared/pipeline-result';
import { taskQueues } from '../src/shared/task-queues';
import { parseWorkflowInput } from '../src/shared/validation';

const retry = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts: 5,
  nonRetryableErrorTypes,
};

/** Data and training stages run on the training queue, so they can scale on their own workers. */
const heavy = proxyActivities<Activities>({
  taskQueue: taskQueues.train,
  startToCloseTimeout: '20m',
  heartbeatTimeout: '2m',
  retry,
});

const light = proxyActivities<Activities>({
  taskQueue: taskQueues.control,
  startToCloseTimeout: '1m',
  retry,
});

/**
 * ingest → validate → split → train → export → evaluate → gate → register → deploy.
 * Each stage is an activity; the workflow carries ids and hashes, never rows or model bytes.
 */
export async function trainingPipeline(rawInput: unknown): Promise<TrainingPipelineResult> {
  let stage = 'validating input';
  setHandler(pipelineStageQuery, () => stage);

  const input = parseWorkflowInput(trainingPipelineInputSchema, rawInput, 'trainingPipeline');

  stage = 'ingest';
  const ingested = await heavy.ingestDataset({ dataset: input.dataset });
  log.info('ingested', { ...ingested });

  stage = 'validate';
  await heavy.validateDataset({ datasetVersionId: ingested.datasetVersionId, rules: input.rules });

  stage = 'split';
  await light.splitDataset({ datasetVersionId: ingested.datasetVersionId, split: input.split });

  stage = 'train';
  const trained = await heavy.trainModel({
    model: input.model,
    datasetVersionId: ingested.datasetVersionId,
    features: input.features,
    target: input.target,
    trainer: input.trainer,
    split: input.split,
  });

  stage = 'export';
  const exported = await heavy.exportModel({ modelArtifactSha256: trained.modelArtifactSha256 });

  stage = 'evaluate';
  const evaluation = await heavy.evaluateModel({
    datasetVersionId: ingested.datasetVersionId,
    split: input.split,
    target: input.target,
    modelArtifactSha256: trained.modelArtifactSha256,
    onnxSha256: exported.onnxSha256,
  });

  stage = 'gate';
  if (!(evaluation.metrics.rocAuc >= input.gate.minRocAuc)) {
    stage = 'rejected';
    return {
      status: 'rejected',
      model: input.model,
      reason: `ROC AUC ${evaluation.metrics.rocAuc.toFixed(4)} is below the gate's ${input.gate.minRocAuc}`,
      datasetVersionId: ingested.datasetVersionId,
      metrics: evaluation.metrics,
    };
  }

  stage = 'register';
  const { version } = await light.registerModel({
    model: input.model,
    datasetVersionId: ingested.datasetVersionId,
    trainingRunId: trained.trainingRunId,
    onnxSha256: exported.onnxSha256,
    bytes: exported.bytes,
    contract: exported.contract,
    params: { trainer: input.trainer, features: input.features, target: input.target, split: input.split },
    metrics: evaluation.metrics,
  });

  if (input.deploy) {
    stage = 'deploy';
    await light.deployModel({ model: input.model, version, reason: `passed the gate with ROC AUC ${evaluation.metrics.rocAuc.toFixed(4)}` });
  }
  stage = 'done';
  return {
    status: 'registered',
    model: input.model,
    version,
    deployed: input.deploy,
    datasetVersionId: ingested.datasetVersionId,
    artifactSha256: exported.onnxSha256,
    metrics: evaluation.metrics,
  };
}
