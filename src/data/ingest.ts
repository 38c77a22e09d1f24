import { createHash } from 'node:crypto';
import { and, count, eq, notExists } from 'drizzle-orm';
import type { Database } from '../db/database';
import { datasetRows, datasetVersions, quarantinedRows } from '../db/schema';
import { InvalidInputError } from '../shared/errors';
import { datasetSpecSchema, type DatasetSpec } from '../shared/pipeline-input';
import { parseOrThrow } from '../shared/validation';
import { sha256Hex } from '../registry/artifact-store';
import type { ColumnDef, Row } from './dataset-store';
import { getDatasetVersion } from './dataset-store';
import { flightColumns, flightRowGroupOutsidePeriod, mapFlightRecord, periodBounds, rawRecordToJson, type MapOutcome, type Period } from './flights-recipe';
import { readParquetRecords, type RowGroupInfo, type SourceRecord } from './parquet-source';

export interface IngestResult {
  datasetVersionId: string;
  contentHash: string;
  /** Records of the period (and within the limit) that were read: rowCount + quarantinedCount. */
  rowsRead: number;
  rowCount: number;
  quarantinedCount: number;
  /** false when the version already existed and nothing was written. */
  created: boolean;
}

export interface IngestOptions {
  /** A source to use instead of the spec's file (tests). Records are still period-filtered. */
  records?: AsyncIterable<SourceRecord>;
  /**
   * Records scanned from the source so far (in and out of the period), every 50k records; called
   * again after each COPY chunk (same count) so heartbeats keep flowing while writing.
   */
  onProgress?: (read: number) => void;
}

/** How raw records of a source become canonical rows. One per `DatasetSpec.recipe`. */
interface Recipe {
  columns: readonly ColumnDef[];
  map(record: Record<string, unknown>, bounds: { fromMs: number; toMs: number }): MapOutcome<Row>;
  skipRowGroup(group: RowGroupInfo, period: Period): boolean;
}

const recipes: Record<DatasetSpec['recipe'], Recipe> = {
  flights: {
    columns: flightColumns,
    map: (record, bounds) => mapFlightRecord(record, bounds) as MapOutcome<Row>,
    skipRowGroup: flightRowGroupOutsidePeriod,
  },
};

const PROGRESS_EVERY = 50_000;
const COPY_CHUNK_ROWS = 100_000;

/**
 * Ingests a dataset version: reads the source, maps and validates every record of the period,
 * and stores accepted rows (dataset_rows) and rejected ones with all their reasons
 * (quarantined_rows) under a content-addressed version id.
 *
 * Content hash (row order matters): sha256 over the UTF-8 text made of one header line,
 * `JSON.stringify(columns.map(c => [c.name, c.type]))`, followed by one line per accepted row in
 * row_index (= source) order, `JSON.stringify(columns.map(c => row[c.name]))`, each line ending
 * in `\n`. The same rows in another order give another hash, on purpose: row order is part of a
 * dataset (it drives the seeded split). datasetVersionId = sha256(`${name}\n${contentHash}`).
 *
 * Idempotent and retry-safe: an existing version is never rewritten (created: false). Otherwise
 * the writes form a sequence that a retry repeats from the start: delete leftovers of a crashed
 * attempt, COPY the rows and the quarantine, check the row count, and insert the version row
 * last, so a version row exists only for a complete dataset. Two attempts running at the same
 * time (a heartbeat timeout while the first still runs) can make one of them fail on a primary
 * key; its retry then finds the finished version. No lock is taken: copyRows runs outside any
 * transaction, and on postgres-js a session lock would need a pinned connection.
 *
 * Memory: the accepted rows are held in memory until the COPY (~500k rows for a month of flights
 * is fine). Streaming records straight into COPY is the follow-up for larger datasets.
 */
