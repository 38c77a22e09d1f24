/**
 * `npm run soak` — keel as a user runs it, for a while, watched from outside (see
 * shared/BENCHMARKS.md and docs/reliability.md):
 *
 *   - `npm start`'s process (src/runtime/start.ts: PGlite, or a scratch PostgreSQL database when
 *     DATABASE_URL is set; the workers; the model server) with a Temporal dev server of its own;
 *   - moderate traffic of real January 2001 flights (SOAK_RPS requests/s, default 100), each
 *     answer checked;
 *   - after a fifth of the run, the retrain schedule is triggered with `rollout: canary` in the
 *     config, so a training run and a canary rollout happen under the traffic;
 *   - every SOAK_SAMPLE_SECONDS (default 15) the process's own /metrics is read: resident memory,
 *     event-loop lag, prediction-log drops; one line each on stderr.
 *
 * SOAK_MINUTES (default 10) sets the length. The last line printed is the JSON result. It never
 * fails on a figure: it reports, and says whether RSS stayed within SOAK_RSS_GROWTH_MB (default
 * 150) of its level after the retrain. SOAK_CPU_PROF_DIR, when set, starts keel's process with
 * `--cpu-prof` writing there, to find where its event-loop stalls come from.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { mapFlightRecord } from '../../src/data/flights-recipe';
import { readParquetRecords } from '../../src/data/parquet-source';
import { createScratchDatabase } from '../../src/db/scratch-database';
import { freePort } from '../../src/runtime/ports';
import { startTemporalDevServer } from '../../src/runtime/temporal-dev-server';
import type { CanaryStatus } from '../../src/shared/canary';
import { scheduleIds } from '../../src/shared/task-queues';
import { sampleSum, parseMetrics } from './metrics-text';
import { runTraffic } from './traffic';

const minutes = Number(process.env.SOAK_MINUTES ?? 10);
const rps = Number(process.env.SOAK_RPS ?? 100);
const sampleSeconds = Number(process.env.SOAK_SAMPLE_SECONDS ?? 15);
const rssGrowthBoundMb = Number(process.env.SOAK_RSS_GROWTH_MB ?? 150);
const cpuProfileDir = process.env.SOAK_CPU_PROF_DIR;
const say = (line: string) => process.stderr.write(`[soak] ${line}\n`);

interface Sample {
  atMinutes: number;
  rssMb: number;
  heapMb: number;
  lagMaxMs: number;
  logDropped: number;
  logQueued: number;
  requests: number;
  errors: number;
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'keel-soak-'));
  const cleanups: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  try {
    const temporal = await startTemporalDevServer({ dataDir: dir, persistent: false, headless: true });
    cleanups.push(() => temporal.stop());
    const env: NodeJS.ProcessEnv = { ...process.env, KEEL_DATA_DIR: dir, TEMPORAL_ADDRESS: temporal.address, LOG_LEVEL: 'warn' };
    delete env.DATABASE_URL;
    if (process.env.DATABASE_URL) {
      const database = await createScratchDatabase(process.env.DATABASE_URL, 'keel_soak');
      cleanups.push(() => database.drop());
      env.DATABASE_URL = database.url;
    }
    const config = JSON.parse(await readFile('keel.config.json', 'utf8')) as {
      pipeline: { model: string; dataset: { period: { from: string; to: string } }; rollout?: unknown };
      monitor: { every?: string };
      server: { port?: number };
    };
    config.pipeline.rollout = { strategy: 'canary', steps: [25, 100], bakeSeconds: 60, checkEverySeconds: 15 };
    config.monitor.every = '2m';
    config.server.port = await freePort();
    env.KEEL_CONFIG = join(dir, 'keel.config.json');
    await writeFile(env.KEEL_CONFIG, JSON.stringify(config));
    const serverUrl = `http://127.0.0.1:${config.server.port}`;
    const model: string = config.pipeline.model;

    say(`starting keel (npm start) in ${dir}; the first model trains first (about a minute)`);
    const keel = spawn(
      process.execPath,
      [...(cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : []), '--import', 'tsx', 'src/runtime/start.ts'],
      { env, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise<number | null>((resolve) => keel.once('exit', resolve));
    cleanups.push(async () => {
      keel.kill('SIGTERM');
      await exited;
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      keel.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('keel is running')) resolve();
      });
      void exited.then((code) => reject(new Error(`keel exited with ${code} before it was ready:\n${out.slice(-2000)}`)));
    });

    const instances = await realFlights(config.pipeline.dataset.period, 5000);
    const connection = await Connection.connect({ address: temporal.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection });

    const samples: Sample[] = [];
    const started = Date.now();
    const durationMs = minutes * 60_000;
    const traffic = runTraffic({ url: `${serverUrl}/v1/models/${model}:predict`, instances, rps, until: started + durationMs });
    let retrain: Promise<string> | undefined;
    for (let next = started + sampleSeconds * 1000; next <= started + durationMs; next += sampleSeconds * 1000) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
      if (!retrain && Date.now() - started >= durationMs / 5) retrain = triggerRetrain(client, model);
      const metrics = parseMetrics(await (await fetch(`${serverUrl}/metrics`)).text());
      const sample: Sample = {
        atMinutes: (Date.now() - started) / 60_000,
        rssMb: sampleSum(metrics, 'process_resident_memory_bytes') / 2 ** 20,
        heapMb: sampleSum(metrics, 'nodejs_heap_size_used_bytes') / 2 ** 20,
        lagMaxMs: sampleSum(metrics, 'nodejs_eventloop_lag_max_seconds') * 1000,
        logDropped: sampleSum(metrics, 'keel_prediction_log_dropped_total'),
        logQueued: sampleSum(metrics, 'keel_prediction_log_queue_depth'),
        requests: traffic.stats.requests,
        errors: traffic.stats.errors,
      };
      samples.push(sample);
      say(
        `${sample.atMinutes.toFixed(1)} min: rss ${sample.rssMb.toFixed(0)} MB, heap ${sample.heapMb.toFixed(0)} MB, lag max ${sample.lagMaxMs.toFixed(1)} ms, log queued ${sample.logQueued} dropped ${sample.logDropped}, ${sample.requests} requests, ${sample.errors} errors`,
      );
    }
    const stats = await traffic.done;
    const retrainOutcome = retrain ? await retrain : 'not triggered';
    const canary = await canaryState(client, model);

    // RSS from the first sample after the retrain's fifth of the run has had time to settle, to
    // the end: what a longer run would keep growing by.
    const settled = samples.filter((s) => s.atMinutes >= (2 * minutes) / 5);
    const first = settled[0] ?? samples[0];
    const last = samples[samples.length - 1];
    const result = {
      minutes,
      requests: stats.requests,
      errors: stats.errors,
      skipped_behind: stats.skipped,
      log_drops: last.logDropped,
      rss_start_mb: round(samples[0].rssMb),
      rss_settled_mb: round(first.rssMb),
      rss_end_mb: round(last.rssMb),
      rss_slope_mb_per_min: round(slope(settled.map((s) => [s.atMinutes, s.rssMb]))),
      rss_growth_bound_mb: rssGrowthBoundMb,
      rss_within_bound: last.rssMb - first.rssMb <= rssGrowthBoundMb,
      max_event_loop_lag_ms: round(Math.max(...samples.map((s) => s.lagMaxMs))),
      p50_ms: round(stats.p50Ms),
      p99_ms: round(stats.p99Ms),
      target_rps: rps,
      retrain: retrainOutcome,
      canary,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => say(`cleanup: ${String(error)}`));
  }
}

/** The model's raw input rows, as a client would send them: the first `limit` flights of the period. */
async function realFlights(period: { from: string; to: string }, limit: number): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for await (const { record } of readParquetRecords('vega-datasets:flights-3m.parquet')) {
    const outcome = mapFlightRecord(record, period);
    if (outcome.kind !== 'row') continue;
    const { hour, weekday, distance, origin, destination } = outcome.row;
    rows.push({ hour, weekday, distance, origin, destination });
    if (rows.length >= limit) break;
  }
  return rows;
}

