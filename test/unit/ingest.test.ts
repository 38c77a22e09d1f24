import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDatasetVersion, listDatasetVersions, readDatasetRows, sampleDatasetRows, saveProfile } from '../../src/data/dataset-store';
import { profileDataset } from '../../src/data/profile';
import { ingestDataset, type IngestProgress } from '../../src/data/ingest';
import { collectGarbage } from '../../src/data/ingest-attempts';
import type { SourceRecord } from '../../src/data/source-types';
import { readParquetRecords } from '../../src/data/parquet-source';
import { openDatabase, type Database } from '../../src/db/database';
import { datasetIngests, datasetRows, quarantinedRows } from '../../src/db/schema';
import { InvalidInputError } from '../../src/shared/errors';
import type { FlightsDatasetSpec } from '../../src/shared/dataset-spec';
import { crashingDatabase } from './data-helpers';

let dir: string;
let database: Database;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keel-ingest-'));
  database = await openDatabase({ dataDir: dir });
});

afterAll(async () => {
  await database?.close();
  rmSync(dir, { recursive: true, force: true });
});

function spec(name: string, overrides: Partial<FlightsDatasetSpec> = {}): FlightsDatasetSpec {
  return {
    name,
    source: { format: 'parquet', path: 'test://injected' },
    recipe: 'flights',
    period: { from: '2001-01-01', to: '2001-02-01' },
    ...overrides,
  };
}

function flight(day: number, minute: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    date: new Date(Date.UTC(2001, 0, day, 10, minute)),
    delay: BigInt((minute % 40) - 10),
    distance: BigInt(100 + minute),
    origin: 'SFO',
    destination: 'LAX',
    ...overrides,
  };
}

async function* source(records: Record<string, unknown>[]): AsyncGenerator<SourceRecord> {
  for (let i = 0; i < records.length; i++) yield { recordNumber: i, record: records[i] };
}

/** 20 good January flights, 2 bad ones, 2 outside the period. */
function sample(): Record<string, unknown>[] {
  const records = Array.from({ length: 20 }, (_, i) => flight(1 + (i % 28), i));
  records.splice(5, 0, flight(3, 0, { distance: -5n, origin: 'sf' }));
  records.splice(9, 0, flight(4, 0, { delay: 99999n }));
  records.push(flight(1, 0, { date: new Date(Date.UTC(2001, 1, 1)) }), flight(1, 0, { date: new Date(Date.UTC(2000, 11, 31)) }));
  return records;
}

async function countRows(id: string): Promise<number> {
  const [row] = await database.db
    .select({ n: sql<number>`count(*)::int` })
    .from(datasetRows)
    .where(eq(datasetRows.datasetVersionId, id));
  return row.n;
}

