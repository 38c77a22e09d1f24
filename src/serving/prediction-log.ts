import type { Logger } from 'pino';
import type { Database } from '../db/database';

export interface PredictionLogEntry {
  id: string;
  model: string;
  version: number;
  /** The raw instance as the client sent it. */
  inputs: Record<string, unknown>;
  outputs: { probability: number; label: number };
  /** Validation and inference time of the request's whole batch (the body upload excluded). */
  latencyMs: number;
  createdAt: Date;
}

export interface PredictionLogStats {
  /** Accepted and not yet written (including a batch being written or awaiting retry). */
  queued: number;
  written: number;
  /** Never written: the queue was full, a batch failed `maxAttempts` times, or close gave up. */
  dropped: number;
  failedFlushes: number;
}

export interface PredictionLogOptions {
  logger: Logger;
  /** Most entries held in memory; beyond it new entries are dropped (and counted). */
  capacity?: number;
  batchSize?: number;
  flushMs?: number;
  /** Attempts per batch before it is dropped, so a poisoned batch cannot block the log forever. */
  maxAttempts?: number;
}

const COLUMNS = ['id', 'model_name', 'version', 'inputs', 'outputs', 'latency_ms', 'created_at'];

/**
 * Writes predictions to `prediction_log` off the request path: requests append to a bounded
 * queue and never wait for the database; a timer (or a full batch) flushes with COPY. Memory is
 * bounded, so a slow or unreachable database costs log rows, never the server; every lost row
 * is counted in `stats()` and reported in a warning.
 */
export class PredictionLogWriter {
  private readonly capacity: number;
  private readonly batchSize: number;
  private readonly flushMs: number;
  private readonly maxAttempts: number;
  private queue: PredictionLogEntry[] = [];
  /** The batch whose write failed: written first on the next flush. */
  private retry: { entries: PredictionLogEntry[]; attempts: number } | undefined;
  private writing = 0;
  private written = 0;
  private dropped = 0;
  private failedFlushes = 0;
  private droppedSinceWarning = 0;
  private flushing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly database: Pick<Database, 'copyRows'>,
    private readonly options: PredictionLogOptions,
  ) {
    this.capacity = options.capacity ?? 100_000;
    this.batchSize = options.batchSize ?? 1000;
    this.flushMs = options.flushMs ?? 200;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.timer = setInterval(() => {
      this.warnAboutDrops();
      void this.flush();
    }, this.flushMs);
    // Buffered rows alone must not keep the process alive; close() is what flushes them.
    this.timer.unref();
  }

  /** Queues entries; never blocks and never throws. Entries beyond the capacity are dropped. */
  append(entries: PredictionLogEntry[]): void {
    const room = this.closed ? 0 : Math.max(0, this.capacity - this.stats().queued);
    if (entries.length > room) {
      this.dropped += entries.length - room;
      this.droppedSinceWarning += entries.length - room;
    }
    for (let i = 0; i < Math.min(room, entries.length); i++) this.queue.push(entries[i]);
    // A full batch goes out now rather than at the next tick, unless the database just failed.
    if (this.queue.length >= this.batchSize && !this.retry) void this.flush();
  }

  stats(): PredictionLogStats {
    const pending = this.queue.length + this.writing + (this.retry?.entries.length ?? 0);
    return { queued: pending, written: this.written, dropped: this.dropped, failedFlushes: this.failedFlushes };
  }

  /** Writes what is queued, batch by batch, stopping at the first failure. One flush at a time. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Stops accepting entries and writes what is left, retrying a failing batch up to maxAttempts. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    while (this.stats().queued > 0) {
      const before = this.retry;
      await this.flush();
      // No progress: wait a period before the next attempt, as the timer would have.
      if (this.retry && this.retry === before) await new Promise((r) => setTimeout(r, this.flushMs));
    }
    this.warnAboutDrops();
  }

  private async drain(): Promise<void> {
    for (;;) {
      const batch = this.retry ?? (this.queue.length > 0 ? { entries: this.queue.splice(0, this.batchSize), attempts: 0 } : undefined);
      if (!batch) return;
      this.retry = undefined;
      this.writing = batch.entries.length;
      try {
        await this.database.copyRows('prediction_log', COLUMNS, batch.entries.map(toRow));
        this.written += batch.entries.length;
      } catch (error) {
        this.failedFlushes++;
        batch.attempts++;
        if (batch.attempts < this.maxAttempts) {
          this.retry = batch;
          this.options.logger.warn(
            { err: error, rows: batch.entries.length, attempt: batch.attempts },
            'writing the prediction log failed; will retry',
          );
        } else {
          this.dropped += batch.entries.length;
          this.options.logger.error(
            { err: error, rows: batch.entries.length, attempts: batch.attempts },
            'writing the prediction log failed repeatedly; dropped the batch',
          );
        }
        return;
      } finally {
        this.writing = 0;
      }
    }
  }

  /** At most one warning per tick, however many requests lost rows in between. */
  private warnAboutDrops(): void {
    if (this.droppedSinceWarning === 0) return;
    this.options.logger.warn(
      { dropped: this.droppedSinceWarning, droppedTotal: this.dropped, capacity: this.capacity },
      'prediction log queue full; dropped predictions from the log',
    );
    this.droppedSinceWarning = 0;
  }
}

function toRow(entry: PredictionLogEntry): unknown[] {
  return [
    entry.id,
    entry.model,
    entry.version,
    jsonbSafe(entry.inputs),
    entry.outputs,
    entry.latencyMs,
    entry.createdAt,
  ];
}

/**
 * jsonb rejects the \u0000 escape and unpaired surrogates, and one such value would fail its whole
 * COPY batch. Client strings may contain them, so they are replaced with U+FFFD in the log.
 */
function jsonbSafe(inputs: Record<string, unknown>): Record<string, unknown> {
  const safe: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(inputs)) {
    safe[key] = typeof value === 'string' ? value.replace(JSONB_UNSAFE, '\uFFFD') : value;
  }
  return safe;
}

const JSONB_UNSAFE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
