import { activityInfo, heartbeat } from '@temporalio/activity';
import { scoreChunk, type ChunkOutcome, type ChunkRequest } from '../src/batch/score-chunk';
import { resolveDatasetVersion } from '../src/data/dataset-store';
import { parseModelRef } from '../src/registry/names';
import { resolveRef } from '../src/registry/model-registry';
import { InvalidInputError } from '../src/shared/errors';
import { modelContractSchema, type ModelContract } from '../src/shared/model-contract';
import type { ActivityDeps } from './deps';

export interface BatchPlan {
  model: string;
  version: number;
  onnxSha256: string;
  contract: ModelContract;
  datasetVersionId: string;
  rowCount: number;
}

/** Heartbeats this often while a chunk is read, scored (in a worker thread) and written. */
const heartbeatEveryMs = 1000;

export function batchScoreActivities({ database, artifacts, batchOutputDir, batchScorer }: ActivityDeps) {
  return {
    /** Resolves the model selector and the dataset once, so every chunk of the job uses the same ones. */
    async planBatchScore(input: { model: string; dataset: string; datasetVersion?: string }): Promise<BatchPlan> {
      const version = await resolveRef(database.db, parseModelRef(input.model));
      const dataset = await resolveDatasetVersion(database.db, input.dataset, input.datasetVersion);
      return {
        model: version.modelName,
        version: version.version,
        onnxSha256: version.artifactSha256,
        contract: modelContractSchema.parse(version.contract),
        datasetVersionId: dataset.id,
        rowCount: dataset.rowCount,
      };
    },

    /** One chunk of a batchScore job (training queue): skipped when the ledger has it. */
    async scoreBatchChunk(request: Omit<ChunkRequest, 'attempt'>): Promise<ChunkOutcome> {
      if (request.output.kind === 'files' && !batchOutputDir) {
        throw new InvalidInputError('output.kind "files": this worker has no KEEL_BATCH_OUTPUT_DIR');
      }
      let phase = 'ledger';
      const beat = setInterval(() => heartbeat({ chunk: request.chunk.index, phase }), heartbeatEveryMs);
      try {
        heartbeat({ chunk: request.chunk.index, phase });
        return await scoreChunk(
          { database, artifacts, outputRoot: batchOutputDir ?? '', scorer: batchScorer },
          { ...request, attempt: activityInfo().attempt },
          (p) => {
            phase = p;
          },
        );
      } finally {
        clearInterval(beat);
      }
    },
  };
}
