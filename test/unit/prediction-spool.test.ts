import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logLine, type PredictionLogEntry } from '../../src/serving/log-line';
import { PredictionLogWriter } from '../../src/serving/prediction-log';
import { PredictionSpool, processStat, type SpoolSegment } from '../../src/serving/prediction-spool';
import { claimDeadSegments, isDeadOwner, lineId, readSegment, SpoolReplay } from '../../src/serving/spool-replay';

const quiet = pino({ level: 'silent' });
const entry = (i: number): PredictionLogEntry => ({
  id: `0190000-${String(i).padStart(6, '0')}`,
  model: 'spool',
  version: 1,
  inputs: { distance: i, note: 'tab\there\nnewline' },
  outputs: '{"prediction":1}',
  latencyMs: 1,
  createdAt: new Date('2026-12-06T20:00:00Z'),
});
const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => logLine(entry(from + i)));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keel-spool-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The files under the spool directory, relative to it. */
async function files(): Promise<string[]> {
  const found: string[] = [];
  for (const owner of await readdir(dir))
    for (const file of await readdir(join(dir, owner)).catch(() => [])) found.push(`${owner}/${file}`);
  return found.sort();
}

const until = async (check: () => boolean | Promise<boolean>) => {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
  expect(await check()).toBe(true);
};

describe('prediction spool', () => {
  it.each([false, true])(
    'writes the appends of one turn of the event loop as one group, before saying they are durable (fsync: %s)',
    async (fsync) => {
      const groups: { lines: string[]; segment: SpoolSegment }[] = [];
      const spool = new PredictionSpool({
        dir,
        fsync,
        onDurable: (l, segment) => groups.push({ lines: l, segment }),
        onReplayNeeded: () => {},
        onError: () => {},
      });
      await spool.open();
      const first = spool.append(lines(0, 2));
      const second = spool.append(lines(2, 3));
      expect(first).toBe(second);
      expect(await first).toBe(true);
      expect(groups).toHaveLength(1);
      expect(groups[0].lines).toEqual(lines(0, 3));
      // On disk before the promise resolved: a SIGKILL from here on loses nothing.
      expect(await readFile(groups[0].segment.path, 'utf8')).toBe(lines(0, 3).join(''));
      expect(await spool.append(lines(3, 4))).toBe(true);
      expect(groups).toHaveLength(2);
      expect(groups[1].segment).toBe(groups[0].segment);
      spool.settle(groups[0].segment, 4);
      await spool.close();
      expect(await files()).toEqual([]);
    },
  );

  it('rotates segments by size and deletes each once every line in it is settled', async () => {
    const groups: { lines: string[]; segment: SpoolSegment }[] = [];
    const spool = new PredictionSpool({
      dir,
      segmentBytes: 500,
      onDurable: (l, segment) => groups.push({ lines: l, segment }),
      onReplayNeeded: () => {},
      onError: () => {},
    });
    await spool.open();
    for (let i = 0; i < 6; i++) await spool.append(lines(i * 3, i * 3 + 3));
    const segments = [...new Set(groups.map((g) => g.segment))];
    expect(segments.length).toBeGreaterThanOrEqual(3);
    await until(async () => (await files()).length === segments.length);
    // Settling only part of the first segment keeps it.
    spool.settle(segments[0], segments[0].lines - 1);
    spool.settle(segments[1], segments[1].lines);
    await until(async () => (await files()).length === segments.length - 1);
    expect((await files()).map((f) => f.split('/')[1])).toContain('00000001.spool');
    spool.settle(segments[0], 1);
    await until(async () => !(await files()).some((f) => f.endsWith('00000001.spool')));
    await spool.close();
  });

  it('hands a settled segment with lines left to the replay to the replay instead of deleting it', async () => {
    const replayNeeded: string[] = [];
    let segment: SpoolSegment | undefined;
    const spool = new PredictionSpool({
      dir,
      onDurable: (_l, s) => (segment = s),
      onReplayNeeded: (path) => replayNeeded.push(path),
      onError: () => {},
    });
    await spool.open();
    await spool.append(lines(0, 2));
    spool.settle(segment!, 1);
    spool.leave(segment!, 1);
    spool.rotateIfSettled();
    await until(() => replayNeeded.length === 1);
    expect(replayNeeded).toEqual([segment!.path]);
    expect(await readFile(segment!.path, 'utf8')).toBe(lines(0, 2).join(''));
    await spool.close();
  });
});

