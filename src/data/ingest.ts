import { randomBytes, randomUUID } from 'node:crypto';
import { and, count, eq, sql } from 'drizzle-orm';
import type { Database, Db } from '../db/database';
import { datasetIngests, datasetRows, datasetVersions } from '../db/schema';
import { datasetSpecSchema, sourceName, type DatasetSpec, type MappedDatasetSpec } from '../shared/dataset-spec';
import { InvalidInputError } from '../shared/errors';
import { parseOrThrow } from '../shared/validation';
import type { OpenedSource, SourceOptions, SourceRecord } from './source-types';
import type { ColumnDef } from './columns';
import type { DatasetVersion } from './dataset-store';
import { getDatasetVersion } from './dataset-store';
import { Deduplicator } from './dedup';
import { expandFlightsSpec } from './flights-recipe';
import { compileMapper, type SourceMapper } from './mapping';
import { checkTargetColumn, missingTargetReason, type TargetRule } from './missing-target';
import { rawRecordToJson } from './raw-json';
import { compileRowRules } from './row-rules';
import { ChunkedCopier } from './copy-stream';
import { collectGarbage, finishAsDuplicate, finishedIngest, giveUp } from './ingest-attempts';
import { RowSink } from './row-sink';
import { openSource } from './source';

/**
 * The ingest flow: ingestDataset registers an attempt, runIngest streams the sources into a new
 * dataset version and publishes it (the row sink is ./row-sink, attempt cleanup ./ingest-attempts).
 * Over 300 lines because runIngest is one streaming loop whose counters, phases and quarantine
 * share state from the first record to the publishing transaction.
 */

/** Accounting of one source: read = accepted + quarantined + duplicates. */
interface SourceReport {
  name: string;
  /** Records the source gave. */
  scanned: number;
  /** Records outside the dataset's filter: not part of the dataset, so not "read". */
  filtered: number;
  read: number;
  accepted: number;
  quarantined: number;
  duplicates: number;
}

export interface IngestReport {
  sources: SourceReport[];
  /** Totals over the sources. */
  read: number;
  accepted: number;
  quarantined: number;
  duplicates: number;
  /** Distinct dedup keys (when deduplicating). */
  keys?: number;
  /** Whether reading stopped at the spec's limit. */
  limited: boolean;
}

export interface IngestResult {
  datasetVersionId: string;
  contentHash: string;
  /** Records read (after the filter, within the limit): rowCount + quarantinedCount + duplicateCount. */
  rowsRead: number;
  rowCount: number;
  quarantinedCount: number;
  duplicateCount: number;
  /** false when a version with the same content already existed (nothing new is kept). */
  created: boolean;
  report: IngestReport;
}

export interface IngestProgress {
  phase: 'reading' | 'deduplicating' | 'writing';
  source: string;
  sourceIndex: number;
  sources: number;
  /** Share of the current source read, when it can be known. */
  sourceFraction?: number;
  scanned: number;
  read: number;
  accepted: number;
  quarantined: number;
  duplicates: number;
}

export interface IngestOptions {
  /** Records to use instead of reading the (single) source: tests. Filter and mapping still apply. */
  records?: AsyncIterable<SourceRecord>;
  /** Called every 10k records, at source boundaries and after each COPY chunk (heartbeats, progress bars). */
  onProgress?: (progress: IngestProgress) => void;
  /**
   * Stable across retries of one request (an activity passes `<workflowId>/<runId>/<activityId>`):
   * a retry cleans the partial writes of its crashed attempt, and returns the result of one that
   * completed. Without it, each call is its own request.
   */
  ingestKey?: string;
  /** Rows per COPY statement (default 50,000). */
  copyChunkRows?: number;
  /** Passed to the sources (environment for URLs and headers, retry sleep, what the operator allows). */
  sourceOptions?: Pick<SourceOptions, 'env' | 'sleep' | 'policy'>;
  /** A pipeline's target: records without one are quarantined, or fail the ingest (./missing-target). */
  target?: TargetRule;
}

const PROGRESS_EVERY = 10_240;
const YIELD_EVERY = 1024;
const COPY_CHUNK_ROWS = 50_000;
const QUARANTINE_CHUNK_ROWS = 10_000;

const QUARANTINE_COLUMNS = ['dataset_version_id', 'source', 'record_number', 'raw', 'reasons', 'kind'];

/** A flights recipe becomes its mapped spec; a mapped spec is itself. */
function resolveDatasetSpec(spec: DatasetSpec): MappedDatasetSpec {
  return spec.recipe === 'flights' ? expandFlightsSpec(spec) : spec;
}

