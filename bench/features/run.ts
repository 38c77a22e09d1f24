/**
 * `npm run bench:features` (docs/benchmarks.md): the feature store against its references, in one run.
 *
 * (a) Point-in-time training set: every flight of flights-3m.parquet (3 M, January–June 2001)
 *     gets two views' windowed features (per origin and per route: delay rate over 7 days, mean
 *     delay over 28 days, availability lag 1 day) as of its own time. keel's engine
 *     (src/features/point-in-time.ts, in its worker thread) against DuckDB's ASOF JOIN on the same
 *     rows (bench/features/duckdb_pit.py, Python from /root/.cache/keel/bench-venv or
 *     KEEL_PYTHON); both are timed from rows in memory to values in memory; values compared to 1e-9.
 * (b) Materialisation: the route view's latest values (one row per route) written into the online
 *     store by the staging-and-swap path, against a plain `INSERT … ON CONFLICT DO UPDATE` of the
 *     same rows, on the database of DATABASE_URL (or PGlite).
 *
 * (c) Online lookup (with DATABASE_URL and wrk): the model server answering for one logistic model
 *     registered twice, with every input in the request and with two inputs filled from the online
 *     store (bench/features/online.ts; wrk helpers shared with bench:serve).
 *
 * BENCH_FEATURES_ROWS limits the flights (default: all). Last line: one JSON object.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { openDatabase } from '../../src/db/database';
import { createScratchDatabase } from '../../src/db/scratch-database';
import { KeyCodes, type PitFeature } from '../../src/features/point-in-time';
import { runPointInTime } from '../../src/features/run-point-in-time';
import type { Row } from '../../src/ml/row';
import { readFlightColumns } from './flights-columns';
import { benchOnlineLookup } from './online';

const DAY = 86_400_000;
const LAG = DAY;
const python = process.env.KEEL_PYTHON ?? '/root/.cache/keel/bench-venv/bin/python';
const say = (message: string) => process.stderr.write(`${message}\n`);
const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

const features: PitFeature[] = [
  { name: 'rate_7d', aggregation: 'rate', valueIndex: 0, windowMs: 7 * DAY, threshold: 15 },
  { name: 'mean_28d', aggregation: 'mean', valueIndex: 0, windowMs: 28 * DAY },
];

async function main() {
  const limit = process.env.BENCH_FEATURES_ROWS ? Number(process.env.BENCH_FEATURES_ROWS) : undefined;
  say(
    `bench:features, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const flights = await readFlightColumns();
  const rows = Math.min(limit ?? flights.rows, flights.rows);
  const work = await mkdtemp(join(tmpdir(), 'keel-bench-features-'));
  try {
    // --- (a) keel: keys coded, sorted and swept in the worker thread -------------------------------
    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    const sample = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
    const started = performance.now();
    const keel: Float64Array[] = [];
    for (const key of ['origin', 'route'] as const) {
      const codes = new KeyCodes();
      const keys = new Int32Array(rows);
      // Keys as keel's engine gets them from rows: text, coded per view.
      const { airports } = flights;
      for (let i = 0; i < rows; i++)
        keys[i] = codes.code(
          key === 'origin' ? airports[flights.origin[i]] : `${airports[flights.origin[i]]}\u0001${airports[flights.destination[i]]}`,
        );
      const times = flights.time.slice(0, rows);
      const values = await runPointInTime({
        events: { keys, times, values: [flights.delay.slice(0, rows)] },
        queries: { keys: keys.slice(), times: times.slice() },
        features,
        lagMs: LAG,
      });
      keel.push(...values);
    }
    const keelSeconds = (performance.now() - started) / 1000;
    clearInterval(sample);
    say(
      `keel point-in-time: ${rows} flights × 2 views in ${keelSeconds.toFixed(2)} s (peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB, of which the flights' columns ${(rssBefore / 2 ** 20).toFixed(0)})`,
    );

    // --- (a) DuckDB on the same rows ----------------------------------------------------------
    const csv = join(work, 'events.csv');
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(csv);
      out.on('error', reject);
      out.write('origin,route,t,delay\n');
      let i = 0;
      const pump = () => {
        while (i < rows) {
          const origin = flights.airports[flights.origin[i]];
          const line = `${origin},${origin}-${flights.airports[flights.destination[i]]},${flights.time[i]},${flights.delay[i]}\n`;
          i++;
          if (!out.write(line)) return void out.once('drain', pump);
        }
        out.end(resolve);
      };
      pump();
    });
    const outPath = join(work, 'duckdb.bin');
    const reference = spawnSync(python, ['bench/features/duckdb_pit.py', csv, String(LAG), outPath], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    if (reference.status !== 0) throw new Error(`duckdb reference failed: ${reference.stderr}`);
    const { duckdb_s: duckdbSeconds, duckdb_version: duckdbVersion } = JSON.parse(reference.stdout.trim().split('\n').pop()!) as {
      duckdb_s: number;
      duckdb_version: string;
    };
    const buffer = await readFile(outPath);
    const duck = new Float64Array(buffer.buffer, buffer.byteOffset, buffer.byteLength / 8);
    let maxAbsDiff = 0;
    let nanMismatches = 0;
    keel.forEach((column, c) => {
      for (let i = 0; i < rows; i++) {
        const a = column[i];
        const b = duck[c * rows + i];
        if (Number.isNaN(a) || Number.isNaN(b)) nanMismatches += Number.isNaN(a) === Number.isNaN(b) ? 0 : 1;
        else maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a - b));
      }
    });
    say(
      `DuckDB ${duckdbVersion} ASOF JOIN: ${duckdbSeconds.toFixed(2)} s; max |keel − DuckDB| ${maxAbsDiff}, missing-value mismatches ${nanMismatches}`,
    );

    // --- (b) materialisation vs INSERT … ON CONFLICT ----------------------------------------------
    const scratch = process.env.DATABASE_URL ? await createScratchDatabase(process.env.DATABASE_URL, 'keel_bench_features') : undefined;
    const database = await openDatabase({ url: scratch?.url, dataDir: work });
    let materialization;
    try {
      materialization = await benchWrites(
        database,
        Array.from(flights.origin.subarray(0, rows), (o, i) => `${flights.airports[o]}\u0001${flights.airports[flights.destination[i]]}`),
      );
    } finally {
      await database.close();
      await scratch?.drop();
    }

    // --- (c) online lookup: the model server with and without enrichment ----------------------------
    let onlineFigures: Record<string, number | null> = {
      enriched_rps_c64: null,
      plain_rps_c64: null,
      ratio_enriched: null,
      p50_ms_c1_added: null,
    };
    if (process.env.DATABASE_URL) {
      const servingRows: Row[] = [];
      for (let i = Math.max(0, rows - 60_000); i < rows; i++) {
        const at = new Date(flights.time[i]);
        const value = (x: number) => (Number.isNaN(x) ? null : x);
        servingRows.push({
          hour: at.getUTCHours(),
          weekday: at.getUTCDay(),
          distance: flights.distance[i],
          origin: flights.airports[flights.origin[i]],
          destination: flights.airports[flights.destination[i]],
          delayed: flights.delay[i] > 15 ? 1 : 0,
          origin_delay_rate_7d: value(keel[0][i]),
          route_delay_rate_7d: value(keel[2][i]),
        });
      }
      onlineFigures = await benchOnlineLookup(process.env.DATABASE_URL, servingRows, {
        origin: 'origin_delay_rate_7d',
        route: 'route_delay_rate_7d',
      });
    } else say('online lookup: skipped (needs DATABASE_URL and wrk)');

    const result = {
      rows,
      views: 2,
      keel_pit_s: round(keelSeconds),
      duckdb_s: round(duckdbSeconds),
      ratio_vs_duckdb: round(keelSeconds / duckdbSeconds),
      max_abs_diff: maxAbsDiff,
      nan_mismatches: nanMismatches,
      peak_rss_mb: round(peakRss / 2 ** 20, 0),
      ...materialization,
      ...onlineFigures,
      database: database.kind,
      load_average: round(loadavg()[0], 2),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The staging-and-swap write of one row per entity against a plain upsert of the same rows. */
