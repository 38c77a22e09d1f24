import { setImmediate as nextTurn } from 'node:timers/promises';
import { and, asc, desc, eq, like, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { datasetVersions, quarantinedRows } from '../db/schema';
import { InvalidInputError } from '../shared/errors';
import type { DatasetProfile } from './profile';
import type { RowFilter } from './row-filter';
import type { Row } from './columns';

export type DatasetVersion = typeof datasetVersions.$inferSelect;

export async function getDatasetVersion(db: Db, id: string): Promise<DatasetVersion | undefined> {
  const [version] = await db.select().from(datasetVersions).where(eq(datasetVersions.id, id)).limit(1);
  return version;
}

/** All versions (of one dataset name when given), newest first. */
export async function listDatasetVersions(db: Db, name?: string): Promise<DatasetVersion[]> {
  return db
    .select()
    .from(datasetVersions)
    .where(name === undefined ? undefined : eq(datasetVersions.name, name))
    .orderBy(sql`${datasetVersions.createdAt} desc`, asc(datasetVersions.id));
}

/**
 * Finds a version by a reference a person types: its id, a unique prefix of its id or of its
 * content hash (at least 4 characters), or a dataset name (its newest version).
 * Returns the matches (none, one, or several when a prefix is ambiguous).
 */
export async function findDatasetVersions(db: Db, reference: string): Promise<DatasetVersion[]> {
  const exact = await getDatasetVersion(db, reference);
  if (exact) return [exact];
  if (/^[0-9a-f]{4,64}$/.test(reference)) {
    const matches = await db
      .select()
      .from(datasetVersions)
      .where(or(like(datasetVersions.id, `${reference}%`), like(datasetVersions.contentHash, `${reference}%`)))
      .limit(10);
    if (matches.length > 0) return matches;
  }
  const newest = await db
    .select()
    .from(datasetVersions)
    .where(eq(datasetVersions.name, reference))
    .orderBy(desc(datasetVersions.createdAt))
    .limit(1);
  return newest;
}

/** The version of the same name created before this one (for the maxChange rules), if any. */
export async function previousDatasetVersion(db: Db, version: DatasetVersion): Promise<DatasetVersion | undefined> {
  const [previous] = await db
    .select()
    .from(datasetVersions)
    .where(
      and(
        eq(datasetVersions.name, version.name),
        or(
          lt(datasetVersions.createdAt, version.createdAt),
          and(eq(datasetVersions.createdAt, version.createdAt), lt(datasetVersions.id, version.id)),
        ),
      ),
    )
    .orderBy(desc(datasetVersions.createdAt), desc(datasetVersions.id))
    .limit(1);
  return previous;
}

/**
 * Rows per query. PGlite runs a query synchronously on the main thread (WebAssembly), where
 * 100,000 rows held the event loop for ~2 s; 5,000 keep each stall near 0.1 s (PostgreSQL: the
 * JSON.parse of a chunk, ~10 ms).
 */
const READ_CHUNK_ROWS = 5_000;

/**
 * The rows of a complete version in row_index order, `chunkRows` at a time: memory stays bounded
 * by one chunk (for profiling or exporting a version of any size).
 */
export async function* streamDatasetRows(db: Db, id: string, chunkRows = READ_CHUNK_ROWS): AsyncGenerator<Row[]> {
  const version = await getDatasetVersion(db, id);
  if (!version) throw new Error(`dataset version ${id} does not exist`);
  for (let start = 0; start < version.rowCount; start += chunkRows) {
    // PGlite answers in microtasks only: without a macrotask turn between chunks, reading a
    // version would hold the event loop from the first chunk to the last.
    if (start > 0) await nextTurn();
    yield await readDatasetRowRange(db, id, start, Math.min(start + chunkRows, version.rowCount));
  }
}

/** Rows [start, end) of a version by row index, in order; fails when some are missing. */
export async function readDatasetRowRange(db: Db, id: string, start: number, end: number): Promise<Row[]> {
  const result = await db.execute(sql`
    select coalesce(json_agg(data order by row_index)::text, '[]') as chunk
    from dataset_rows
    where dataset_version_id = ${id} and row_index >= ${start} and row_index < ${end}`);
  const rows = JSON.parse(resultRows<{ chunk: string }>(result)[0].chunk) as Row[];
  if (rows.length !== end - start)
    throw new Error(`dataset version ${id}: rows ${start}..${end - 1} are incomplete (${rows.length} stored)`);
  return rows;
}

/**
 * The version a person names as `<dataset>[@version]`: the newest version of the dataset, or the
 * one of its versions whose id or content hash starts with `version`. Errors name what is unknown.
 */
export async function resolveDatasetVersion(db: Db, dataset: string, version?: string): Promise<DatasetVersion> {
  const versions = await listDatasetVersions(db, dataset);
  if (versions.length === 0) throw new InvalidInputError(`no dataset named "${dataset}" (keel data versions lists them)`);
  if (version === undefined) return versions[0];
  const matches = versions.filter((v) => v.id.startsWith(version) || v.contentHash.startsWith(version));
  if (matches.length === 1) return matches[0];
  const ids = versions.slice(0, 5).map((v) => v.id.slice(0, 12));
  if (matches.length === 0) {
    throw new InvalidInputError(
      `dataset "${dataset}" has no version "${version}" (its newest: ${ids.join(', ')}${versions.length > 5 ? ', ...' : ''})`,
    );
  }
  throw new InvalidInputError(
    `"${version}" matches ${matches.length} versions of "${dataset}" (${matches.map((m) => m.id.slice(0, 12)).join(', ')}): give more characters`,
  );
}

/** An accepted row with its position in the version (`row_index`, from 0). */
export interface IndexedRow {
  index: number;
  data: Row;
}

/**
 * The accepted rows of a version that meet every filter, in row order, up to `limit`, a page of
 * `pageRows` at a time: the primary key (version, row_index) drives the scan, so a page costs
 * what it returns plus the rows the filters skip.
 */
export async function* selectDatasetRows(
  db: Db,
  id: string,
  options: { where?: RowFilter[]; limit: number; pageRows?: number },
): AsyncGenerator<IndexedRow[]> {
  const conditions = (options.where ?? []).map(
    (f) => sql`coalesce(data -> ${f.column}, 'null'::jsonb) = ${JSON.stringify(f.value)}::jsonb`,
  );
  const pageRows = options.pageRows ?? 10_000;
  let after = -1;
  for (let left = options.limit; left > 0;) {
    const result = await db.execute(sql`
      select coalesce(json_agg(json_build_object('index', row_index, 'data', data) order by row_index)::text, '[]') as page
      from (
        select row_index, data from dataset_rows
        where dataset_version_id = ${id} and row_index > ${after} ${sql.join(conditions.map((c) => sql` and ${c}`))}
        order by row_index limit ${Math.min(left, pageRows)}
      ) matching`);
    const page = JSON.parse(resultRows<{ page: string }>(result)[0].page) as IndexedRow[];
    if (page.length === 0) return;
    yield page;
    left -= page.length;
    after = page[page.length - 1].index;
    if (page.length < Math.min(left + page.length, pageRows)) return;
  }
}

export type QuarantinedRow = typeof quarantinedRows.$inferSelect;

/** Quarantined records of a version (`invalid` by default, or the `duplicate` ones), by source and position. */
export async function listQuarantinedRows(
  db: Db,
  id: string,
  options: { kind?: 'invalid' | 'duplicate'; limit?: number; offset?: number } = {},
): Promise<QuarantinedRow[]> {
  return db
    .select()
    .from(quarantinedRows)
    .where(and(eq(quarantinedRows.datasetVersionId, id), eq(quarantinedRows.kind, options.kind ?? 'invalid')))
    .orderBy(asc(quarantinedRows.source), asc(quarantinedRows.recordNumber))
    .limit(options.limit ?? 100)
    .offset(options.offset ?? 0);
}

/**
 * The canonical rows of a complete version, ordered by row_index. Throws when the version does not
 * exist (rows without a version row are a crashed ingest's leftovers, never a dataset).
 *
 * Raw SQL rather than a drizzle select: each chunk (READ_CHUNK_ROWS) comes back as one JSON array
 * text, parsed with a single JSON.parse, far cheaper than a drizzle select of one jsonb value per
 * row. Note the driver difference of `db.execute`: postgres-js returns the rows as an array,
 * PGlite returns `{ rows }`.
 */
export async function readDatasetRows(db: Db, id: string): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const chunk of streamDatasetRows(db, id)) for (const row of chunk) rows.push(row);
  return rows;
}

