/**
 * `npm run bench:ingest`: all of flights-3m.parquet end to end (parse, map, validate, hash,
 * profile, COPY into PostgreSQL) against the ceiling, `psql \copy` of the same rows written as CSV
 * into a table of the same shape (primary key included), on the same server in the same run.
 *
 * The machine is shared and noisy, so keel and psql alternate for BENCH_ROUNDS rounds (default 2)
 * on emptied tables: seconds and rows/s are medians over the rounds, ratio_vs_psql is the median of
 * the per-round ratios (keel and psql back to back see the same load); each round's figures too.
 *
 * Needs DATABASE_URL (a role that may CREATE DATABASE; default the local keel role) and psql.
 * Works in a fresh database that it drops afterwards. The last line is one JSON object
 * (see shared/BENCHMARKS.md).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchDatabase } from '../../src/db/scratch-database';

const baseUrl = process.env.DATABASE_URL ?? 'postgres://keel:keel@127.0.0.1:5432/keel';
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 2));
const scratchDatabase = await createScratchDatabase(baseUrl, 'keel_bench_ingest');
const url = new URL(scratchDatabase.url);
const dir = mkdtempSync(join(tmpdir(), 'keel-bench-ingest-'));
const log = (line: string) => process.stderr.write(`${line}\n`);
const psql = (command: string) =>
  execFileSync('psql', [url.toString(), '-v', 'ON_ERROR_STOP=1', '-q', '-t', '-A', '-c', command], { encoding: 'utf8' }).trim();

interface KeelRun {
  versionId: string;
  rows: number;
  read: number;
  quarantined: number;
  seconds: number;
  peakRssMb: number;
}

/** keel in a child process, so that its peak RSS is its own. */
function keelRound(round: number): KeelRun {
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'bench/ingest/keel-ingest.ts'], {
    env: { ...process.env, DATABASE_URL: url.toString(), BENCH_ROUND: String(round) },
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (child.status !== 0) throw new Error(`keel ingest failed:\n${child.stderr}`);
  const run = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as KeelRun;
  log(
    `round ${round} keel: ${run.rows} rows in ${run.seconds.toFixed(2)} s (${Math.round(run.rows / run.seconds)} rows/s), peak RSS ${run.peakRssMb.toFixed(0)} MB`,
  );
  return run;
}

try {
  const csv = join(dir, 'rows.csv');
  const keelRuns: KeelRun[] = [];
  const psqlSeconds: number[] = [];
  let rows = 0;
  for (let round = 1; round <= rounds; round++) {
    if (round > 1) psql('truncate dataset_rows, dataset_versions, dataset_ingests, quarantined_rows');
    const keel = keelRound(round);
    keelRuns.push(keel);
    if (round === 1) {
      // The same rows as CSV (not timed).
      rows = keel.rows;
      psql(
        `\\copy (select dataset_version_id, row_index, data from dataset_rows where dataset_version_id = '${keel.versionId}' order by row_index) to '${csv}' with (format csv)`,
      );
      psql('create table bench_psql (like dataset_rows including all)');
      log(`psql: the same ${rows} rows as ${(statSync(csv).size / 1e6).toFixed(0)} MB of CSV`);
    } else {
      psql('truncate bench_psql');
    }
    const started = performance.now();
    psql(`\\copy bench_psql from '${csv}' with (format csv)`);
    const seconds = (performance.now() - started) / 1000;
    const n = Number(psql('select count(*) from bench_psql'));
    if (n !== rows) throw new Error(`psql loaded ${n} rows, keel ${rows}`);
    psqlSeconds.push(seconds);
    log(`round ${round} psql: ${n} rows in ${seconds.toFixed(2)} s (${Math.round(n / seconds)} rows/s)`);
  }

  const keelSeconds = median(keelRuns.map((r) => r.seconds));
  const psqlMedian = median(psqlSeconds);
  const rowsPerS = rows / keelSeconds;
  const psqlRowsPerS = rows / psqlMedian;
  // Each round runs keel and psql back to back: the ratio is taken per round, then the median.
  const ratios = keelRuns.map((r, i) => psqlSeconds[i] / r.seconds);
  console.log(
    JSON.stringify({
      bench: 'ingest',
      date: new Date().toISOString(),
      rounds,
      rows,
      read: keelRuns[0].read,
      quarantined: keelRuns[0].quarantined,
      seconds: round3(keelSeconds),
      rows_per_s: Math.round(rowsPerS),
      psql_seconds: round3(psqlMedian),
      psql_rows_per_s: Math.round(psqlRowsPerS),
      ratio_vs_psql: round3(median(ratios)),
      peak_rss_mb: Math.round(Math.max(...keelRuns.map((r) => r.peakRssMb))),
      keel_seconds_per_round: keelRuns.map((r) => round3(r.seconds)),
      psql_seconds_per_round: psqlSeconds.map(round3),
      ratio_per_round: ratios.map(round3),
      goal: { ratio_vs_psql: 0.5, peak_rss_mb: 1024 },
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
  const notDropped = await scratchDatabase.drop();
  if (notDropped) log(`could not drop the bench database ${scratchDatabase.name} (drop it by hand): ${notDropped}`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