export async function ingestDataset(database: Database, spec: DatasetSpec, options: IngestOptions = {}): Promise<IngestResult> {
  spec = parseOrThrow(datasetSpecSchema, spec, 'dataset spec', (message) => new InvalidInputError(message));
  const recipe = recipes[spec.recipe];
  const bounds = periodBounds(spec.period);
  const source =
    options.records ??
    readParquetRecords(spec.source.path, { skipRowGroup: (group) => recipe.skipRowGroup(group, spec.period) });

  const rows: unknown[][] = [];
  const quarantine: unknown[][] = [];
  const hash = createHash('sha256');
  let hashBuffer = JSON.stringify(recipe.columns.map((c) => [c.name, c.type])) + '\n';
  const columnNames = recipe.columns.map((c) => c.name);
  let scanned = 0;
  let rowsRead = 0;

  // COPY tuples; the version id (column 0) is known only once every row has been hashed.
  for await (const { recordNumber, record } of source) {
    scanned++;
    if (options.onProgress && scanned % PROGRESS_EVERY === 0) options.onProgress(scanned);
    const outcome = recipe.map(record, bounds);
    if (outcome.kind === 'outside') continue;
    rowsRead++;
    if (outcome.kind === 'row') {
      const row = outcome.row;
      rows.push(['', rows.length, row]);
      hashBuffer += JSON.stringify(columnNames.map((name) => row[name])) + '\n';
      if (hashBuffer.length > 1 << 20) {
        hash.update(hashBuffer);
        hashBuffer = '';
      }
    } else {
      quarantine.push(['', spec.source.path, recordNumber, rawRecordToJson(record), outcome.reasons]);
    }
    if (spec.limit !== undefined && rowsRead >= spec.limit) break;
  }
  options.onProgress?.(scanned);
  hash.update(hashBuffer);

  const contentHash = hash.digest('hex');
  const datasetVersionId = sha256Hex(`${spec.name}\n${contentHash}`);
  const rowCount = rows.length;
  const quarantinedCount = quarantine.length;
  if (rowsRead !== rowCount + quarantinedCount) {
    throw new Error(`ingest accounting: ${rowsRead} read != ${rowCount} rows + ${quarantinedCount} quarantined`);
  }

  const { db } = database;
  const existing = await getDatasetVersion(db, datasetVersionId);
  if (existing) {
    return {
      datasetVersionId,
      contentHash,
      rowsRead: existing.rowsRead,
      rowCount: existing.rowCount,
      quarantinedCount: existing.quarantinedCount,
      created: false,
    };
  }

  // 1. Leftovers of a crashed attempt (rows without a version row) go first. The deletes re-check
  //    in the same statement that no version row exists, so an attempt that lost a race never
  //    deletes the rows of a version another attempt has just completed (its COPY then fails on
  //    the primary key, and its retry returns created: false).
  const noVersion = notExists(
    db.select({ id: datasetVersions.id }).from(datasetVersions).where(eq(datasetVersions.id, datasetVersionId)),
  );
  await db.delete(datasetRows).where(and(eq(datasetRows.datasetVersionId, datasetVersionId), noVersion));
  await db.delete(quarantinedRows).where(and(eq(quarantinedRows.datasetVersionId, datasetVersionId), noVersion));
  // 2. Bulk load.
  for (const row of rows) row[0] = datasetVersionId;
  for (const row of quarantine) row[0] = datasetVersionId;
  for (let i = 0; i < rows.length; i += COPY_CHUNK_ROWS) {
    await database.copyRows('dataset_rows', ['dataset_version_id', 'row_index', 'data'], rows.slice(i, i + COPY_CHUNK_ROWS));
    options.onProgress?.(scanned);
  }
  for (let i = 0; i < quarantine.length; i += COPY_CHUNK_ROWS) {
    await database.copyRows(
      'quarantined_rows',
      ['dataset_version_id', 'source', 'record_number', 'raw', 'reasons'],
      quarantine.slice(i, i + COPY_CHUNK_ROWS),
    );
  }
  const [stored] = await db
    .select({ n: count() })
    .from(datasetRows)
    .where(eq(datasetRows.datasetVersionId, datasetVersionId));
  if (stored!.n !== rowCount) {
    throw new Error(`dataset version ${datasetVersionId}: ${stored!.n} rows stored, expected ${rowCount}`);
  }
  // 3. The version row, last: from now on the version is visible and complete.
  const inserted = await db
    .insert(datasetVersions)
    .values({
      id: datasetVersionId,
      name: spec.name,
      contentHash,
      spec,
      columns: recipe.columns,
      rowsRead,
      rowCount,
      quarantinedCount,
    })
    .onConflictDoNothing()
    .returning({ id: datasetVersions.id });

  return { datasetVersionId, contentHash, rowsRead, rowCount, quarantinedCount, created: inserted.length > 0 };
}
