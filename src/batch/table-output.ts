import { sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { recordScoredChunk, type NewLedgerEntry } from './chunk-ledger';
import type { ScoredChunk, ScoredColumn } from './scored-columns';

/** Batch tables live apart from keel's own, so an output name can never overwrite one of them. */
const batchSchema = 'keel_batch';

const sqlTypes: Record<ScoredColumn['type'], string> = { double: 'double precision', integer: 'bigint', text: 'text' };

/** `keel_batch.<table>`, quoted. The name was checked by batchTableSchema (a plain identifier). */
export function qualifiedTable(table: string): string {
  return `"${batchSchema}"."${table}"`;
}

/**
 * Writes a scored chunk into `keel_batch.<table>` and records it in the ledger in one
 * transaction: either both are there or neither, so a retry scores the chunk again or finds it
 * done, never half. Rows are keyed by (job_id, row_index); a conflicting row is left as it was.
 */
export async function writeChunkToTable(db: Db, table: string, chunk: ScoredChunk, ledger: NewLedgerEntry): Promise<void> {
  const target = qualifiedTable(table);
  const definitions = chunk.columns.map(
    (c) => `"${c.name}" ${sqlTypes[c.type]}${c.name === 'job_id' || c.name === 'row_index' ? ' not null' : ''}`,
  );
  // Rows travel as one JSON document: one parameter, whatever the chunk size, on PostgreSQL and PGlite.
  const records = JSON.stringify(
    Array.from({ length: chunk.rowCount }, (_, i) => Object.fromEntries(chunk.columns.map((c) => [c.name, c.values[i]]))),
  );
  const names = chunk.columns.map((c) => `"${c.name}"`).join(', ');
  await db.transaction(async (tx) => {
    // Concurrent chunks would race in `create ... if not exists` (a duplicate pg_type or namespace row): one at a time.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${batchSchema}))`);
    await tx.execute(sql.raw(`create schema if not exists "${batchSchema}"`));
    await tx.execute(sql.raw(`create table if not exists ${target} (${definitions.join(', ')}, primary key (job_id, row_index))`));
  });
  await db.transaction(async (tx) => {
    await tx.execute(sql`
      insert into ${sql.raw(target)} (${sql.raw(names)})
      select ${sql.raw(names)} from json_to_recordset(${records}::json) as r(${sql.raw(definitions.map((d) => d.replace(' not null', '')).join(', '))})
      on conflict (job_id, row_index) do nothing`);
    await recordScoredChunk(tx, ledger);
  });
}
