import { readdir, readFile, rename, rmdir, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import type { LogLine } from './log-line';
import { processStat } from './prediction-spool';

/**
 * Replays spool segments (prediction-spool.ts) into the database: those left by dead processes,
 * and this process's own segments with lines no memory queue held. Idempotent: the ids already
 * in the database (a dead process may have committed part of a segment before it died) are left
 * out of each COPY, so nothing is written twice; a torn last line (a crash during a write: its
 * request was never answered) is skipped. A failing batch is retried until it is written: a
 * batch the database rejects for its data is split until the bad line is found, which alone is
 * dropped and counted.
 */
export interface SpoolReplayOptions {
  /** COPY of log lines into prediction_log. */
  copy: (lines: LogLine[]) => Promise<void>;
  /** Which of these ids prediction_log has. */
  existingIds: (ids: string[]) => Promise<Set<string>>;
  logger: Logger;
  /** Lines per COPY. Default 5000. */
  batchSize?: number;
  /** First wait after a failure (doubling up to 30 s). Default 1000 ms. */
  retryMs?: number;
  onReplayed?: (rows: number) => void;
  onDropped?: (lines: LogLine[]) => void;
}

export class SpoolReplay {
  private readonly queue: string[] = [];
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Ends the wait before a retry (stop). */
  private wake: (() => void) | undefined;
  private readonly batchSize: number;
  private readonly retryMs: number;

  constructor(private readonly options: SpoolReplayOptions) {
    this.batchSize = options.batchSize ?? 5000;
    this.retryMs = options.retryMs ?? 1000;
  }

  /** Queues a segment; replayed in the background, then deleted. */
  add(path: string): void {
    if (this.stopped) return;
    this.queue.push(path);
    this.running ??= this.run().finally(() => (this.running = undefined));
  }

  /** Resolves when every queued segment is replayed (or the replay stopped). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops between batches; segments not yet replayed stay on disk for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.idle();
  }

  private async run(): Promise<void> {
    for (let path = this.queue.shift(); path !== undefined && !this.stopped; path = this.queue.shift()) {
      try {
        if (await this.replaySegment(path)) await unlink(path);
      } catch (error) {
        this.options.logger.error({ err: error, path }, 'replaying a prediction spool segment failed; it stays for the next start');
      }
    }
  }

  /** true when every line of the segment is in the database (or dropped as bad data). */
  private async replaySegment(path: string): Promise<boolean> {
    const { lines, tornBytes } = readSegment(await readFile(path, 'utf8'));
    if (tornBytes > 0)
      this.options.logger.warn(
        { path, bytes: tornBytes },
        'prediction spool segment ends in a torn line (a crash during a write); skipped it',
      );
    let replayed = 0;
    for (let start = 0; start < lines.length; start += this.batchSize) {
      const written = await this.writeRetrying(lines.slice(start, start + this.batchSize));
      if (written === undefined) return false;
      replayed += written;
    }
    this.options.logger.info({ path, lines: lines.length, replayed }, 'replayed a prediction spool segment');
    return true;
  }

  /** Writes the lines not yet in the database; retries until done. The rows written, or undefined when stopped. */
  private async writeRetrying(lines: LogLine[]): Promise<number | undefined> {
    let wait = this.retryMs;
    for (;;) {
      if (this.stopped) return undefined;
      try {
        return await this.writeMissing(lines);
      } catch (error) {
        this.options.logger.warn({ err: error, rows: lines.length, retryInMs: wait }, 'replaying the prediction spool failed; will retry');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
        wait = Math.min(wait * 2, 30_000);
      }
    }
  }

  private async writeMissing(lines: LogLine[]): Promise<number> {
    const existing = await this.options.existingIds(lines.map(lineId));
    const missing = existing.size === 0 ? lines : lines.filter((line) => !existing.has(lineId(line)));
    if (missing.length === 0) return 0;
    try {
      await this.options.copy(missing);
      this.options.onReplayed?.(missing.length);
      return missing.length;
    } catch (error) {
      if (!isDataError(error)) throw error;
      if (missing.length === 1) {
        this.options.logger.error({ err: error, id: lineId(missing[0]) }, 'the database rejects a spooled prediction; dropped it');
        this.options.onDropped?.(missing);
        return 0;
      }
      const half = Math.ceil(missing.length / 2);
      return (await this.writeMissing(missing.slice(0, half))) + (await this.writeMissing(missing.slice(half)));
    }
  }
}

/** The complete lines of a segment's text, and the bytes of a torn last line after them. */
export function readSegment(text: string): { lines: LogLine[]; tornBytes: number } {
  const end = text.lastIndexOf('\n');
  const complete = text.slice(0, end + 1);
  const lines =
    complete === ''
      ? []
      : complete
          .slice(0, -1)
          .split('\n')
          .map((line) => `${line}\n`);
  return { lines, tornBytes: Buffer.byteLength(text.slice(end + 1)) };
}

/** The first field of a COPY line: the prediction id (a UUID: nothing COPY escapes). */
export function lineId(line: LogLine): string {
  return line.slice(0, line.indexOf('\t'));
}

/**
 * A failure caused by the rows themselves, which a retry cannot mend: a data exception (22…) or
 * an integrity violation (23…) other than a duplicate id (23505: written meanwhile; the retry
 * leaves it out).
 */
function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || (code.startsWith('23') && code !== '23505'));
}

/**
 * Takes over the segments of dead processes in `spoolDir`: each is moved into `ownDir` (a rename:
 * when two new processes race for a segment, one gets it) and its path returned for replay.
 */
export async function claimDeadSegments(spoolDir: string, ownDir: string): Promise<string[]> {
  const claimed: string[] = [];
  const owners = await readdir(spoolDir).catch(() => [] as string[]);
  for (const owner of owners) {
    const dir = join(spoolDir, owner);
    if (dir === ownDir || !isDeadOwner(owner)) continue;
    const files = await readdir(dir).catch(() => [] as string[]);
    for (const file of files.filter((f) => f.endsWith('.spool')).sort()) {
      const target = join(ownDir, `replay-${owner}-${basename(file)}`);
      try {
        await rename(join(dir, file), target);
        claimed.push(target);
      } catch {
        // Another process took it.
      }
    }
    await rmdir(dir).catch(() => {});
  }
  return claimed;
}

/**
 * Whether the process that named a spool directory `<pid>-<start time>-<random>` has ended: its
 * pid is free, a zombie, this process (an earlier run with the same pid, e.g. pid 1 in a
 * container), or now another process (its start time differs).
 */
export function isDeadOwner(owner: string): boolean {
  const match = /^(\d+)-(\d+)-[0-9a-f]+$/.exec(owner);
  if (!match) return false;
  const pid = Number(match[1]);
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as { code?: string }).code === 'ESRCH') return true;
  }
  const stat = processStat(pid);
  if (!stat) return false;
  return stat.state === 'Z' || (match[2] !== '0' && stat.startTime !== match[2]);
}