describe('ingestDataset', () => {
  it('stores accepted rows in source order and quarantines bad ones with every reason', async () => {
    const progress: IngestProgress[] = [];
    const result = await ingestDataset(database, spec('sample'), { records: source(sample()), onProgress: (p) => progress.push(p) });
    expect(result).toMatchObject({ rowsRead: 22, rowCount: 20, quarantinedCount: 2, duplicateCount: 0, created: true });
    expect(result.rowsRead).toBe(result.rowCount + result.quarantinedCount + result.duplicateCount);
    expect(progress.at(-1)).toMatchObject({ scanned: 24, read: 22, accepted: 20, quarantined: 2, duplicates: 0 });
    // The report balances per source: 24 scanned, 2 outside the period, 22 read = 20 + 2 + 0.
    expect(result.report).toEqual({
      sources: [{ name: 'test://injected', scanned: 24, filtered: 2, read: 22, accepted: 20, quarantined: 2, duplicates: 0 }],
      read: 22,
      accepted: 20,
      quarantined: 2,
      duplicates: 0,
      limited: false,
    });

    const quarantined = await database.db
      .select()
      .from(quarantinedRows)
      .where(eq(quarantinedRows.datasetVersionId, result.datasetVersionId))
      .orderBy(quarantinedRows.recordNumber);
    expect(quarantined.map((q) => [q.source, q.recordNumber, q.kind, q.reasons])).toEqual([
      ['test://injected', 5, 'invalid', ['distance: must be > 0 (got -5)', 'origin: must be a 3-letter uppercase code (got "sf")']],
      ['test://injected', 9, 'invalid', ['delay: must be <= 2880 (got 99999)']],
    ]);
    expect(quarantined[0].raw).toEqual({ date: '2001-01-03T10:00:00', delay: -10, distance: -5, origin: 'sf', destination: 'LAX' });

    const version = await getDatasetVersion(database.db, result.datasetVersionId);
    expect(version).toMatchObject({ name: 'sample', contentHash: result.contentHash, rowsRead: 22, rowCount: 20, quarantinedCount: 2 });
    expect(version!.columns).toEqual(expect.arrayContaining([{ name: 'delayed', type: 'integer' }]));
    // The profile is computed while ingesting and stored with the version.
    expect(version!.profile).toMatchObject({ distance: { type: 'number', count: 20, nulls: 0, min: 100, max: 119 } });

    const rows = await readDatasetRows(database.db, result.datasetVersionId);
    expect(rows).toHaveLength(20);
    expect(rows.map((r) => r.distance)).toEqual(Array.from({ length: 20 }, (_, i) => 100 + i));
    expect(rows[0]).toEqual({
      date: '2001-01-01T10:00:00',
      hour: 10,
      weekday: 1,
      distance: 100,
      origin: 'SFO',
      destination: 'LAX',
      delay: -10,
      delayed: 0,
    });
  });

  it('samples rows evenly and stores a profile', async () => {
    const result = await ingestDataset(database, spec('sampled'), { records: source(sample()) });
    const sampled = await sampleDatasetRows(database.db, result.datasetVersionId, 4);
    expect(sampled.map((r) => r.distance)).toEqual([100, 105, 110, 115]);
    expect(await sampleDatasetRows(database.db, result.datasetVersionId, 100)).toHaveLength(20);

    const version = await getDatasetVersion(database.db, result.datasetVersionId);
    const profile = profileDataset(await readDatasetRows(database.db, result.datasetVersionId), version!.columns as never);
    await saveProfile(database.db, result.datasetVersionId, profile);
    expect((await getDatasetVersion(database.db, result.datasetVersionId))!.profile).toEqual(profile);
    await expect(saveProfile(database.db, 'missing', profile)).rejects.toThrow(/does not exist/);
    await expect(readDatasetRows(database.db, 'missing')).rejects.toThrow(/does not exist/);
  });

  it('is idempotent: the same input again keeps nothing new and returns created: false', async () => {
    const first = await ingestDataset(database, spec('again'), { records: source(sample()) });
    const second = await ingestDataset(database, spec('again'), { records: source(sample()) });
    expect(second).toEqual({ ...first, created: false });
    expect(await countRows(first.datasetVersionId)).toBe(20);
    // The second attempt streamed its rows under its own id, found the content, and deleted them.
    const attempts = await database.db.select().from(datasetIngests).where(eq(datasetIngests.name, 'again'));
    expect(attempts.map((a) => a.status).sort()).toEqual(['complete', 'duplicate']);
    const duplicate = attempts.find((a) => a.status === 'duplicate')!;
    expect(duplicate.datasetVersionId).toBe(first.datasetVersionId);
    expect(await countRows(duplicate.id)).toBe(0);
    const quarantined = await database.db
      .select()
      .from(quarantinedRows)
      .where(eq(quarantinedRows.datasetVersionId, first.datasetVersionId));
    expect(quarantined).toHaveLength(2);
    expect((await listDatasetVersions(database.db)).filter((v) => v.id === first.datasetVersionId)).toHaveLength(1);
  });

  it('a retry cleans up the partial write of a crashed attempt', async () => {
    // Attempt 1 dies after two COPY chunks (10 of 20 rows) have landed: no version, rows left.
    const crashing = crashingDatabase(database, 2);
    await expect(
      ingestDataset(crashing, spec('crash'), { records: source(sample()), ingestKey: 'wf/run/ingest', copyChunkRows: 5 }),
    ).rejects.toThrow(/simulated crash/);
    expect(crashing.crashed()).toBe(true);
    const [crashed] = await database.db.select().from(datasetIngests).where(eq(datasetIngests.ingestKey, 'wf/run/ingest'));
    expect(crashed).toMatchObject({ status: 'running', datasetVersionId: null });
    expect(await countRows(crashed.id)).toBe(10);
    expect(await getDatasetVersion(database.db, crashed.id)).toBeUndefined();

    // The retry (same ingest key) abandons attempt 1, deletes its rows, and writes a complete version.
    const result = await ingestDataset(database, spec('crash'), {
      records: source(sample()),
      ingestKey: 'wf/run/ingest',
      copyChunkRows: 5,
    });
    expect(result).toMatchObject({ created: true, rowCount: 20, quarantinedCount: 2 });
    expect(await countRows(crashed.id)).toBe(0);
    expect(await countRows(result.datasetVersionId)).toBe(20);
    const attempts = await database.db.select().from(datasetIngests).where(eq(datasetIngests.ingestKey, 'wf/run/ingest'));
    expect(Object.fromEntries(attempts.map((a) => [a.id, a.status]))).toEqual({
      [crashed.id]: 'cleaned',
      [result.datasetVersionId]: 'complete',
    });
    expect((await readDatasetRows(database.db, result.datasetVersionId)).map((r) => r.distance)).toEqual(
      Array.from({ length: 20 }, (_, i) => 100 + i),
    );

    // A third call with the same key (a retry whose first completion was lost) returns that version.
    const again = await ingestDataset(database, spec('crash'), { records: source([]), ingestKey: 'wf/run/ingest' });
    expect(again).toEqual({ ...result, created: false });
  });

  it('a failing attempt that is still alive deletes its own partial write', async () => {
    let copies = 0;
    const flaky: Database = {
      ...database,
      kind: database.kind,
      db: database.db,
      close: () => database.close(),
      async copyRows(table, columns, rows) {
        await database.copyRows(table, columns, rows);
        if (table === 'dataset_rows' && ++copies === 2) throw new Error('connection reset');
      },
    };
    await expect(ingestDataset(flaky, spec('flaky'), { records: source(sample()), ingestKey: 'flaky', copyChunkRows: 5 })).rejects.toThrow(
      'connection reset',
    );
    const [attempt] = await database.db.select().from(datasetIngests).where(eq(datasetIngests.ingestKey, 'flaky'));
    expect(attempt).toMatchObject({ status: 'cleaned', error: 'connection reset' });
    expect(await countRows(attempt.id)).toBe(0);
  });

  it('an attempt abandoned by a newer one while it runs never publishes', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    async function* slow(): AsyncGenerator<SourceRecord> {
      const list = sample();
      for (let i = 0; i < list.length; i++) {
        if (i === 12) await gate;
        yield { recordNumber: i, record: list[i] };
      }
    }
    const running = ingestDataset(database, spec('abandoned'), { records: slow(), ingestKey: 'slow', copyChunkRows: 5 });
    const outcome = running.then(
      () => 'published',
      (error: Error) => error.message,
    );
    // Wait until it has written a chunk, then let "the retry" take over the key.
    for (let i = 0; i < 200; i++) {
      const [attempt] = await database.db.select().from(datasetIngests).where(eq(datasetIngests.ingestKey, 'slow'));
      if (attempt && (await countRows(attempt.id)) > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await collectGarbage(database, { ingestKey: 'slow', name: 'abandoned' })).toBe(1);
    release();
    expect(await outcome).toMatch(/was abandoned by a newer attempt/);
    expect((await listDatasetVersions(database.db, 'abandoned')).length).toBe(0);
    // What it wrote after being abandoned, it deleted when it failed.
    const [attempt] = await database.db.select().from(datasetIngests).where(eq(datasetIngests.ingestKey, 'slow'));
    expect(await countRows(attempt.id)).toBe(0);
  });

  it('gives a different content hash (and version) for the same rows in another order', async () => {
    const records = sample();
    const forward = await ingestDataset(database, spec('order'), { records: source(records) });
    const backward = await ingestDataset(database, spec('order'), { records: source([...records].reverse()) });
    expect(backward.rowCount).toBe(forward.rowCount);
    expect(backward.contentHash).not.toBe(forward.contentHash);
    expect(backward.datasetVersionId).not.toBe(forward.datasetVersionId);
    expect(backward.created).toBe(true);
  });

  it('gives the same content hash under another name, but another version id', async () => {
    const a = await ingestDataset(database, spec('name-a'), { records: source(sample()) });
    const b = await ingestDataset(database, spec('name-b'), { records: source(sample()) });
    expect(b.contentHash).toBe(a.contentHash);
    expect(b.datasetVersionId).not.toBe(a.datasetVersionId);
  });

  it('applies the limit to records of the period, bad ones included', async () => {
    const result = await ingestDataset(database, spec('limited', { limit: 10 }), { records: source(sample()) });
    expect(result).toMatchObject({ rowsRead: 10, rowCount: 8, quarantinedCount: 2 });
    expect(result.report.limited).toBe(true);
  });

  it('stores an empty dataset when nothing is in the period', async () => {
    const result = await ingestDataset(database, spec('empty', { period: { from: '1999-01-01', to: '1999-02-01' } }), {
      records: source(sample()),
    });
    expect(result).toMatchObject({ rowsRead: 0, rowCount: 0, quarantinedCount: 0, created: true });
    expect(await readDatasetRows(database.db, result.datasetVersionId)).toEqual([]);
  });

  it('rejects an invalid spec', async () => {
    await expect(ingestDataset(database, spec('Bad Name'), { records: source([]) })).rejects.toThrow(InvalidInputError);
  });

  it('reads the first 2000 January flights from the real parquet file', async () => {
    const result = await ingestDataset(
      database,
      spec('flights-jan-2000', { source: { format: 'parquet', path: 'vega-datasets:flights-3m.parquet' }, limit: 2000 }),
    );
    expect(result).toMatchObject({ rowsRead: 2000, rowCount: 2000, quarantinedCount: 0, created: true });
    const rows = await readDatasetRows(database.db, result.datasetVersionId);
    expect(rows[0]).toEqual({
      date: '2001-01-01T00:01:00',
      hour: 0,
      weekday: 1,
      distance: 2176,
      origin: 'LAS',
      destination: 'PHL',
      delay: 33,
      delayed: 1,
    });
    expect(rows.every((r) => (r.date as string) >= '2001-01-01' && (r.date as string) < '2001-02-01')).toBe(true);
  });
});

