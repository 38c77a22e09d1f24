import type { Logger } from 'pino';
import type { Database } from '../db/database';
import { COLUMNS, logLine, type LogLine, type PredictionLogEntry } from './log-line';
import type { CopyThread } from './copy-thread';
import { PredictionSpool, type SpoolSegment } from './prediction-spool';
import { tailTrace } from './tail-trace';

export interface PredictionLogStats {
  /** Accepted and not yet written (including a batch being written or awaiting retry). */
  queued: number;
  written: number;
  /**
   * Never written: the queue was full, a batch failed `maxAttempts` times, or close gave up
   * (without a spool), or the database rejected a spooled line's data (with one).
   */
  dropped: number;
  failedFlushes: number;
  /** With a spool: predictions left to the spool's replay (the queue was full, or a batch failed `maxAttempts` times). */
  leftInSpool: number;
  /** With a spool: predictions written to the database by the replay. */
  replayed: number;
}

/** A model version's share of the log's queue and drops (`PredictionLogWriter.byVersion`). */
export interface VersionLogStats {
  model: string;
  version: string;
  queued: number;
  dropped: number;
}

export interface PredictionLogSpoolOptions {
  /** The spool directory (see prediction-spool.ts). */
  dir: string;
  fsync?: boolean;
  segmentBytes?: number;
  /** A segment of this process whose lines are settled, some of them left to the replay. */
  onReplayNeeded: (path: string) => void;
}

export interface PredictionLogOptions {
  logger: Logger;
  /**
   * Most entries held in memory (default 200,000: about 60 MB with the flights model's inputs, and
   * 12 s of one process at 16k predictions/s); beyond it new entries are dropped (and counted).
   */
  capacity?: number;
  /**
   * Most rows per COPY (default 20,000). Each COPY commits and waits for PostgreSQL's WAL flush,
   * which takes 0.3–0.9 s at times on a busy disk: a small cap would then limit the log to a few
   * thousand rows/s, below the rate a server predicts. A flush sends what is queued in one COPY
   * up to this cap, so batches grow with the backlog and the log catches up after a slow spell.
   */
  batchSize?: number;
  flushMs?: number;
  /** Attempts per batch before it is dropped, so a poisoned batch cannot block the log forever. */
  maxAttempts?: number;
  /** Told of every successful write: rows and seconds (the server's metrics). */
  onWrite?: (rows: number, seconds: number) => void;
  /**
   * Spool every line before its request is answered (see prediction-spool.ts): `append` then
   * returns a promise the answer must wait for, and a full queue or a failing batch leaves lines
   * to the spool's replay instead of dropping them. Without it, an answered prediction is lost
   * when the process dies before its line is written.
   */
  spool?: PredictionLogSpoolOptions;
}

/** Queued lines of one spool segment, in queue order (no segment: not spooled). */
interface Run {
  segment: SpoolSegment | undefined;
  count: number;
}

interface Batch {
  entries: LogLine[];
  attempts: number;
  runs: Run[];
}

/**
 * Writes one batch of lines. `attempt` is 0 for the first try and counts retries of the same batch,
 * so a sink can recognise a batch whose earlier attempt did commit.
 */
export type PredictionLogSink = (lines: LogLine[], attempt: number) => Promise<void>;

/**
 * COPY into prediction_log. COPY is atomic and the ids are unique (UUIDv7, made by the server):
 * when a retry hits a unique violation, the earlier attempt committed and only its answer was
 * lost, so the batch counts as written — nothing is ever logged twice, nor dropped by mistake.
 * (One INSERT … json_to_recordset per batch was tried: slightly less work here, twice the CPU in
 * PostgreSQL, which shares the machine.)
 */
