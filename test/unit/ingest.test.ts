import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDatasetVersion, listDatasetVersions, readDatasetRows, sampleDatasetRows, saveProfile } from '../../src/data/dataset-store';
import { profileDataset } from '../../src/data/profile';
import { ingestDataset } from '../../src/data/ingest';
import { readParquetRecords, type SourceRecord } from '../../src/data/parquet-source';
import { openDatabase, type Database } from '../../src/db/database';
import { datasetRows, quarantinedRows } from '../../src/db/schema';
import { InvalidInputError } from '../../src/shared/errors';
import type { DatasetSpec } from '../../src/shared/pipeline-input';

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

function spec(name: string, overrides: Partial<DatasetSpec> = {}): DatasetSpec {
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
  for (let i = 0; i < records.length; i++) yield { recordNumber: i, record: records[i]! };
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
  const [row] = await database.db.select({ n: sql<number>`count(*)::int` }).from(datasetRows).where(eq(datasetRows.datasetVersionId, id));
  return row!.n;
}

describe('ingestDataset', () => {
  it('stores accepted rows in source order and quarantines bad ones with every reason', async () => {
    const progress: number[] = [];
    const result = await ingestDataset(database, spec('sample'), { records: source(sample()), onProgress: (n) => progress.push(n) });
    expect(result).toMatchObject({ rowsRead: 22, rowCount: 20, quarantinedCount: 2, created: true });
    expect(result.rowsRead).toBe(result.rowCount + result.quarantinedCount);
    expect(progress.at(-1)).toBe(24);

    const quarantined = await database.db
      .select()
      .from(quarantinedRows)
      .where(eq(quarantinedRows.datasetVersionId, result.datasetVersionId))
      .orderBy(quarantinedRows.recordNumber);
    expect(quarantined.map((q) => [q.source, q.recordNumber, q.reasons])).toEqual([
      ['test://injected', 5, ['distance: must be > 0 (got -5)', 'origin: must be a 3-letter uppercase code (got "sf")']],
      ['test://injected', 9, ['delay: must be <= 2880 (got 99999)']],
    ]);
    expect(quarantined[0]!.raw).toEqual({ date: '2001-01-03T10:00:00', delay: -10, distance: -5, origin: 'sf', destination: 'LAX' });

    const version = await getDatasetVersion(database.db, result.datasetVersionId);
    expect(version).toMatchObject({ name: 'sample', contentHash: result.contentHash, rowsRead: 22, rowCount: 20, quarantinedCount: 2 });
    expect(version!.columns).toEqual(expect.arrayContaining([{ name: 'delayed', type: 'number' }]));

    const rows = await readDatasetRows(database.db, result.datasetVersionId);
    expect(rows).toHaveLength(20);
    expect(rows.map((r) => r.distance)).toEqual(Array.from({ length: 20 }, (_, i) => 100 + i));
    expect(rows[0]).toEqual({ date: '2001-01-01T10:00:00', hour: 10, weekday: 1, distance: 100, origin: 'SFO', destination: 'LAX', delay: -10, delayed: 0 });
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

  it('is idempotent: the same input again writes nothing and returns created: false', async () => {
    const first = await ingestDataset(database, spec('again'), { records: source(sample()) });
    const second = await ingestDataset(database, spec('again'), { records: source(sample()) });
    expect(second).toEqual({ ...first, created: false });
    expect(await countRows(first.datasetVersionId)).toBe(20);
    const quarantined = await database.db.select().from(quarantinedRows).where(eq(quarantinedRows.datasetVersionId, first.datasetVersionId));
    expect(quarantined).toHaveLength(2);
    expect((await listDatasetVersions(database.db)).filter((v) => v.id === first.datasetVersionId)).toHaveLength(1);
  });

  it('replaces the leftovers of a crashed partial write', async () => {
    // The version id is deterministic: ingest once to learn it, then turn the result into the
    // leftovers of an attempt that crashed before writing its version row.
    const records = sample();
    const probe = await ingestDataset(database, spec('crash'), { records: source(records) });
    const id = probe.datasetVersionId;
    // Simulate the crash: the version row never made it, and some rows (one stale) are left.
    await database.db.execute(sql`delete from dataset_versions where id = ${id}`);
    await database.db.delete(datasetRows).where(eq(datasetRows.datasetVersionId, id));
    await database.db.delete(quarantinedRows).where(eq(quarantinedRows.datasetVersionId, id));
    await database.copyRows('dataset_rows', ['dataset_version_id', 'row_index', 'data'], [
      [id, 0, { stale: true }],
      [id, 1, { stale: true }],
      [id, 999, { stale: true }],
    ]);
    await database.copyRows('quarantined_rows', ['dataset_version_id', 'source', 'record_number', 'raw', 'reasons'], [
      [id, 'test://injected', 5, {}, ['stale']],
    ]);
    expect(await getDatasetVersion(database.db, id)).toBeUndefined();

    const result = await ingestDataset(database, spec('crash'), { records: source(records) });
    expect(result).toEqual({ ...probe, created: true });
    expect(await countRows(id)).toBe(result.rowCount);
    const rows = await readDatasetRows(database.db, id);
    expect(rows.some((r) => 'stale' in r)).toBe(false);
    const quarantined = await database.db.select().from(quarantinedRows).where(eq(quarantinedRows.datasetVersionId, id));
    expect(quarantined).toHaveLength(2);
    expect(quarantined.every((q) => !(q.reasons as string[]).includes('stale'))).toBe(true);
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