/**
 * ExampleGen: reads every source of the spec in order, maps each record onto the canonical
 * columns, validates it with the row rules, deduplicates (when configured), and stores the
 * accepted rows (dataset_rows) and the rejected ones with every reason (quarantined_rows, kind
 * `invalid`; dedup losers as kind `duplicate`) as a new dataset version.
 *
 * Streaming: records flow from the source through mapping into COPY chunks of 50k rows, one chunk
 * in flight while the next is built, so memory stays bounded (with dedup the rows go through a
 * temporary spool file instead; see ./dedup). The content hash and the profile are computed on the
 * way. Because the hash is known only at the end, rows are written under the attempt's own id
 * (random) and the version row, written last in a transaction that marks the attempt complete,
 * makes them a dataset. If a version with the same name and content hash exists already, the
 * attempt's rows are deleted and that version is returned (created: false).
 *
 * Content hash (row order matters): sha256 over the UTF-8 text of one header line,
 * `JSON.stringify(columns.map(c => [c.name, c.type]))`, then one line per accepted row in
 * row_index order, `JSON.stringify(columns.map(c => row[c.name]))`, each line ending in `\n`
 * (src/registry/reproduce.ts recomputes it from the stored rows). The same rows in another order give another
 * hash on purpose: row order is part of a dataset (it drives the seeded split). Row order is
 * source order: sources in spec order, records in source order; a deduplicated row keeps the
 * position of the record that won.
 *
 * Retries: an attempt is registered in dataset_ingests before writing. A retry with the same
 * ingest key (or any later ingest, for attempts that failed or went stale) marks earlier
 * unfinished attempts abandoned and deletes their rows; an abandoned attempt that is in fact still
 * running finds out when it tries to publish, and fails.
 */
export async function ingestDataset(database: Database, rawSpec: DatasetSpec, options: IngestOptions = {}): Promise<IngestResult> {
  const spec = parseOrThrow(datasetSpecSchema, rawSpec, 'dataset spec', (message) => new InvalidInputError(message));
  const mapped = resolveDatasetSpec(spec);
  if (options.records && mapped.sources.length !== 1) throw new Error('injected records need a dataset with one source');
  const ingestKey = options.ingestKey ?? `adhoc/${randomUUID()}`;
  const { db } = database;

  const finished = await finishedIngest(db, ingestKey);
  if (finished) return resultOf(finished, false);

  await collectGarbage(database, { ingestKey, name: mapped.name });
  const id = randomBytes(16).toString('hex');
  await db.insert(datasetIngests).values({ id, ingestKey, name: mapped.name, status: 'running' });
  try {
    return await runIngest(database, spec, mapped, id, ingestKey, options);
  } catch (error) {
    await giveUp(database, id, error).catch(() => {});
    throw error;
  }
}

