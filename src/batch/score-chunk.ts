import type { Database } from '../db/database';
import { readDatasetRowRange } from '../data/dataset-store';
import { scoreOnnxOutputsInWorkerThread } from '../ml/batch-score';
import type { ArtifactStore } from '../registry/artifact-store';
import { type BatchChunk, type BatchOutput, chunkFileName } from '../shared/batch-score';
import type { ModelContract } from '../shared/model-contract';
import type { BatchScorer } from './batch-scorer';
import { findScoredChunk, recordScoredChunk } from './chunk-ledger';
import { encodeChunk, outputPath, writeChunkFile } from './file-output';
import { answerOutputs, scoredChunk } from './scored-columns';
import { qualifiedTable, writeChunkToTable } from './table-output';

export interface ChunkRequest {
  jobId: string;
  model: string;
  version: number;
  onnxSha256: string;
  contract: ModelContract;
  datasetVersionId: string;
  chunk: BatchChunk;
  output: BatchOutput;
  /** Which attempt of the chunk this is (recorded in the ledger). */
  attempt: number;
}

export interface ChunkOutcome {
  chunk: number;
  rows: number;
  /** Found in the ledger: an earlier attempt scored it, nothing was done now. */
  skipped: boolean;
  target: string;
}

/**
 * Scores one chunk unless the ledger says it is done: reads its rows, scores them in a worker
 * thread, writes them (a table: rows and ledger entry in one transaction; a file: renamed into
 * place, then the ledger entry), so each chunk is scored and recorded once per job.
 */
export async function scoreChunk(
  deps: { database: Database; artifacts: ArtifactStore; outputRoot: string; scorer?: BatchScorer },
  request: ChunkRequest,
  onPhase: (phase: string) => void = () => {},
): Promise<ChunkOutcome> {
  const { jobId, chunk, output } = request;
  const done = await findScoredChunk(deps.database.db, jobId, chunk.index);
  if (done) return { chunk: chunk.index, rows: done.endRow - done.startRow, skipped: true, target: done.target };

  onPhase('read');
  const [model, rows] = await Promise.all([
    deps.artifacts.get(request.onnxSha256),
    readDatasetRowRange(deps.database.db, request.datasetVersionId, chunk.start, chunk.end),
  ]);
  onPhase('score');
  // The process's long-lived scoring threads when it has them; a thread for this chunk otherwise.
  const outputs = deps.scorer
    ? await deps.scorer.score(request.onnxSha256, model, request.contract, rows)
    : await scoreOnnxOutputsInWorkerThread(model, rows, answerOutputs(request.contract));
  const scored = scoredChunk(request.contract, outputs, { jobId, start: chunk.start, count: rows.length });
  onPhase('write');
  const target =
    output.kind === 'table'
      ? qualifiedTable(output.table)
      : outputPath(deps.outputRoot, output.directory, chunkFileName(chunk.index, output.format));
  const ledger = {
    jobId,
    chunk: chunk.index,
    modelName: request.model,
    version: request.version,
    datasetVersionId: request.datasetVersionId,
    startRow: chunk.start,
    endRow: chunk.end,
    target,
    attempt: request.attempt,
  };
  if (output.kind === 'table') {
    await writeChunkToTable(deps.database.db, output.table, scored, ledger);
  } else {
    await writeChunkFile(target, encodeChunk(scored, output.format));
    await recordScoredChunk(deps.database.db, ledger);
  }
  return { chunk: chunk.index, rows: rows.length, skipped: false, target };
}