export function databaseSink(database: Pick<Database, 'copyText'> | Pick<CopyThread, 'copyText' | 'copyLines'>): PredictionLogSink {
  return async (lines, attempt) => {
    try {
      // The COPY thread takes the lines in pieces; PGlite's copyText runs in this thread anyway.
      if ('copyLines' in database) await database.copyLines('prediction_log', COLUMNS, lines);
      else {
        const started = performance.now();
        const copied = database.copyText('prediction_log', COLUMNS, lines.join(''));
        tailTrace?.span('copy', started);
        await copied;
      }
    } catch (error) {
      if (attempt > 0 && (error as { code?: unknown }).code === '23505') return;
      throw error;
    }
  };
}

/** How often the queued rows are written (ms), unless a full batch goes first. */
export const DEFAULT_FLUSH_MS = 200;
const DEFAULT_CAPACITY = 200_000;
const DEFAULT_BATCH_SIZE = 20_000;

/**
 * Writes predictions to `prediction_log` off the request path: requests append to a bounded
 * queue and never wait for the database; a timer (or a full batch) flushes. Memory is bounded,
 * so a slow or unreachable database costs log rows, never the server; every lost row is counted
 * in `stats()` and reported in a warning.
 */
export class PredictionLogWriter {
  private readonly capacity: number;
  private readonly batchSize: number;
  private readonly flushMs: number;
  private readonly maxAttempts: number;
  private queue: LogLine[] = [];
  /** The spool segments of the queued lines, in order. */
  private runs: Run[] = [];
  /** The batch whose write failed: written first on the next flush. */
  private retry: Batch | undefined;
  private readonly spool: PredictionSpool | undefined;
  private leftInSpool = 0;
  private replayed = 0;
  private writing = 0;
  /** The batch being written, until its write settles (feedback may ask about its rows). */
  private writingRows: LogLine[] = [];
  private written = 0;
  private dropped = 0;
  /** Drops per `model\tversion` (the second and third fields of a line). */
  private readonly droppedByVersion = new Map<string, number>();
  private failedFlushes = 0;
  private droppedSinceWarning = 0;
  private flushing: Promise<void> | undefined;
  private followUp: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly sink: PredictionLogSink,
    private readonly options: PredictionLogOptions,
  ) {
    this.capacity = options.capacity ?? DEFAULT_CAPACITY;
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.flushMs = options.flushMs ?? DEFAULT_FLUSH_MS;
    this.maxAttempts = options.maxAttempts ?? 5;
    const spool = options.spool;
    this.spool = spool
      ? new PredictionSpool({
          ...spool,
          onDurable: (lines, segment) => this.enqueue(lines, segment),
          onReplayNeeded: spool.onReplayNeeded,
          onError: (error) => options.logger.error({ err: error }, 'writing the prediction spool failed'),
        })
      : undefined;
    this.timer = setInterval(() => {
      this.warnAboutDrops();
      this.spool?.rotateIfSettled();
      void this.flush();
    }, this.flushMs);
    // Buffered rows alone must not keep the process alive; close() is what flushes them.
    this.timer.unref();
  }

  /** The directory this process's spool segments go to (none without a spool). */
  get spoolDir(): string | undefined {
    return this.spool?.ownDir;
  }

  /** Creates the spool's directory; call before the first append. */
  async open(): Promise<void> {
    await this.spool?.open();
  }

  /**
   * Logs entries; never blocks and never throws. Without a spool, they are queued (beyond the
   * capacity, dropped and counted) and the result is undefined. With a spool, the result says
   * once they are in the spool (true) or could not be written there (false: they are not logged,
   * and the request must not be answered as if they were).
   */
  append(entries: PredictionLogEntry[]): Promise<boolean> | undefined {
    const lines = new Array<LogLine>(entries.length);
    for (let i = 0; i < entries.length; i++) lines[i] = logLine(entries[i]);
    if (this.spool && !this.closed) return this.spool.append(lines);
    this.enqueue(lines, undefined);
    return undefined;
  }

  /** Replayed rows from the spool (counted with the log's statistics). */
  countReplayed(rows: number): void {
    this.replayed += rows;
  }

  /** Lines the replay gave up on (the database rejects their data). */
  countDropped(lines: LogLine[]): void {
    this.dropped += lines.length;
    this.countDropsByVersion(lines, 0, lines.length);
  }

  /**
   * The queue and the drops per model version. The queue is counted from its lines when asked (at a
   * scrape, not per request): finding two tabs per line costs little next to the line itself.
   */
  byVersion(): VersionLogStats[] {
    const queued = new Map<string, number>();
    for (const lines of [this.queue, this.writingRows, this.retry?.entries ?? []]) {
      for (const line of lines) {
        const key = versionKey(line);
        queued.set(key, (queued.get(key) ?? 0) + 1);
      }
    }
    const keys = new Set([...queued.keys(), ...this.droppedByVersion.keys()]);
    return [...keys].sort().map((key) => {
      const [model, version] = key.split('\t') as [string, string];
      return { model, version, queued: queued.get(key) ?? 0, dropped: this.droppedByVersion.get(key) ?? 0 };
    });
  }

  private countDropsByVersion(lines: LogLine[], from: number, to: number): void {
    for (let i = from; i < to; i++) {
      const key = versionKey(lines[i]);
      this.droppedByVersion.set(key, (this.droppedByVersion.get(key) ?? 0) + 1);
    }
  }

  stats(): PredictionLogStats {
    const pending = this.queue.length + this.writing + (this.retry?.entries.length ?? 0);
    return {
      queued: pending,
      written: this.written,
      dropped: this.dropped,
      failedFlushes: this.failedFlushes,
      leftInSpool: this.leftInSpool,
      replayed: this.replayed,
    };
  }

  /** Queues lines (of `segment`, when spooled). Beyond the capacity, spooled lines are left to the replay, others dropped. */
  private enqueue(lines: LogLine[], segment: SpoolSegment | undefined): void {
    const room = this.closed && !segment ? 0 : Math.max(0, this.capacity - this.stats().queued);
    const taken = Math.min(room, lines.length);
    if (taken < lines.length) this.giveUp(segment, lines, taken, lines.length);
    if (taken === 0) return;
    for (let i = 0; i < taken; i++) this.queue.push(lines[i]);
    const last = this.runs.length > 0 ? this.runs[this.runs.length - 1] : undefined;
    if (last && last.segment === segment) last.count += taken;
    else this.runs.push({ segment, count: taken });
    // A full batch goes out now rather than at the next tick, unless the database just failed.
    if (this.queue.length >= this.batchSize && !this.retry) void this.flush();
  }

  /** Lines `from`..`to` will not be written from memory: left to the spool's replay, or dropped (and counted). */
  private giveUp(segment: SpoolSegment | undefined, lines: LogLine[], from: number, to: number): void {
    const count = to - from;
    if (segment) {
      this.spool!.leave(segment, count);
      this.leftInSpool += count;
    } else {
      this.dropped += count;
      this.droppedSinceWarning += count;
      this.countDropsByVersion(lines, from, to);
    }
  }

  /**
   * Writes what is queued now, batch by batch, stopping at the first failure. One flush at a time.
   * Rows appended while it runs wait for the next flush: under steady traffic a flush that chased
   * the queue until it was empty would never return (feedback waits on it).
   */
  flush(): Promise<void> {
    if (this.flushing) {
      // The running flush covers only rows queued before it began; rows queued since (the
      // prediction a feedback request is about) need one more, started when it ends.
      // A flush that began after the running one ended (e.g. for a full batch) covers them too.
      this.followUp ??= this.flushing.then(() => {
        this.followUp = undefined;
        return this.flushing ?? this.startFlush();
      });
      return this.followUp;
    }
    return this.startFlush();
  }

  private startFlush(): Promise<void> {
    this.flushing = this.drain(this.queue.length).finally(() => {
      this.flushing = undefined;
      // A full batch that arrived during the write goes out now rather than at the next tick.
      if (this.queue.length >= this.batchSize && !this.retry && !this.closed) void this.flush();
    });
    return this.flushing;
  }

  /**
   * The model and version of those `ids` whose predictions this writer holds but the database may
   * not have yet (queued, being written, or waiting for a retry). Feedback sent right after an
   * answer is resolved from here instead of waiting for a flush.
   */
  pending(ids: readonly string[]): Map<string, { model: string; version: number }> {
    const wanted = new Set(ids);
    const found = new Map<string, { model: string; version: number }>();
    for (const lines of [this.queue, this.writingRows, this.retry?.entries ?? []]) {
      for (const line of lines) {
        // The first three fields: the id (a UUID), the model name (lowercase letters, digits and
        // dashes: nothing COPY escapes) and the version.
        const idEnd = line.indexOf('\t');
        const id = line.slice(0, idEnd);
        if (!wanted.has(id)) continue;
        const modelEnd = line.indexOf('\t', idEnd + 1);
        found.set(id, {
          model: line.slice(idEnd + 1, modelEnd),
          version: Number(line.slice(modelEnd + 1, line.indexOf('\t', modelEnd + 1))),
        });
      }
    }
    return found;
  }

  /** Stops accepting entries and writes what is left, retrying a failing batch up to maxAttempts. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    // Lines being spooled join the queue first.
    await this.spool?.idle;
    while (this.stats().queued > 0) {
      const before = this.retry;
      await this.flush();
      // No progress: wait a period before the next attempt, as the timer would have.
      if (this.retry && this.retry === before) await new Promise((r) => setTimeout(r, this.flushMs));
    }
    await this.spool?.close();
    this.warnAboutDrops();
  }

  /** Writes a failed batch first, then at most `rows` queued rows (those queued when the flush began). */
  private async drain(rows: number): Promise<void> {
    let left = rows;
    for (;;) {
      const batch = this.retry ?? (left > 0 && this.queue.length > 0 ? this.takeBatch(left) : undefined);
      if (!batch) return;
      if (batch !== this.retry) left -= batch.entries.length;
      this.retry = undefined;
      this.writing = batch.entries.length;
      this.writingRows = batch.entries;
      try {
        const started = performance.now();
        await this.sink(batch.entries, batch.attempts);
        this.written += batch.entries.length;
        for (const run of batch.runs) if (run.segment) this.spool!.settle(run.segment, run.count);
        this.options.onWrite?.(batch.entries.length, (performance.now() - started) / 1000);
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
          let at = 0;
          for (const run of batch.runs) {
            this.giveUp(run.segment, batch.entries, at, at + run.count);
            at += run.count;
          }
          this.options.logger.error(
            { err: error, rows: batch.entries.length, attempts: batch.attempts, spooled: batch.runs.every((run) => run.segment) },
            this.spool
              ? "writing the prediction log failed repeatedly; left the batch to the spool's replay"
              : 'writing the prediction log failed repeatedly; dropped the batch',
          );
        }
        return;
      } finally {
        this.writing = 0;
        this.writingRows = [];
      }
    }
  }

  /** The next batch of at most `limit` rows; usually the whole queue, swapped out without copying. */
  private takeBatch(limit: number): Batch {
    const size = Math.min(limit, this.batchSize);
    if (this.queue.length <= size) {
      const batch = { entries: this.queue, attempts: 0, runs: this.runs };
      this.queue = [];
      this.runs = [];
      return batch;
    }
    const runs: Run[] = [];
    for (let left = size; left > 0;) {
      const run = this.runs[0];
      if (run.count <= left) {
        runs.push(this.runs.shift()!);
        left -= run.count;
      } else {
        runs.push({ segment: run.segment, count: left });
        run.count -= left;
        left = 0;
      }
    }
    return { entries: this.queue.splice(0, size), attempts: 0, runs };
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

/** `model\tversion` of a COPY line (id, model_name, version, ...): names and numbers hold no tab. */
function versionKey(line: LogLine): string {
  const start = line.indexOf('\t') + 1;
  return line.slice(start, line.indexOf('\t', line.indexOf('\t', start) + 1));
}