async function runIngest(
  database: Database,
  spec: DatasetSpec,
  mapped: MappedDatasetSpec,
  id: string,
  ingestKey: string,
  options: IngestOptions,
): Promise<IngestResult> {
  const { db } = database;
  const columns: ColumnDef[] = mapped.columns.map(({ name, type }) => ({ name, type }));
  const rules = compileRowRules(mapped.columns);
  if (options.target) checkTargetColumn(options.target, mapped.columns, mapped.name);
  const sources = mapped.sources.map((source, index) => {
    const name = sourceName(source);
    return {
      source,
      index,
      name,
      priority: source.priority ?? index,
      mapper: compileMapper({ columns: mapped.columns, mapping: source.mapping, filter: mapped.filter, rules }, name),
    };
  });
  const reports: SourceReport[] = sources.map(({ name }) => ({
    name,
    scanned: 0,
    filtered: 0,
    read: 0,
    accepted: 0,
    quarantined: 0,
    duplicates: 0,
  }));
  const totals = { scanned: 0, read: 0, accepted: 0, quarantined: 0, duplicates: 0 };

  let current = { phase: 'reading' as IngestProgress['phase'], index: 0, opened: undefined as OpenedSource | undefined };
  const progress = () =>
    options.onProgress?.({
      phase: current.phase,
      source: sources[current.index]?.name ?? '',
      sourceIndex: current.index,
      sources: sources.length,
      sourceFraction: current.opened?.fraction(),
      ...totals,
    });
  const touch = async () => {
    await db
      .update(datasetIngests)
      .set({ updatedAt: sql`now()` })
      .where(eq(datasetIngests.id, id));
    progress();
  };

  const sink = new RowSink(database, id, columns, options.copyChunkRows ?? COPY_CHUNK_ROWS, touch);
  const quarantine = new ChunkedCopier(database, 'quarantined_rows', QUARANTINE_COLUMNS, QUARANTINE_CHUNK_ROWS);
  const quarantineRow = async (row: unknown[]) => {
    await quarantine.add(row);
  };
  const dedup = mapped.dedup
    ? new Deduplicator(
        mapped.dedup,
        mapped.columns,
        sources.map((s) => s.priority),
      )
    : undefined;
  let limited = false;
  let written: Awaited<ReturnType<RowSink['close']>>;

  try {
    for (const s of sources) {
      const report = reports[s.index];
      const opened: OpenedSource = options.records
        ? { name: s.name, where: s.name, fields: null, records: options.records, fraction: () => undefined, close: async () => {} }
        : await openSource(s.source, {
            ...options.sourceOptions,
            field: 'sources' in spec ? `dataset.sources.${s.index}` : 'dataset.source',
            skipRowGroup: rowGroupSkipper(s.mapper),
          });
      current = { phase: 'reading', index: s.index, opened };
      progress();
      let completed = false;
      try {
        const where = `source "${s.name}" (${opened.where})`;
        if (opened.fields) s.mapper.checkFields(opened.fields, where);
        for await (const { recordNumber, record, unreadable } of opened.records) {
          report.scanned++;
          if (++totals.scanned % YIELD_EVERY === 0) {
            // Sources and mapping resolve in microtasks only: without a macrotask turn, the COPY in
            // flight would not get its bytes to the socket until this loop waits for it.
            await new Promise((resolve) => setImmediate(resolve));
            if (totals.scanned % PROGRESS_EVERY === 0) progress();
          }
          if (unreadable !== undefined) {
            report.read++;
            totals.read++;
            report.quarantined++;
            totals.quarantined++;
            await quarantineRow([id, s.name, recordNumber, rawRecordToJson(record), [unreadable], 'invalid']);
          } else {
            const outcome = s.mapper.map(record);
            if (outcome.kind === 'outside') {
              report.filtered++;
              continue;
            }
            report.read++;
            totals.read++;
            const missingTarget =
              outcome.kind === 'row' && options.target ? missingTargetReason(options.target, outcome.row, s.name, recordNumber) : undefined;
            if (outcome.kind === 'invalid' || missingTarget !== undefined) {
              report.quarantined++;
              totals.quarantined++;
              const reasons = outcome.kind === 'invalid' ? outcome.reasons : [missingTarget];
              await quarantineRow([id, s.name, recordNumber, rawRecordToJson(record), reasons, 'invalid']);
            } else if (dedup) {
              await dedup.add({ row: outcome.row, json: JSON.stringify(outcome.row), sourceIndex: s.index, recordNumber });
            } else {
              report.accepted++;
              totals.accepted++;
              const wait = sink.add(outcome.row);
              if (wait) await wait;
            }
          }
          if (mapped.limit !== undefined && totals.read >= mapped.limit) {
            limited = true;
            break;
          }
        }
        completed = !limited;
        if (completed && !opened.fields && report.read - report.quarantined > 0) {
          const unseen = s.mapper.unseenFields();
          if (unseen.length > 0) {
            const fields =
              unseen.length === 1
                ? `the mapping of column "${unseen[0].column}" reads field "${unseen[0].field}", which none of its ${report.scanned} records has`
                : `none of its ${report.scanned} records has the fields the mapping reads for ${unseen.map(({ column, field }) => `column "${column}" (field "${field}")`).join(', ')}`;
            throw new InvalidInputError(
              `${where}: ${fields}; map ${unseen.length === 1 ? 'the column' : 'each'} to another field, or to null if this source lacks it`,
            );
          }
        }
      } finally {
        await opened.close();
      }
      progress();
      if (limited) break;
    }

    if (dedup) {
      current = { phase: 'deduplicating', index: sources.length - 1, opened: undefined };
      progress();
      for await (const item of dedup.replay()) {
        const report = reports[item.sourceIndex];
        if (item.kind === 'winner') {
          report.accepted++;
          totals.accepted++;
          const wait = sink.add(item.row);
          if (wait) await wait;
        } else {
          report.duplicates++;
          totals.duplicates++;
          const winner = `${sources[item.winner.sourceIndex].name} source record ${item.winner.recordNumber + 1}`;
          const rule = mapped.dedup!.keep === 'most-recent' ? 'the most recent' : 'by source priority';
          await quarantineRow([
            id,
            sources[item.sourceIndex].name,
            item.recordNumber,
            item.row,
            [`duplicate of ${winner} (kept ${rule}; key ${JSON.stringify(item.key.replaceAll('\u0001', ' | '))})`],
            'duplicate',
          ]);
        }
      }
    }
    current = { phase: 'writing', index: sources.length - 1, opened: undefined };
    await quarantine.close();
    written = await sink.close();
  } catch (error) {
    // Let in-flight COPYs land before the caller deletes this attempt's rows.
    await Promise.allSettled([sink.settle(), quarantine.settle()]);
    throw error;
  } finally {
    await dedup?.dispose();
  }
  progress();

  for (const r of reports) {
    if (r.read !== r.accepted + r.quarantined + r.duplicates) {
      throw new Error(
        `ingest accounting of source "${r.name}": ${r.read} read != ${r.accepted} accepted + ${r.quarantined} quarantined + ${r.duplicates} duplicates`,
      );
    }
  }
  if (written.rowCount !== totals.accepted)
    throw new Error(`ingest accounting: ${written.rowCount} rows written, ${totals.accepted} accepted`);
  const report: IngestReport = {
    sources: reports,
    read: totals.read,
    accepted: totals.accepted,
    quarantined: totals.quarantined,
    duplicates: totals.duplicates,
    limited,
  };
  if (dedup) report.keys = dedup.keys;

  const existing = await versionWithContent(db, mapped.name, written.contentHash);
  if (existing) {
    await finishAsDuplicate(database, id, existing.id);
    return resultOf(existing, false);
  }
  const published = await db.transaction(async (tx) => {
    const [attempt] = await tx.select().from(datasetIngests).where(eq(datasetIngests.id, id)).for('update');
    if (attempt?.status !== 'running') {
      throw new Error(
        `ingest ${id} (${ingestKey}) was abandoned by a newer attempt while it ran (now ${attempt?.status ?? 'removed'}); its rows are not published`,
      );
    }
    const [stored] = await tx.select({ n: count() }).from(datasetRows).where(eq(datasetRows.datasetVersionId, id));
    if (stored.n !== written.rowCount) throw new Error(`dataset version ${id}: ${stored.n} rows stored, expected ${written.rowCount}`);
    const inserted = await tx
      .insert(datasetVersions)
      .values({
        id,
        name: mapped.name,
        contentHash: written.contentHash,
        spec,
        columns,
        rowsRead: totals.read,
        rowCount: written.rowCount,
        quarantinedCount: totals.quarantined,
        duplicateCount: totals.duplicates,
        report,
        profile: written.profile,
      })
      .onConflictDoNothing()
      .returning({ id: datasetVersions.id });
    if (inserted.length === 0) return false;
    await tx
      .update(datasetIngests)
      .set({ status: 'complete', datasetVersionId: id, updatedAt: sql`now()` })
      .where(eq(datasetIngests.id, id));
    return true;
  });
  if (!published) {
    // The same content was published by a concurrent ingest between our check and our insert.
    const winner = await versionWithContent(db, mapped.name, written.contentHash);
    if (!winner) throw new Error(`dataset version ${id}: could not publish and found no version with content ${written.contentHash}`);
    await finishAsDuplicate(database, id, winner.id);
    return resultOf(winner, false);
  }
  return resultOf((await getDatasetVersion(db, id))!, true);
}

function resultOf(version: DatasetVersion, created: boolean): IngestResult {
  return {
    datasetVersionId: version.id,
    contentHash: version.contentHash,
    rowsRead: version.rowsRead,
    rowCount: version.rowCount,
    quarantinedCount: version.quarantinedCount,
    duplicateCount: version.duplicateCount,
    created,
    report: (version.report as IngestReport | null) ?? {
      sources: [],
      read: version.rowsRead,
      accepted: version.rowCount,
      quarantined: version.quarantinedCount,
      duplicates: version.duplicateCount,
      limited: false,
    },
  };
}

/** Parquet row groups whose statistics prove that no row passes the filter are not decoded. */
function rowGroupSkipper(mapper: SourceMapper): SourceOptions['skipRowGroup'] {
  const field = mapper.filterField;
  if (!field) return undefined;
  return (statistics) => {
    const stats = statistics[field.field];
    return stats ? field.outside(stats.min, stats.max) : false;
  };
}

async function versionWithContent(db: Db, name: string, contentHash: string): Promise<DatasetVersion | undefined> {
  const [version] = await db
    .select()
    .from(datasetVersions)
    .where(and(eq(datasetVersions.name, name), eq(datasetVersions.contentHash, contentHash)))
    .limit(1);
  return version;
}