/**
 * Up to `n` rows spread evenly over the whole version (row_index 0, step, 2*step, ...), in order:
 * deterministic, and representative of the version rather than of its first hours (for replayed
 * traffic and examples).
 */
export async function sampleDatasetRows(db: Db, id: string, n: number): Promise<Row[]> {
  const version = await getDatasetVersion(db, id);
  if (!version) throw new Error(`dataset version ${id} does not exist`);
  if (n <= 0 || version.rowCount === 0) return [];
  const step = Math.max(1, Math.floor(version.rowCount / n));
  const result = await db.execute(sql`
    select coalesce(json_agg(data order by row_index)::text, '[]') as chunk
    from dataset_rows
    where dataset_version_id = ${id} and row_index % ${step} = 0 and row_index < ${step * n}`);
  return JSON.parse(resultRows<{ chunk: string }>(result)[0].chunk) as Row[];
}

/** Stores the profile of a version computed after the fact (versions made before profiles were computed while ingesting). */
export async function saveProfile(db: Db, id: string, profile: DatasetProfile): Promise<void> {
  const updated = await db.update(datasetVersions).set({ profile }).where(eq(datasetVersions.id, id)).returning({ id: datasetVersions.id });
  if (updated.length === 0) throw new Error(`dataset version ${id} does not exist`);
}

/** Rows of a `db.execute` result: an array (postgres-js) or `{ rows }` (PGlite). */
export function resultRows<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return (result as { rows?: T[] }).rows ?? [];
}
