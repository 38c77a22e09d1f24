import type { Writable } from 'node:stream';
import { copyLine } from '../db/copy-text';
import type { Database } from '../db/database';
import { openCopy, type CopyClient } from '../db/postgres-copy';

/**
 * Bulk loading of dataset rows.
 *
 * PostgreSQL: one `COPY ... FROM STDIN` for all the rows of an ingest, written as the rows are
 * produced, with backpressure (the socket's, through the postgres driver's writable) — the
 * database parses and indexes on its core while Node maps the next records on its own. Lines are
 * in COPY text format (src/db/copy-text.ts); the statement is atomic, so a crash mid-way leaves
 * no rows.
 *
 * PGlite (in-process, no COPY FROM STDIN): the rows go through Database.copyRows in chunks
 * (PGlite reads a Blob through /dev/blob), one chunk in flight while the next is built. Tables
 * whose rows come in small numbers (quarantined rows) take that way on PostgreSQL too.
 */
export interface RowCopier {
  /** Adds one row; resolves at once unless the database is behind (then when it caught up). */
  add(values: unknown[]): Promise<void> | undefined;
  /** Whether addLine works (PostgreSQL); otherwise rows go through add (PGlite). */
  readonly takesLines: boolean;
  /** Adds one row given as its COPY text line (src/db/copy-text.ts's copyLine). */
  addLine(line: string): Promise<void> | undefined;
  /** Sends what is buffered and waits for the database to confirm the rows. */
  close(): Promise<void>;
  /** Waits for anything in flight, whatever its outcome (before cleaning up after an error). */
  settle(): Promise<void>;
}

const FLUSH_CHARS = 1 << 18;

export function openRowCopier(
  database: Database,
  table: string,
  columns: string[],
  options: { chunkRows: number; afterChunk?: () => Promise<void> },
): RowCopier {
  const client = (database.db as unknown as { $client?: Partial<CopyClient> }).$client;
  if (database.kind === 'postgres' && typeof client?.unsafe === 'function') {
    return new StreamingCopier(client as CopyClient, table, columns, options.afterChunk, options.chunkRows);
  }
  return new ChunkedCopier(database, table, columns, Math.min(options.chunkRows, PGLITE_CHUNK_ROWS), options.afterChunk);
}

/**
 * PGlite runs a COPY synchronously on the main thread (WebAssembly): a chunk of 50,000 rows held
 * the event loop for ~0.8 s, and with it every prediction the all-in-one process answers.
 */
const PGLITE_CHUNK_ROWS = 5_000;

class StreamingCopier implements RowCopier {
  readonly takesLines = true;
  private writable: Promise<Writable> | undefined;
  private done: Promise<void> | undefined;
  /** The first failure of a write in flight, rethrown by the next call (boxed: the value may be anything). */
  private failure: { error: unknown } | undefined;
  /** Lines not sent yet: joined once per flush (no long chains of concatenated strings). */
  private lines: string[] = [];
  private chars = 0;
  private rows = 0;

  constructor(
    private readonly client: CopyClient,
    private readonly table: string,
    private readonly columns: string[],
    private readonly afterChunk: (() => Promise<void>) | undefined,
    private readonly chunkRows: number,
  ) {}

  add(values: unknown[]): Promise<void> | undefined {
    return this.addLine(copyLine(values));
  }

  addLine(line: string): Promise<void> | undefined {
    this.lines.push(line);
    this.chars += line.length;
    this.rows++;
    if (this.chars < FLUSH_CHARS && this.rows % this.chunkRows !== 0) return undefined;
    return this.flush(this.rows % this.chunkRows === 0);
  }

  private open(): Promise<Writable> {
    this.writable ??= openCopy(this.client, this.table, this.columns).then((writable) => {
      this.done = new Promise<void>((resolve, reject) => {
        writable.on('error', (error) => {
          this.failure ??= { error };
          reject(error);
        });
        writable.on('finish', resolve);
      });
      this.done.catch(() => {});
      return writable;
    });
    return this.writable;
  }

  private async flush(chunkDone: boolean): Promise<void> {
    const writable = await this.open();
    if (this.failure) throw this.failure.error;
    const text = this.lines.join('');
    this.lines = [];
    this.chars = 0;
    if (text && !writable.write(text)) {
      await new Promise<void>((resolve, reject) => {
        const onError = (error: unknown) => reject(error);
        writable.once('error', onError);
        writable.once('drain', () => {
          writable.off('error', onError);
          resolve();
        });
      });
    }
    if (chunkDone) await this.afterChunk?.();
  }

  async close(): Promise<void> {
    if (!this.writable && this.rows === 0) return;
    await this.flush(false);
    const writable = await this.open();
    writable.end();
    await this.done;
    if (this.failure) throw this.failure.error;
    await this.afterChunk?.();
  }

  async settle(): Promise<void> {
    if (!this.writable) return;
    const writable = await this.writable.catch(() => undefined);
    if (!writable) return;
    // Abandon the statement: an error ends the COPY, which PostgreSQL rolls back.
    if (!writable.writableEnded) writable.destroy(new Error('ingest failed; COPY abandoned'));
    await this.done?.catch(() => {});
  }
}

/** Rows in chunks of chunkRows through Database.copyRows, one chunk in flight while the next is built. */
export class ChunkedCopier implements RowCopier {
  readonly takesLines = false;
  private rows: unknown[][] = [];
  private inflight: Promise<void> = Promise.resolve();
  /** The first failure of a write in flight, rethrown by the next call (boxed: the value may be anything). */
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly database: Database,
    private readonly table: string,
    private readonly columns: string[],
    private readonly chunkRows: number,
    private readonly afterChunk?: () => Promise<void>,
  ) {}

  add(values: unknown[]): Promise<void> | undefined {
    this.rows.push(values);
    return this.rows.length >= this.chunkRows ? this.flush() : undefined;
  }

  addLine(): Promise<void> | undefined {
    throw new Error('PGlite takes rows as values (add), not COPY text lines');
  }

  private async flush(): Promise<void> {
    await this.inflight;
    if (this.failure) throw this.failure.error;
    const rows = this.rows;
    this.rows = [];
    if (rows.length === 0) return;
    this.inflight = this.database.copyRows(this.table, this.columns, rows).then(
      () => this.afterChunk?.(),
      (error: unknown) => {
        this.failure = { error };
      },
    );
  }

  async close(): Promise<void> {
    await this.flush();
    await this.inflight;
    if (this.failure) throw this.failure.error;
  }

  async settle(): Promise<void> {
    await this.inflight.catch(() => {});
  }
}