describe('prediction log writer with a spool', () => {
  it('leaves lines beyond a full queue, and batches failing maxAttempts times, to the replay: nothing dropped', async () => {
    let failing = true;
    const written: string[] = [];
    const writer = new PredictionLogWriter(
      async (batch) => {
        if (failing) throw new Error('database unavailable');
        written.push(...batch);
      },
      { logger: quiet, capacity: 3, maxAttempts: 1, flushMs: 10_000, spool: { dir, onReplayNeeded: () => {} } },
    );
    await writer.open();
    expect(await writer.append([entry(1), entry(2)])).toBe(true);
    expect(await writer.append([entry(3), entry(4), entry(5)])).toBe(true);
    expect(writer.stats()).toMatchObject({ queued: 3, dropped: 0, leftInSpool: 2 });
    await writer.flush();
    expect(writer.stats()).toMatchObject({ queued: 0, written: 0, dropped: 0, leftInSpool: 5 });
    failing = false;
    expect(await writer.append([entry(6)])).toBe(true);
    await writer.close();
    expect(written).toEqual([logLine(entry(6))]);
    expect(writer.stats()).toMatchObject({ queued: 0, written: 1, dropped: 0, leftInSpool: 5 });
    // Closed with lines left to the replay: the segment stays, whole, for the next start to replay.
    const left = await files();
    expect(left).toHaveLength(1);
    expect(readSegment(await readFile(join(dir, left[0]), 'utf8')).lines.map(lineId)).toEqual([1, 2, 3, 4, 5, 6].map((i) => entry(i).id));
  });

  it('deletes the spool once every line is written, and leaves no directory after close', async () => {
    const written: string[] = [];
    const writer = new PredictionLogWriter(async (batch) => void written.push(...batch), {
      logger: quiet,
      flushMs: 10_000,
      spool: { dir, onReplayNeeded: () => {} },
    });
    await writer.open();
    await Promise.all([writer.append([entry(1)]), writer.append([entry(2)])]);
    expect(await files()).toHaveLength(1);
    await writer.close();
    expect(written).toHaveLength(2);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('spool replay', () => {
  it('reads complete lines and skips a torn last line', () => {
    const text = lines(0, 3).join('');
    expect(readSegment(text)).toEqual({ lines: lines(0, 3), tornBytes: 0 });
    const torn = text + logLine(entry(3)).slice(0, 20);
    expect(readSegment(torn)).toEqual({ lines: lines(0, 3), tornBytes: 20 });
    expect(readSegment('')).toEqual({ lines: [], tornBytes: 0 });
    expect(readSegment('partial')).toEqual({ lines: [], tornBytes: 7 });
  });

  it('writes only the lines not yet in the database, retries failures, and deletes the segment after', async () => {
    const path = join(dir, 'segment.spool');
    await writeFile(path, lines(0, 10).join('') + logLine(entry(10)).slice(0, 15));
    const database = new Set([entry(0).id, entry(4).id]);
    let failures = 2;
    const replayed: number[] = [];
    const replay = new SpoolReplay({
      copy: async (batch) => {
        if (failures-- > 0) throw new Error('connection refused');
        for (const line of batch) {
          if (database.has(lineId(line))) throw Object.assign(new Error('duplicate'), { code: '23505' });
          database.add(lineId(line));
        }
      },
      existingIds: async (ids) => new Set(ids.filter((id) => database.has(id))),
      logger: quiet,
      batchSize: 4,
      retryMs: 5,
      onReplayed: (rows) => replayed.push(rows),
    });
    replay.add(path);
    await replay.idle();
    expect([...database].sort()).toEqual(lines(0, 10).map(lineId));
    expect(replayed.reduce((a, b) => a + b, 0)).toBe(8);
    await expect(readFile(path)).rejects.toThrow(/ENOENT/);
  });

  it('drops (and counts) only the line the database rejects for its data', async () => {
    const path = join(dir, 'segment.spool');
    await writeFile(path, lines(0, 7).join(''));
    const stored: string[] = [];
    let dropped = 0;
    const replay = new SpoolReplay({
      copy: async (batch) => {
        if (batch.some((line) => lineId(line) === entry(5).id))
          throw Object.assign(new Error('invalid input syntax for type json'), { code: '22P02' });
        stored.push(...batch.map(lineId));
      },
      existingIds: async () => new Set(),
      logger: quiet,
      onDropped: (lines) => (dropped += lines.length),
    });
    replay.add(path);
    await replay.idle();
    expect(stored.sort()).toEqual([0, 1, 2, 3, 4, 6].map((i) => entry(i).id));
    expect(dropped).toBe(1);
  });

  it('claims the segments of dead processes only', async () => {
    const own = join(dir, `${process.pid}-${processStat(process.pid)?.startTime ?? 0}-aaaa`);
    // A process that has exited (and been reaped): its pid is free.
    const exited = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const dead = `${exited}-0-bbbb`;
    const alive = `${process.ppid}-${processStat(process.ppid)?.startTime ?? 0}-cccc`;
    // An earlier run of this very pid (pid 1 in a container restarts as pid 1).
    const earlier = `${process.pid}-0-dddd`;
    for (const owner of [own, join(dir, dead), join(dir, alive), join(dir, earlier)]) await mkdir(owner, { recursive: true });
    await writeFile(join(dir, dead, '00000001.spool'), lines(0, 1).join(''));
    await writeFile(join(dir, dead, '00000002.spool'), lines(1, 2).join(''));
    await writeFile(join(dir, alive, '00000001.spool'), lines(2, 3).join(''));
    await writeFile(join(dir, earlier, '00000001.spool'), lines(3, 4).join(''));
    expect(isDeadOwner(dead)).toBe(true);
    expect(isDeadOwner(alive)).toBe(false);
    const claimed = await claimDeadSegments(dir, own);
    expect(claimed.map((path) => path.slice(own.length + 1)).sort()).toEqual(
      [`replay-${dead}-00000001.spool`, `replay-${dead}-00000002.spool`, `replay-${earlier}-00000001.spool`].sort(),
    );
    expect((await readdir(dir)).sort()).toEqual([own.slice(dir.length + 1), alive].sort());
    // A second claimer finds nothing left.
    expect(await claimDeadSegments(dir, own)).toEqual([]);
  });
});
