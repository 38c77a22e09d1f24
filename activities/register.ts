import { ApplicationFailure } from '@temporalio/common';
import { currentRun } from './current-run';
import { getDatasetVersion } from '../src/data/dataset-store';
import { ArtifactIntegrityError, ArtifactMissingError } from '../src/registry/artifact-store';
import { findVersionByIdempotencyKey, registerModelVersion } from '../src/registry/model-registry';
import { RegistryError } from '../src/registry/names';
import type { ModelMetrics } from '../src/shared/model-metrics';
import type { ActivityDeps } from './deps';

export interface RegisterModelInput {
  model: string;
  datasetVersionId: string;
  trainingRunId: string;
  /** keel's trained model (JSON), whose fitted feature pipeline is recorded; absent for an external trainer. */
  modelArtifactSha256?: string;
  onnxSha256: string;
  bytes: number;
  contract: unknown;
  params: unknown;
  metrics: ModelMetrics;
}

export function registerActivities({ database, artifacts, codeVersion, logger }: ActivityDeps) {
  return {
    /**
     * Registers the verified ONNX artifact as the model's next version, with its lineage: dataset
     * version, training run, fitted feature pipeline, code version, and this workflow run.
     * Exactly once per workflow run: the idempotency key `<workflowId>/<runId>/register` makes a
     * retry (after a crash between the write and the completion) return the same version.
     */
    async registerModel(input: RegisterModelInput): Promise<{ version: number }> {
      const { workflowId, runId } = currentRun();
      const idempotencyKey = `${workflowId}/${runId}/register`;
      const earlier = await findVersionByIdempotencyKey(database.db, idempotencyKey);
      if (earlier) return { version: earlier.version };

      const dataset = await getDatasetVersion(database.db, input.datasetVersionId);
      if (!dataset) throw nonRetryable(new RegistryError(`dataset version ${input.datasetVersionId} does not exist`));
      // Never record an artifact that is missing or corrupted: verify its bytes against the hash.
      const onnx = await artifacts.get(input.onnxSha256).catch((error: unknown) => {
        throw nonRetryable(error);
      });
      if (onnx.byteLength !== input.bytes) {
        throw nonRetryable(
          new RegistryError(`artifact ${input.onnxSha256} has ${onnx.byteLength} bytes, the export reported ${input.bytes}`),
        );
      }
      const featurePipeline = input.modelArtifactSha256 ? await readFeaturePipeline(input.modelArtifactSha256) : null;
      try {
        const registered = await registerModelVersion(database.db, {
          modelName: input.model,
          idempotencyKey,
          artifactSha256: input.onnxSha256,
          artifactBytes: input.bytes,
          contract: input.contract,
          params: input.params,
          metrics: input.metrics,
          datasetVersionId: dataset.id,
          datasetHash: dataset.contentHash,
          trainingRunId: input.trainingRunId,
          gitCommit: codeVersion.gitCommit,
          gitDirty: codeVersion.gitDirty,
          workflowId,
          runId,
          creator: `workflow:${workflowId}`,
          featurePipeline,
          source: 'pipeline',
        });
        return { version: registered.version };
      } catch (error) {
        throw error instanceof RegistryError ? nonRetryable(error) : error;
      }
    },
  };

  /**
   * The fitted feature pipeline stored in the trained model (JSON), with that model's hash; null
   * when it cannot be read: it is lineage detail, and its absence must not block registering the
   * verified ONNX artifact.
   */
  async function readFeaturePipeline(modelArtifactSha256: string): Promise<unknown> {
    try {
      const model = await artifacts.getJson<{ pipeline?: unknown }>(modelArtifactSha256);
      return model?.pipeline && typeof model.pipeline === 'object' ? { modelArtifactSha256, ...model.pipeline } : null;
    } catch (error) {
      logger.warn({ err: error, modelArtifactSha256 }, 'no feature pipeline recorded: the trained model could not be read');
      return null;
    }
  }
}

/** Integrity and registry errors do not heal by retrying: fail the activity at once, by type name. */
export function nonRetryable(error: unknown): unknown {
  if (error instanceof ArtifactIntegrityError || error instanceof ArtifactMissingError || error instanceof RegistryError) {
    return ApplicationFailure.nonRetryable(error.message, error.name);
  }
  return error;
}
