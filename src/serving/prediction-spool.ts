import { close, fdatasync, ftruncate, mkdir, open, readFileSync, rmdir, unlink, write, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import type { LogLine } from './log-line';
import { tailTrace } from './tail-trace';

/**
 * The prediction log's local append-only spool: a request's log lines are written here (one
 * write() per group of requests: group commit) before its answer goes out, so an answered
 * prediction survives the process. write() without fsync survives a SIGKILL, an OOM kill or a
 * crash of the process, since the kernel holds the data; with `fsync` it survives a crash of
 * the machine too. Each process writes segments in a directory of its own; a segment is deleted
 * once every line in it is committed to the database (settled), or handed to the replay
 * (spool-replay.ts) when some of its lines were left to it (a full queue, a batch that failed
 * repeatedly). A new process replays the segments of dead ones.
 */

export interface SpoolSegment {
  readonly path: string;
  fd: number;
  bytes: number;
  /** Lines written to the segment. */
  lines: number;
  /** Lines committed to the database, or left for the replay. */
  settled: number;
  /** Some lines are in no memory queue: the segment goes to the replay instead of being deleted. */
  needsReplay: boolean;
  closed: boolean;
}

export interface PredictionSpoolOptions {
  /** The spool directory; this process writes in a subdirectory named after itself. */
  dir: string;
  /** fdatasync after each group write: answers wait for the disk, and a machine crash loses nothing. */
  fsync?: boolean;
  /** A segment is closed (and a new one begun) after this many bytes. Default 8 MB. */
  segmentBytes?: number;
  /** Every group, once written: its lines and their segment (the writer queues them). */
  onDurable: (lines: LogLine[], segment: SpoolSegment) => void;
  /** A closed segment whose lines are all settled but some were left to the replay. */
  onReplayNeeded: (path: string) => void;
  onError: (error: unknown) => void;
}

interface Group {
  lines: LogLine[];
  /** true once written (and synced when asked); false when the write failed. */
  done: Promise<boolean>;
  resolve: (durable: boolean) => void;
}

const DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024;
/**
 * A group is written with a synchronous write() on the event loop: a few KB into the page cache
 * take tens of microseconds, while a write through libuv's thread pool costs two thread wake-ups,
 * and on a busy machine each one waits for a core (the slowest answers' largest stage in
 * `bench:serve`'s tail trace). A synchronous write slower than this means the kernel is throttling
 * writes (dirty pages): the next ones go through the thread pool for a while, so a slow disk
 * never stalls the event loop for more than one write per period.
 */
const SLOW_SYNC_WRITE_MS = 5;
const THREAD_POOL_AFTER_SLOW_WRITE_MS = 1000;
const writeAsync = promisify(write);
const openAsync = promisify(open);
const closeAsync = promisify(close);
const syncAsync = promisify(fdatasync);
const truncateAsync = promisify(ftruncate);
const unlinkAsync = promisify(unlink);
const mkdirAsync = promisify(mkdir);
const rmdirAsync = promisify(rmdir);

export class PredictionSpool {
  /** This process's subdirectory: `<pid>-<start time>-<random>` (see isDeadOwner in spool-replay.ts). */
  readonly ownDir: string;
  private readonly segmentBytes: number;
  private current: SpoolSegment | undefined;
  private nextSegment = 1;
  private pendingGroup: Group | undefined;
  private writing = false;
  private closed = false;
  private idlePromise: Promise<void> = Promise.resolve();
  private idleResolve: (() => void) | undefined;
  /** performance.now() until which writes go through the thread pool (after a slow synchronous one). */
  private threadPoolUntil = 0;

  constructor(private readonly options: PredictionSpoolOptions) {
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.ownDir = join(options.dir, ownerName());
  }

  async open(): Promise<void> {
    await mkdirAsync(this.ownDir, { recursive: true });
  }

  /**
   * Adds lines to the next group write. The promise says whether they are in the spool (false:
   * the write failed, the lines are not logged, and the caller must not acknowledge them).
   * Never rejects.
   */
  append(lines: LogLine[]): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    let group = this.pendingGroup;
    if (!group) {
      let resolve!: (durable: boolean) => void;
      const done = new Promise<boolean>((r) => (resolve = r));
      group = this.pendingGroup = { lines: [], done, resolve };
      // Requests that finish in the same turn of the event loop share one write.
      if (!this.writing) {
        this.writing = true;
        this.idlePromise = new Promise((r) => (this.idleResolve = r));
        setImmediate(() => void this.writeGroups());
      }
    }
    for (let i = 0; i < lines.length; i++) group.lines.push(lines[i]);
    return group.done;
  }

  /** Resolves when no group write is pending or running. */
  get idle(): Promise<void> {
    return this.idlePromise;
  }

  /** `count` lines of `segment` are committed to the database (or left for the replay). */
  settle(segment: SpoolSegment, count: number): void {
    segment.settled += count;
    this.retireIfDone(segment);
  }

  /** Lines of `segment` that no memory queue holds: the replay will write them. */
  leave(segment: SpoolSegment, count: number): void {
    segment.needsReplay = true;
    this.settle(segment, count);
  }

  /** Closes the current segment when all of it is settled (an idle server leaves no file behind). */
  rotateIfSettled(): void {
    const segment = this.current;
    if (!segment || this.writing || segment.settled < segment.lines) return;
    this.rotate();
  }

  /** Writes what is pending, then closes the current segment (deleted if settled, else left for a replay). */
  async close(): Promise<void> {
    this.closed = true;
    await this.idlePromise;
    const segment = this.current;
    this.current = undefined;
    if (segment) {
      await closeAsync(segment.fd);
      segment.closed = true;
      if (segment.settled >= segment.lines && !segment.needsReplay) await unlinkAsync(segment.path);
    }
    // Empty unless segments were left for a replay: the next start takes those.
    await rmdirAsync(this.ownDir).catch(() => {});
  }

  private async writeGroups(): Promise<void> {
    while (this.pendingGroup) {
      const group = this.pendingGroup;
      this.pendingGroup = undefined;
      const started = performance.now();
      let segment: SpoolSegment | undefined;
      try {
        segment = this.current ?? (await this.openSegment());
        const bytes = await this.writeAll(segment, Buffer.from(group.lines.join('')));
        if (this.options.fsync) await syncAsync(segment.fd);
        segment.bytes += bytes;
        segment.lines += group.lines.length;
      } catch (error) {
        this.options.onError(error);
        // A torn write in the middle of a segment would corrupt the line after it: cut it off,
        // or leave the segment (a torn last line is skipped by the replay).
        if (segment) await truncateAsync(segment.fd, segment.bytes).catch(() => this.rotate());
        group.resolve(false);
        continue;
      }
      this.options.onDurable(group.lines, segment);
      tailTrace?.span('spool', started);
      group.resolve(true);
      if (segment.bytes >= this.segmentBytes) this.rotate();
    }
    this.writing = false;
    this.idleResolve?.();
  }

  private async writeAll(segment: SpoolSegment, buffer: Buffer): Promise<number> {
    // With fsync the answer waits for the disk anyway: the thread pool keeps the event loop free meanwhile.
    if (!this.options.fsync && performance.now() >= this.threadPoolUntil) {
      const started = performance.now();
      for (let offset = 0; offset < buffer.length;) offset += writeSync(segment.fd, buffer, offset, buffer.length - offset, null);
      const ended = performance.now();
      if (ended - started > SLOW_SYNC_WRITE_MS) this.threadPoolUntil = ended + THREAD_POOL_AFTER_SLOW_WRITE_MS;
      return buffer.length;
    }
    let offset = 0;
    while (offset < buffer.length) {
      const { bytesWritten } = await writeAsync(segment.fd, buffer, offset, buffer.length - offset, null);
      offset += bytesWritten;
    }
    return buffer.length;
  }

  private async openSegment(): Promise<SpoolSegment> {
    const path = join(this.ownDir, `${String(this.nextSegment++).padStart(8, '0')}.spool`);
    const fd = await openAsync(path, 'wx');
    this.current = { path, fd, bytes: 0, lines: 0, settled: 0, needsReplay: false, closed: false };
    return this.current;
  }

  private rotate(): void {
    const segment = this.current;
    if (!segment) return;
    this.current = undefined;
    closeAsync(segment.fd).then(
      () => {
        segment.closed = true;
        this.retireIfDone(segment);
      },
      (error: unknown) => this.options.onError(error),
    );
  }

  private retireIfDone(segment: SpoolSegment): void {
    if (!segment.closed || segment.settled < segment.lines) return;
    if (segment.needsReplay) this.options.onReplayNeeded(segment.path);
    else unlinkAsync(segment.path).catch((error: unknown) => this.options.onError(error));
  }
}

/**
 * `<pid>-<start time>-<random>`: the pid and its start time (Linux: field 22 of /proc/<pid>/stat)
 * tell whether the owner still runs (spool-replay.ts); the random part keeps names unique.
 */
function ownerName(): string {
  return `${process.pid}-${processStat(process.pid)?.startTime ?? 0}-${randomBytes(4).toString('hex')}`;
}

/** A process's state letter and start time from /proc (Linux); undefined elsewhere or when it is gone. */
export function processStat(pid: number): { state: string; startTime: string } | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return { state: fields[0], startTime: fields[19] };
  } catch {
    return undefined;
  }
}