describe('readParquetRecords', () => {
  it('names the path of a missing file', async () => {
    const missing = join(dir, 'nope.parquet');
    await expect(readParquetRecords(missing).next()).rejects.toThrow(InvalidInputError);
    await expect(readParquetRecords(missing).next()).rejects.toThrow(missing);
    await expect(readParquetRecords('vega-datasets:nope.parquet').next()).rejects.toThrow(/vega-datasets:nope\.parquet/);
  });

  it('names the path of a file that is not parquet', async () => {
    const notParquet = join(dir, 'not.parquet');
    writeFileSync(notParquet, 'date,delay\n2001-01-01,3\n');
    await expect(readParquetRecords(notParquet).next()).rejects.toThrow(`${notParquet} is not a readable parquet file`);
  });

  it('refuses paths escaping the vega-datasets data directory', async () => {
    await expect(readParquetRecords('vega-datasets:../package.json').next()).rejects.toThrow(InvalidInputError);
  });

  it('yields absolute record numbers and skips row groups on request', async () => {
    const seen: number[] = [];
    for await (const { recordNumber, record } of readParquetRecords('vega-datasets:flights-3m.parquet', {
      skipRowGroup: (group) => group.index === 0,
    })) {
      seen.push(recordNumber);
      expect(record.delay).toBeTypeOf('bigint');
      if (seen.length === 3) break;
    }
    expect(seen).toEqual([272_727, 272_728, 272_729]);
  });
});
