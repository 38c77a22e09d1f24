import { z } from 'zod';
import { strictObject } from './strict';
import { datasetNameSchema, datasetSpecSchema } from './dataset-spec';

/**
 * `batchScore`: a registered model version scores every row of a dataset version (or of a source,
 * ingested first as a dataset version) in chunks, each a heartbeating activity on the training
 * queue. Pure: the workflow, the CLI and the schedules validate with these schemas.
 */

export const modelSelectorSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,62}@(v?\d+|[a-z][a-z0-9-]{0,62})$/,
    'must be <model>@<alias> or <model>@<version>, e.g. flight-delays@production',
  )
  .describe(
    'The model version that scores: `<model>@<alias>` (resolved once, when the job starts: a later alias move does not change a running job) or `<model>@<version>`.',
  );

const datasetInputSchema = strictObject({
  dataset: datasetNameSchema.describe('A dataset name (`keel data versions` lists them).'),
  version: z.string().min(1).optional().describe('The version id or content hash (a prefix is enough); default the newest version.'),
}).describe('An ingested dataset version.');

const sourceInputSchema = strictObject({
  source: datasetSpecSchema.describe(
    'A dataset spec, as in the pipeline input: ingested first (an existing identical version is reused), then scored.',
  ),
}).describe('Any keel source, through a dataset spec.');

export const batchInputSchema = z
  .union([datasetInputSchema, sourceInputSchema])
  .describe('The rows to score: a dataset version, or a dataset spec over any keel source.');

/** Table names are plain identifiers; the table lives in the `keel_batch` schema, apart from keel's own tables. */
export const batchTableSchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lowercase identifier: letters, digits, _ (at most 63)')
  .describe('Table in the PostgreSQL schema `keel_batch` (created when missing), one row per scored row, keyed by (job_id, row_index).');

export const batchFileFormats = ['parquet', 'csv', 'jsonl'] as const;

/** File outputs are directories under KEEL_BATCH_OUTPUT_DIR: one part file per chunk. */
export const batchDirectorySchema = z
  .string()
  .regex(
    /^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}(\/[A-Za-z0-9_][A-Za-z0-9._-]{0,99}){0,7}$/,
    'must be a relative path of plain names (no "..", no leading "/")',
  )
  .describe(
    'Directory under KEEL_BATCH_OUTPUT_DIR (the operator chooses where batch files may go) that receives one file per chunk, `part-00000.<format>`, ...',
  );

export const batchOutputSchema = z
  .discriminatedUnion('kind', [
    strictObject({ kind: z.literal('table').describe('Write to a PostgreSQL table.'), table: batchTableSchema }),
    strictObject({
      kind: z.literal('files').describe('Write files.'),
      format: z.enum(batchFileFormats).describe('`parquet` (snappy), `csv` (with a header) or `jsonl`.'),
      directory: batchDirectorySchema,
    }),
  ])
  .describe(
    "Where the scores go. Every output row carries the job id and the row index (its position in the dataset version) next to the model's outputs, as the model server answers them.",
  );

export const batchScoreInputSchema = strictObject({
  model: modelSelectorSchema,
  input: batchInputSchema,
  output: batchOutputSchema,
  chunkRows: z
    .number()
    .int()
    .min(1)
    .max(2_000_000)
    .default(100_000)
    .describe('Rows per chunk: one activity, one part file, one ledger entry each.'),
  concurrency: z
    .number()
    .int()
    .min(1)
    .max(256)
    .default(4)
    .describe('Chunks scored at once, spread over the training workers (each runs at most its own slots).'),
  heartbeatTimeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(600)
    .default(30)
    .describe('A chunk whose worker stops heartbeating this long is given to another worker.'),
}).describe('The `batchScore` workflow input (`keel batch score`).');
export type BatchScoreInput = z.input<typeof batchScoreInputSchema>;
export type BatchScoreSpec = z.output<typeof batchScoreInputSchema>;
export type BatchOutput = z.output<typeof batchOutputSchema>;

/** One chunk: rows [start, end) of the dataset version, by row index. */
export interface BatchChunk {
  index: number;
  start: number;
  end: number;
}

/** Consecutive chunks of at most `chunkRows` rows covering [0, rowCount); none for no rows. */
export function planChunks(rowCount: number, chunkRows: number): BatchChunk[] {
  if (!Number.isInteger(rowCount) || rowCount < 0) throw new RangeError(`rowCount must be a whole number >= 0 (got ${rowCount})`);
  if (!Number.isInteger(chunkRows) || chunkRows < 1) throw new RangeError(`chunkRows must be a whole number >= 1 (got ${chunkRows})`);
  const chunks: BatchChunk[] = [];
  for (let start = 0, index = 0; start < rowCount; start += chunkRows, index++) {
    chunks.push({ index, start, end: Math.min(start + chunkRows, rowCount) });
  }
  return chunks;
}

/** The file of a chunk: sorted by name is sorted by row. */
export function chunkFileName(chunk: number, format: (typeof batchFileFormats)[number]): string {
  return `part-${String(chunk).padStart(5, '0')}.${format}`;
}

/** What a finished job returns (ids and counts, never rows). */
export interface BatchScoreResult {
  jobId: string;
  model: string;
  version: number;
  datasetVersionId: string;
  rows: number;
  chunks: number;
  /** Chunks found already scored in the ledger (a retried or resumed job). */
  chunksSkipped: number;
  output: BatchOutput;
}

export const batchWorkflowId = (model: string, key: string) => `batch/${model}/${key}`;
