import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestDataset } from '../../src/data/ingest';
import { type Database, openDatabase } from '../../src/db/database';
import { onlineFeatures } from '../../src/db/schema';
import { materializeView } from '../../src/features/materialize';
import { registerViews } from '../../src/features/view-store';
import { featureStoreDefinitionsSchema } from '../../src/shared/feature-store';

const day = (d: number) => `2001-01-${String(d).padStart(2, '0')}T12:00:00`;
// Two origins; A has delays 10, 30, 50 on days 1, 2, 3; B has 20 on day 2 and 40 on day 6.
const events = [
  { date: day(1), origin: 'A', delay: 10 },
  { date: day(2), origin: 'A', delay: 30 },
  { date: day(2), origin: 'B', delay: 20 },
  { date: day(3), origin: 'A', delay: 50 },
  { date: day(6), origin: 'B', delay: 40 },
];
const defs = featureStoreDefinitionsSchema.parse({
  entities: [{ name: 'origin', joinKeys: ['origin'] }],
  views: [
    {
      name: 'origin_delays',
      entities: ['origin'],
      source: { dataset: 'events' },
      timestamp: 'date',
      features: [{ name: 'mean_2d', column: 'delay', aggregation: 'mean', window: '2d' }],
    },
  ],
});

let dir: string;
let database: Database;

const values = async () =>
  Object.fromEntries(
    (await database.db.select().from(onlineFeatures).where(eq(onlineFeatures.viewName, 'origin_delays'))).map((r) => [
      r.entityKey,
      (r.values as { mean_2d: number | null }).mean_2d,
    ]),
  );

describe('materialisation into the online store', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keel-materialize-'));
    database = await openDatabase({ dataDir: dir });
    await ingestDataset(
      database,
      {
        name: 'events',
        recipe: 'mapping',
        sources: [{ format: 'jsonl', path: 'events.jsonl' }],
        columns: [
          { name: 'date', type: 'datetime' },
          { name: 'origin', type: 'string' },
          { name: 'delay', type: 'number' },
        ],
      },
      {
        records: (async function* () {
          for (const [i, record] of events.entries()) yield { recordNumber: i, record };
        })(),
      },
    );
    await registerViews(database.db, defs);
  });
  afterAll(async () => {
    await database?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes values as of its time, incrementally after a first run, and a crash mid-write leaves the old values', async () => {
    const first = await materializeView(database, 'origin_delays', { id: 'run-1', asOf: '2001-01-03T00:00:00Z' });
    expect(first).toMatchObject({ entities: 2, since: null, written: true });
    // As of day 3 00:00, window (day 1 00:00, day 3 00:00]: A has 10 and 30, B has 20.
    expect(await values()).toEqual({ A: 20, B: 20 });

    // A crash after half the staged rows: readers still see the first run's values.
    const crashing: Database = {
      ...database,
      copyRows: async (table, columns, rows) => {
        await database.copyRows(table, columns, rows.slice(0, 1));
        throw new Error('worker died mid-write');
      },
    };
    await expect(materializeView(crashing, 'origin_delays', { id: 'run-2', asOf: '2001-01-07T00:00:00Z' })).rejects.toThrow(
      'worker died mid-write',
    );
    expect(await values()).toEqual({ A: 20, B: 20 });

    // The retry (same id) replaces the staged half and swaps in the whole set; a second retry writes nothing.
    const retried = await materializeView(database, 'origin_delays', { id: 'run-2', asOf: '2001-01-07T00:00:00Z' });
    expect(retried.written).toBe(true);
    expect(retried.since).toBe('2001-01-01T00:00:00.000Z');
    // As of day 7, window (day 5, day 7]: A has no events (null), B has 40.
    expect(await values()).toEqual({ A: null, B: 40 });
    expect((await materializeView(database, 'origin_delays', { id: 'run-2', asOf: '2001-01-07T00:00:00Z' })).written).toBe(false);
    const staged = await database.db.execute(sql`select count(*)::int as n from online_features_staging`);
    expect(JSON.stringify(staged)).toContain('"n":0');
  });
});
