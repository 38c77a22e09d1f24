import type { Writable } from 'node:stream';
import type { Sql } from 'postgres';

/** The part of a `postgres` client that COPY needs. */
export type CopyClient = Pick<Sql, 'unsafe'>;

/**
 * Starts `COPY table (columns) FROM STDIN` and resolves with its writable: write COPY text
 * (src/db/copy-text.ts) to it, end it to commit; destroying it abandons the statement, which
 * PostgreSQL rolls back.
 */
export function openCopy(sql: CopyClient, table: string, columns: readonly string[]): Promise<Writable> {
  return sql.unsafe(`COPY ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) FROM STDIN`).writable();
}

/** COPY … FROM STDIN of text chunks in COPY text format through a `postgres` client. */
export async function copyChunks(sql: CopyClient, table: string, columns: string[], chunks: Iterable<string>): Promise<void> {
  const writable = await openCopy(sql, table, columns);
  await new Promise<void>((resolve, reject) => {
    writable.on('error', reject);
    writable.on('finish', resolve);
    for (const chunk of chunks) writable.write(chunk);
    writable.end();
  });
}

/** An SQL identifier, quoted (embedded double quotes doubled). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