/** Triggers the retrain schedule and waits for the training run it started; its status. */
async function triggerRetrain(client: Client, model: string): Promise<string> {
  say('triggering the retrain schedule (its pipeline rolls out by canary)');
  const schedule = client.schedule.getHandle(scheduleIds.retrain(model));
  await schedule.trigger();
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 1000))) {
    const running = (await schedule.describe()).info.recentActions.at(-1)?.action.workflow;
    if (!running) continue;
    const result = (await client.workflow.getHandle(running.workflowId, running.firstExecutionRunId).result()) as { status: string };
    say(`retrain ${running.workflowId}: ${result.status}`);
    return result.status;
  }
  return 'did not start';
}

async function canaryState(client: Client, model: string): Promise<string> {
  try {
    const status = await client.workflow.getHandle(`canary/${model}`).query<CanaryStatus>('status');
    return `v${status.candidate} ${status.state}${status.weight ? ` at ${status.weight.percent} %` : ''}${status.decision ? `: ${status.decision.reason}` : ''}`;
  } catch (error) {
    return `none (${(error as Error).message.split('\n')[0]})`;
  }
}

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  if (points.length < 2) return 0;
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

const round = (x: number) => Math.round(x * 100) / 100;

main().catch((error: unknown) => {
  process.stderr.write(`soak: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