async function benchWrites(database: Awaited<ReturnType<typeof openDatabase>>, keys: string[]) {
  const entities = [...new Set(keys)];
  const rows = entities.map((key, i) => ['bench', key, { rate_7d: i / entities.length, mean_28d: i }, '2001-06-30T00:00:00.000Z']);
  const db = database.db;
  const t0 = performance.now();
  await db.execute(sql`delete from online_features_staging where materialization_id = 'bench'`);
  await database.copyRows('online_features_staging', ['materialization_id', 'entity_key', 'values', 'event_time'], rows);
  await db.transaction(async (tx) => {
    await tx.execute(sql`
      insert into online_features (view_name, entity_key, view_version, values, event_time, as_of, materialization_id)
      select 'bench_swap', entity_key, 'bench', values, event_time, now(), materialization_id from online_features_staging where materialization_id = 'bench'
      on conflict (view_name, entity_key) do update set values = excluded.values, event_time = excluded.event_time, as_of = excluded.as_of`);
    await tx.execute(sql`delete from online_features_staging where materialization_id = 'bench'`);
  });
  const swapSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  for (let start = 0; start < rows.length; start += 1000) {
    const chunk = rows.slice(start, start + 1000);
    await db.execute(sql`
      insert into online_features (view_name, entity_key, view_version, values, event_time, as_of, materialization_id)
      values ${sql.join(
        chunk.map(
          (r) =>
            sql`('bench_plain', ${r[1] as string}, 'bench', ${JSON.stringify(r[2])}::jsonb, ${r[3] as string}::timestamptz, now(), 'bench')`,
        ),
        sql`, `,
      )}
      on conflict (view_name, entity_key) do update set values = excluded.values, event_time = excluded.event_time, as_of = excluded.as_of`);
  }
  const plainSeconds = (performance.now() - t1) / 1000;
  say(
    `materialisation write of ${rows.length} routes: staging + swap ${swapSeconds.toFixed(3)} s, plain INSERT … ON CONFLICT ${plainSeconds.toFixed(3)} s`,
  );
  return {
    materialized_rows: rows.length,
    materialize_rows_per_s: round(rows.length / swapSeconds, 0),
    insert_on_conflict_rows_per_s: round(rows.length / plainSeconds, 0),
    ratio_materialize_vs_insert: round(plainSeconds / swapSeconds),
  };
}

await main();
