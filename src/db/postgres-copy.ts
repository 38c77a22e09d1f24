import type { Sql } from 'postgres';

/** COPY … FROM STDIN of text chunks in COPY text format (src/db/copy-text.ts) through a `postgres` client. */
export async function copyChunks(sql: Sql, table: string, columns: string[], chunks: Iterable<string>): Promise<void> {
  const writable = await sql.unsafe(`COPY ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) FROM STDIN`).writable();
  await new Promise<void>((resolve, reject) => {
    writable.on('error', reject);
    writable.on('finish', resolve);
    for (const chunk of chunks) writable.write(chunk);
    writable.end();
  });
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
