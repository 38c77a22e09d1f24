import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database';
import { predictionLog } from '../../src/db/schema';
import { CopyThread } from '../../src/serving/copy-thread';
import { predictionId } from '../../src/serving/ids';
import { COLUMNS, logLine } from '../../src/serving/log-line';
import { databaseSink } from '../../src/serving/prediction-log';

const url = inject('databaseUrl');

// The COPY thread exists for PostgreSQL only (PGlite lives in the server's thread).
describe.skipIf(!url)("the prediction log's COPY thread (PostgreSQL)", () => {
  let database: Database;
  let thread: CopyThread;

  beforeAll(async () => {
    database = await openDatabase({ url, dataDir: '' });
    thread = new CopyThread(url);
  });

  afterAll(async () => {
    await thread.close();
    await database.close();
  });

  const lines = (n: number, model: string) =>
    Array.from({ length: n }, (_, i) =>
      logLine({
        id: predictionId(),
        model,
        version: 2,
        inputs: { i, city: 'Zürich\t"x"\\' },
        outputs: '{"prediction":1.5}',
        latencyMs: 0.25,
        createdAt: new Date(),
      }),
    );
  const idsOf = (batch: string[]) => batch.map((line) => line.slice(0, line.indexOf('\t')));

  it('writes a batch from its own thread; a retry of a committed batch is recognised, not written twice', async () => {
    const batch = lines(3, 'copy-thread-a');
    const sink = databaseSink(thread);
    await sink(batch, 0);
    const stored = await database.db
      .select()
      .from(predictionLog)
      .where(inArray(predictionLog.id, idsOf(batch)));
    expect(stored).toHaveLength(3);
    expect(stored[0]).toMatchObject({ modelName: 'copy-thread-a', version: 2, outputs: { prediction: 1.5 }, latencyMs: 0.25 });
    expect(stored.map((row) => row.inputs)).toContainEqual({ i: 1, city: 'Zürich\t"x"\\' });
    // The same rows again: PostgreSQL's unique violation comes back with its code.
    await expect(thread.copyText('prediction_log', COLUMNS, batch.join(''))).rejects.toMatchObject({ code: '23505' });
    await sink(batch, 1);
    expect(
      await database.db
        .select()
        .from(predictionLog)
        .where(inArray(predictionLog.id, idsOf(batch))),
    ).toHaveLength(3);
  });

  it('hands a large batch over in pieces of 1000 lines, each a turn of the event loop, as one COPY', async () => {
    const big = lines(2500, 'copy-thread-c');
    let turns = 0;
    const ticking = setInterval(() => turns++, 0);
    const copied = thread.copyLines('prediction_log', COLUMNS, big);
    // The pieces go out on later turns: the event loop is free between them.
    await new Promise((resolve) => setImmediate(resolve));
    await copied;
    clearInterval(ticking);
    expect(turns).toBeGreaterThan(0);
    expect(
      await database.db
        .select({ id: predictionLog.id })
        .from(predictionLog)
        .where(inArray(predictionLog.id, idsOf(big))),
    ).toHaveLength(2500);
    // One COPY: a duplicate in the last piece fails the whole batch, nothing of it is written.
    const again = [...lines(1500, 'copy-thread-c'), big[0]];
    await expect(thread.copyLines('prediction_log', COLUMNS, again)).rejects.toMatchObject({ code: '23505' });
    expect(
      await database.db
        .select({ id: predictionLog.id })
        .from(predictionLog)
        .where(inArray(predictionLog.id, idsOf(again.slice(0, 1500)))),
    ).toHaveLength(0);
  });

  it('fails a hand-over in pieces when the thread dies in the middle of it', async () => {
    const copied = thread.copyLines('prediction_log', COLUMNS, lines(5000, 'copy-thread-d'));
    await thread.crashForTest();
    await expect(copied).rejects.toThrow(/COPY thread stopped/);
  });

  it('fails the copies in flight when the thread dies, and starts a new thread for the next', async () => {
    const big = lines(20_000, 'copy-thread-b');
    const inFlight = thread.copyText('prediction_log', COLUMNS, big.join(''));
    await thread.crashForTest();
    await expect(inFlight).rejects.toThrow(/COPY thread stopped/);
    const next = lines(2, 'copy-thread-b');
    await thread.copyText('prediction_log', COLUMNS, next.join(''));
    expect(
      await database.db
        .select()
        .from(predictionLog)
        .where(inArray(predictionLog.id, idsOf(next))),
    ).toHaveLength(2);
  });
});
