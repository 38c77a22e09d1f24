import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { connectionError } from './connection-error';
import { encodeCopyText } from './copy-text';
import { copyChunks, quoteIdent } from './postgres-copy';
import * as schema from './schema';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** A database handle: drizzle for queries, plus bulk loading, which drizzle does not do. */
export interface Database {
  readonly kind: 'postgres' | 'pglite';
  readonly db: Db;
  /** Bulk-loads rows with COPY. Values: string, number, boolean, null, or objects (as JSON). */
  copyRows(table: string, columns: string[], rows: unknown[][]): Promise<void>;
  /** COPY of rows already encoded as COPY text (src/db/copy-text.ts), one line per row. */
  copyText(table: string, columns: string[], text: string): Promise<void>;
  /** The connection URL of a PostgreSQL database (for clients in other threads); none for PGlite. */
  readonly url?: string;
  close(): Promise<void>;
}

const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * PostgreSQL through `postgres` when a URL is given; otherwise an embedded PGlite database in
 * `dataDir`. Both get the same checked-in migrations before first use.
 */
export async function openDatabase(options: { url?: string; dataDir: string }): Promise<Database> {
  return options.url ? openPostgres(options.url) : openPglite(options.dataDir);
}

async function openPostgres(url: string): Promise<Database> {
  const sql = postgres(url, { max: 10, onnotice: () => {}, connect_timeout: 10 });
  const db = drizzlePostgres(sql, { schema });
  try {
    await migrateAlone(sql, () => migratePostgres(db, { migrationsFolder }));
  } catch (error) {
    await sql.end({ timeout: 1 }).catch(() => {});
    throw connectionError(error, url) ?? error;
  }
  return {
    kind: 'postgres',
    db: db as unknown as Db,
    url,
    copyRows(table, columns, rows) {
      return rows.length === 0 ? Promise.resolve() : copyChunks(sql, table, columns, encodeCopyText(rows));
    },
    copyText(table, columns, text) {
      return text === '' ? Promise.resolve() : copyChunks(sql, table, columns, [text]);
    },
    close: () => sql.end({ timeout: 5 }),
  };
}

/** Any 64-bit constant, the same in every keel process: the key of the migration lock. */
const migrationLockKey = 0x6b65656c_6d696772n;

/**
 * Runs the migrations while holding a session advisory lock, so processes of a fleet that start
 * together against a new database migrate one after the other (the others then find nothing to
 * do) instead of racing to create the same tables.
 */
async function migrateAlone(sql: postgres.Sql, migrate: () => Promise<void>): Promise<void> {
  const lock = await sql.reserve();
  try {
    await lock`select pg_advisory_lock(${migrationLockKey.toString()}::bigint)`;
    try {
      await migrate();
    } finally {
      await lock`select pg_advisory_unlock(${migrationLockKey.toString()}::bigint)`;
    }
  } finally {
    lock.release();
  }
}

async function openPglite(dataDir: string): Promise<Database> {
  mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create(`${dataDir}/pglite`);
  const db = drizzlePglite(client, { schema });
  await migratePglite(db, { migrationsFolder });
  return {
    kind: 'pglite',
    db: db as unknown as Db,
    copyRows(table, columns, rows) {
      return rows.length === 0 ? Promise.resolve() : copyBlob(table, columns, [...encodeCopyText(rows)]);
    },
    copyText(table, columns, text) {
      return text === '' ? Promise.resolve() : copyBlob(table, columns, [text]);
    },
    close: () => client.close(),
  };

  async function copyBlob(table: string, columns: string[], chunks: string[]): Promise<void> {
    // PGlite has no COPY FROM STDIN; it reads a Blob through the virtual file /dev/blob.
    await client.query(`COPY ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) FROM '/dev/blob'`, [], {
      blob: new Blob(chunks),
    });
  }
}
