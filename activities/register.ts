import { currentRun } from './current-run';
import { getDatasetVersion } from '../src/data/dataset-store';
import { registerModelVersion } from '../src/registry/model-registry';
import type { BinaryMetrics } from '../src/shared/pipeline-result';
import type { ActivityDeps } from './deps';

export function registerActivities({ database, codeVersion }: ActivityDeps) {
  return {
    /** Registers the verified ONNX artifact as the next version; retries find the same version. */
    async registerModel(input: {
      model: string;
      datasetVersionId: string;
      trainingRunId: string;
      onnxSha256: string;
      bytes: number;
      contract: unknown;
      params: unknown;
      metrics: BinaryMetrics;
    }): Promise<{ version: number }> {
      const { workflowId, runId } = currentRun();
      const dataset = await getDatasetVersion(database.db, input.datasetVersionId);
      if (!dataset) throw new Error(`dataset version ${input.datasetVersionId} does not exist`);
      const registered = await registerModelVersion(database.db, {
        modelName: input.model,
        idempotencyKey: `${workflowId}/${runId}/register`,
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
      });
      return { version: registered.version };
    },
  };
}
