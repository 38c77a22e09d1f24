/**
 * `npm run bench:serve` — keel's model server against its references, in one run (see
 * shared/BENCHMARKS.md and docs/benchmarks.md):
 *
 *   (a) raw onnxruntime `session.run` in this process, batch 1 and 64 (one intra-op thread, as
 *       each of keel's inference threads runs it);
 *   (b) a plain node:http "hello" server (bench/serve/hello-server.mjs) under the same wrk load:
 *       the transport ceiling;
 *   (c) keel's server (`src/runtime/server-main.ts`, PostgreSQL, prediction log on) as
 *       BENCH_KEEL_PROCESSES processes on one port (KEEL_SERVER_PROCESSES, default 2: one per
 *       core of the bench machine) under wrk at concurrency 1, 16 and 64, one real held-out
 *       flight per request. The hello server stays one process, as the issue defines the ceiling.
 *
 * The model: a 100-tree GBDT (BENCH_MODEL=logistic: logistic regression) with its feature
 * pipeline in the ONNX graph, trained by src/ml on real January 2001 flights (src/data). Load comes from wrk
 * (Debian package `wrk`). Needs PostgreSQL (DATABASE_URL, a role that may CREATE DATABASE); a
 * scratch database is created and dropped. The c=1 and c=64 comparisons alternate hello and keel
 * runs (BENCH_ROUNDS of each, default 3) and compare their medians (p99 at c=1, throughput at
 * c=64), so a burst of load from someone else on the machine hits both; each run starts once the
 * prediction log has written what earlier runs queued. Env: BENCH_SECONDS (per load run, default 10), BENCH_ROWS
 * (flights to read, default 200000), BENCH_KEEL_PROCESSES (default 2), BENCH_KEEL_NODE_ARGS (e.g.
 * `--cpu-prof`), BENCH_CATEGORICAL_SPLITS (`native`, keel's default, or `ordinal`),
 * BENCH_TAIL_TRACE=1 (the server traces its slow requests, KEEL_TAIL_TRACE: each run prints which
 * stage overlapped the requests over its p99; bench/serve/tail-report.ts). A run during which
 * PostgreSQL's autovacuum worked on prediction_log says so (it shares the cores: the first c=1
 * round after the warm-up's rows often has it). The last line printed is the JSON result.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { InferenceSession, type Tensor } from 'onnxruntime-node';
import postgres from 'postgres';
import { flightRowGroupOutsidePeriod, mapFlightRecord, periodBounds } from '../../src/data/flights-recipe';
import { readParquetRecords } from '../../src/data/parquet-source';
import { openDatabase } from '../../src/db/database';
import { createScratchDatabase } from '../../src/db/scratch-database';
import { binaryClassificationMetrics } from '../../src/ml/metrics';
import { fitGbdt, gbdtContract, predictGbdt, toGbdtTable } from '../../src/ml/gbdt';
import { modelContract, predictProba } from '../../src/ml/model';
import { exportGbdtOnnx } from '../../src/ml/onnx/export-gbdt';
import { exportLogisticOnnx } from '../../src/ml/onnx/export-logistic';
import type { Row } from '../../src/ml/row';
import { partitionRows } from '../../src/ml/split';
import { trainLogisticModel } from '../../src/ml/train';
import { LocalArtifactStore } from '../../src/registry/artifact-store';
import { setAlias } from '../../src/registry/aliases';
import { registerModelVersion } from '../../src/registry/model-registry';
import { freePort } from '../../src/runtime/ports';
import { sessionOptions } from '../../src/serving/inference-protocol';
import { toFeeds } from '../../src/serving/predict';
import { describeTail, readTraces, tailReport, type TraceWindow } from './tail-report';
import { luaScript, median, wrk, type WrkResult } from './wrk';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** Alternating hello/keel rounds at c=64; the medians are compared. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ROWS = Number(process.env.BENCH_ROWS ?? 200_000);
/** Extra node arguments for the keel server process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
const KEEL_NODE_ARGS = (process.env.BENCH_KEEL_NODE_ARGS ?? '').split(' ').filter(Boolean);
const MODEL = 'flight-delays-bench';
/** Model server processes (KEEL_SERVER_PROCESSES) for (c); 1 measures a single process. */
const PROCESSES = Number(process.env.BENCH_KEEL_PROCESSES ?? 2);
/** `gbdt` (default: 100 trees, the best model keel trains) or `logistic`. */
const MODEL_KIND = (process.env.BENCH_MODEL ?? 'gbdt') as 'gbdt' | 'logistic';
/** How the GBDT splits its categorical features: keel's default (`native`) or `ordinal`. */
const CATEGORICAL_SPLITS = (process.env.BENCH_CATEGORICAL_SPLITS ?? 'native') as 'native' | 'ordinal';
/** Trace the server's slow requests (KEEL_TAIL_TRACE) and attribute each run's tail to a stage. */
const TAIL_TRACE = process.env.BENCH_TAIL_TRACE === '1';
const adminUrl = process.env.DATABASE_URL ?? 'postgres://keel:keel@127.0.0.1:5432/keel';
const run = promisify(execFile);
const say = (line: string) => process.stderr.write(`${line}\n`);

async function main() {
  await run('wrk', ['--version']).catch((error: { code?: string; stdout?: string }) => {
    // wrk --version exits 1 after printing its version; only a missing binary is fatal.
    if (error.code === 'ENOENT') throw new Error('wrk is not installed: apt-get install -y wrk');
  });
  const startedAt = new Date();
  const loadAtStart = round(loadavg()[0], 2);
  say(
    `bench:serve on ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const work = await mkdtemp(join(tmpdir(), 'keel-bench-serve-'));
  const scratchDatabase = await createScratchDatabase(adminUrl, 'keel_bench_serve');
  const dbUrl = scratchDatabase.url;
  const children: ChildProcess[] = [];
  try {
    // --- the model -------------------------------------------------------------------------------
    const config = JSON.parse(await readFile('keel.config.json', 'utf8')) as {
      pipeline: { features: { name: string; kind: 'numeric' | 'categorical' }[]; target: string; trainer: Record<string, number> };
    };
    const { features, target, trainer } = config.pipeline;
    const rows = await readFlights(ROWS);
    const { train, test: heldOut } = partitionRows(rows, { seed: 42, train: 0.8, validation: 0, test: 0.2 });
    const t0 = performance.now();
    const trained = await trainModel(MODEL_KIND, { features, target, trainer, train });
    const metrics = binaryClassificationMetrics(
      heldOut.map((r) => Number(r[target])),
      trained.predict(heldOut),
      0.5,
    );
    const { bytes, contract } = trained;
    say(
      `model: ${trained.description} on ${train.length} flights in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
        `held-out ROC AUC ${metrics.rocAuc.toFixed(4)}; ONNX ${bytes.byteLength} bytes`,
    );
    const database = await openDatabase({ url: dbUrl, dataDir: work });
    const artifacts = new LocalArtifactStore(join(work, 'artifacts'));
    const sha = await artifacts.put(bytes);
    const version = await registerModelVersion(database.db, {
      modelName: MODEL,
      idempotencyKey: `bench/${MODEL}`,
      artifactSha256: sha,
      artifactBytes: bytes.byteLength,
      contract,
      params: trained.params,
      metrics,
      datasetVersionId: '',
      datasetHash: '',
      trainingRunId: '',
      workflowId: '',
      runId: '',
    });
    await setAlias(database.db, { model: MODEL, alias: 'production', version: version.version, actor: 'bench', reason: 'bench:serve' });
    await database.close();
    const instances = heldOut.slice(0, 2000).map((row) => Object.fromEntries(features.map((f) => [f.name, row[f.name]])));

    // --- (a) raw session.run ---------------------------------------------------------------------
    const session = await InferenceSession.create(bytes, sessionOptions);
    const rawB1 = await rawRowsPerSecond(session, contract, instances, 1);
    const rawB64 = await rawRowsPerSecond(session, contract, instances, 64);
    await session.release();
    say(`(a) raw session.run: ${fmt(rawB1)} rows/s at batch 1, ${fmt(rawB64)} rows/s at batch 64`);

    // --- load script: one real held-out flight per request ----------------------------------------
    const script = join(work, 'post.lua');
    await writeFile(script, luaScript(instances.map((i) => JSON.stringify({ instances: [i] }))));

    // --- (b) hello and (c) keel, both up; the c=64 runs alternate between them ----------------------
    const helloPort = await freePort();
    const hello = spawn(process.execPath, ['bench/serve/hello-server.mjs', String(helloPort)], { stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(hello);
    const helloUrl = `http://127.0.0.1:${helloPort}/`;
    const keelPort = await freePort();
    const keel = spawn(process.execPath, [...KEEL_NODE_ARGS, '--import', 'tsx', 'src/runtime/server-main.ts'], {
      env: {
        ...process.env,
        DATABASE_URL: dbUrl,
        KEEL_DATA_DIR: work,
        KEEL_PORT: String(keelPort),
        KEEL_SERVER_PROCESSES: String(PROCESSES),
        LOG_LEVEL: 'warn',
        KEEL_API_KEYS: '',
        KEEL_ADMIN_KEYS: '',
        ...(TAIL_TRACE ? { KEEL_TAIL_TRACE: join(work, 'tail-trace') } : {}),
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    children.push(keel);
    const base = `http://127.0.0.1:${keelPort}`;
    const predictUrl = `${base}/v1/models/${MODEL}:predict`;
    await waitForHttp(helloUrl);
    await waitForHttp(`${base}/v2/health/ready`, 60_000);
    await wrk(helloUrl, 16, 2, script); // warm-up (JIT, connections)
    let sent = (await wrk(predictUrl, 16, 2, script)).requests;

    type Run = WrkResult & {
      cpu_us_per_request: number | null;
      batch_requests_mean?: number;
      window: TraceWindow;
      /** PostgreSQL's autovacuum worked on prediction_log during the run (it shares the cores). */
      autovacuum: boolean;
    };
    const stats = postgres(dbUrl, { max: 1, onnotice: () => {} });
    const maintenanceCount = async () => {
      const [row] = await stats`select autovacuum_count + autoanalyze_count as n from pg_stat_user_tables where relname = 'prediction_log'`;
      return Number(row?.n ?? 0);
    };
    const measure = async (url: string, pid: number | undefined, connections: number): Promise<Run> => {
      // The previous run's predictions still being written would load PostgreSQL during this one.
      await settleLog(base);
      const cpu0 = processCpuMs(pid);
      const before = url === predictUrl ? await scrape(base) : undefined;
      const maintenance0 = await maintenanceCount();
      const from = Date.now();
      const result = await wrk(url, connections, SECONDS, script);
      const to = Date.now();
      const cpu1 = processCpuMs(pid);
      const run: Run = {
        ...result,
        window: { name: `${url === predictUrl ? 'keel' : 'hello'} c=${connections}`, from, to },
        cpu_us_per_request: cpu0 === null || cpu1 === null ? null : round(((cpu1 - cpu0) * 1000) / result.requests, 1),
        autovacuum: (await maintenanceCount()) > maintenance0,
      };
      if (before) {
        const after = await scrape(base);
        sent += result.requests;
        run.batch_requests_mean = round((after.batchRequestsSum - before.batchRequestsSum) / (after.batchCount - before.batchCount), 2);
      }
      return run;
    };
    const describe = (what: string, r: Run) =>
      say(
        `${what}: ${fmt(r.rps)} req/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, errors ${r.errors}` +
          (r.cpu_us_per_request === null ? '' : `, ${r.cpu_us_per_request} µs CPU per request`) +
          (r.batch_requests_mean === undefined ? '' : `, ${r.batch_requests_mean} requests per session.run`) +
          (r.autovacuum ? ', autovacuum on prediction_log during the run' : ''),
      );
    // The machine's own floor at c=1 (the client, the kernel, one node:http round trip), beside
    // keel's: what is left above it is keel's. Rounds alternate, as at c=64, and the medians of
    // their p99 are compared: a single hello run right after keel's warm-up measured 2.3 ms where
    // the next ones measured 0.8 (whatever keel and PostgreSQL still do after a burst).
    const helloC1Rounds: Run[] = [];
    const keelC1Rounds: Run[] = [];
    for (let round_ = 1; round_ <= ROUNDS; round_++) {
      await waitForQuietMachine();
      const h = await measure(helloUrl, hello.pid, 1);
      describe(`(b) hello c=1, round ${round_}`, h);
      helloC1Rounds.push(h);
      await waitForQuietMachine();
      const k = await measure(predictUrl, keel.pid, 1);
      describe(`(c) keel  c=1, round ${round_}`, k);
      keelC1Rounds.push(k);
    }
    const byP99 = (run: Run) => run.p99_ms;
    const helloC1 = median(helloC1Rounds, byP99);
    const keelRuns: Record<number, Run> = { 1: median(keelC1Rounds, byP99) };
    say(`c=1 medians of ${ROUNDS} alternating rounds: p99 hello ${helloC1.p99_ms} ms, keel ${keelRuns[1].p99_ms} ms`);
    describe('(c) keel c=16', (keelRuns[16] = await measure(predictUrl, keel.pid, 16)));
    const helloRounds: Run[] = [];
    const keelRounds: Run[] = [];
    for (let round_ = 1; round_ <= ROUNDS; round_++) {
      const h = await measure(helloUrl, hello.pid, 64);
      describe(`(b) hello c=64, round ${round_}`, h);
      helloRounds.push(h);
      const k = await measure(predictUrl, keel.pid, 64);
      describe(`(c) keel  c=64, round ${round_}`, k);
      keelRounds.push(k);
    }
    const helloRun = median(helloRounds);
    keelRuns[64] = median(keelRounds);
    const runs = keelRuns;
    say(
      `c=64 medians of ${ROUNDS} alternating rounds: hello ${fmt(helloRun.rps)} req/s, keel ${fmt(keelRuns[64].rps)} req/s, ratio ${(keelRuns[64].rps / helloRun.rps).toFixed(3)}`,
    );
    keelRounds.forEach((k, i) =>
      say(
        `  round ${i + 1}: ratio ${(k.rps / helloRounds[i].rps).toFixed(3)}, keel p99 ${k.p99_ms} ms (p50 ${k.p50_ms}), hello p99 ${helloRounds[i].p99_ms} ms`,
      ),
    );

    await new Promise((resolve) => setTimeout(resolve, 500)); // the last answers of the last run
    const final = await scrape(base);
    keel.kill('SIGTERM');
    const exitCode = await new Promise<number | null>((resolve) => keel.once('exit', resolve));
    const [{ count }] = await stats`select count(*)::int as count from prediction_log`;
    await stats.end();
    say(
      `prediction log: ${count} rows written for ${final.rowsPredicted} predicted rows (wrk counted ${sent} answers); dropped ${final.logDropped}; server exit code ${exitCode}`,
    );
    say(`inference: ${final.inlineBatches} batches on the event loop (cheap enough), ${final.threadBatches} on threads`);
    say(
      `prediction log writes: ${final.logWrites} COPYs, the largest ≤ ${final.logWriteRowsMax} rows, ${final.logWritesOver1s} took over 1 s`,
    );
    const tail = TAIL_TRACE
      ? tailReport(await readTraces(work), [
          ...keelC1Rounds.map((r, i) => ({ ...r.window, name: `${r.window.name} round ${i + 1}` })),
          runs[16].window,
          ...keelRounds.map((r, i) => ({ ...r.window, name: `${r.window.name} round ${i + 1}` })),
        ])
      : undefined;
    for (const line of tail ? describeTail(tail) : []) say(line);
    const errors = [...keelC1Rounds, runs[16], ...keelRounds].reduce((n, r) => n + r.errors, 0);

    const result = {
      bench: 'serve',
      date: startedAt.toISOString(),
      model: trained.description,
      model_roc_auc: round(metrics.rocAuc, 4),
      train_rows: train.length,
      cores: cpus().length,
      keel_processes: PROCESSES,
      load_average_at_start: loadAtStart,
      seconds_per_run: SECONDS,
      rounds_c64: ROUNDS,
      raw_rows_per_s_b1: Math.round(rawB1),
      raw_rows_per_s_b64: Math.round(rawB64),
      hello_rps: Math.round(helloRun.rps),
      keel_rps_c1: Math.round(runs[1].rps),
      keel_rps_c16: Math.round(runs[16].rps),
      keel_rps_c64: Math.round(runs[64].rps),
      ratio_vs_hello: round(runs[64].rps / helloRun.rps, 3),
      ratio_vs_hello_rounds: keelRounds.map((k, i) => round(k.rps / helloRounds[i].rps, 3)),
      p50_ms_c1: runs[1].p50_ms,
      p99_ms_c1: runs[1].p99_ms,
      hello_p50_ms_c1: helloC1.p50_ms,
      hello_p99_ms_c1: helloC1.p99_ms,
      p99_ms_c1_rounds: keelC1Rounds.map((r) => r.p99_ms),
      hello_p99_ms_c1_rounds: helloC1Rounds.map((r) => r.p99_ms),
      autovacuum_c1_rounds: keelC1Rounds.map((r) => r.autovacuum),
      hello_autovacuum_c1_rounds: helloC1Rounds.map((r) => r.autovacuum),
      p50_ms_c16: runs[16].p50_ms,
      p99_ms_c16: runs[16].p99_ms,
      p50_ms_c64: runs[64].p50_ms,
      p99_ms_c64: runs[64].p99_ms,
      p99_ms_c64_rounds: keelRounds.map((k) => k.p99_ms),
      hello_p99_ms_c64: helloRun.p99_ms,
      hello_p99_ms_c64_rounds: helloRounds.map((h) => h.p99_ms),
      hello_cpu_us_per_request: helloRun.cpu_us_per_request,
      keel_cpu_us_per_request_c64: runs[64].cpu_us_per_request,
      requests_per_batch_c64: runs[64].batch_requests_mean,
      errors,
      log_drops: final.logDropped,
      log_rows_written: count as number,
      log_rows_predicted: final.rowsPredicted,
      inline_batches: final.inlineBatches,
      thread_batches: final.threadBatches,
      log_writes: final.logWrites,
      log_writes_over_1s: final.logWritesOver1s,
      ...(tail ? { tail } : {}),
      goals: {
        p50_c1_le_1ms: runs[1].p50_ms <= 1,
        p99_c1_le_2ms: runs[1].p99_ms <= 2,
        p99_c64_le_20ms: runs[64].p99_ms <= 20,
        c64_ge_half_hello: runs[64].rps >= 0.5 * helloRun.rps,
        zero_errors: errors === 0,
        no_log_drops: final.logDropped === 0 && count === final.rowsPredicted,
      },
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    const notDropped = await scratchDatabase.drop();
    if (notDropped) say(`could not drop the bench database ${scratchDatabase.name} (drop it by hand): ${notDropped}`);
    await rm(work, { recursive: true, force: true });
  }
}

interface Trained {
  description: string;
  bytes: Uint8Array;
  contract: { inputs: { name: string; type: 'float32' | 'string' | 'float64' }[] };
  params: Record<string, unknown>;
  predict(rows: readonly Row[]): ArrayLike<number>;
}

/** Trains the served model with keel's own trainers; the ONNX graph includes the feature pipeline. */
async function trainModel(
  kind: 'gbdt' | 'logistic',
  {
    features,
    target,
    trainer,
    train,
  }: { features: { name: string; kind: 'numeric' | 'categorical' }[]; target: string; trainer: Record<string, number>; train: Row[] },
): Promise<Trained> {
  if (kind === 'gbdt') {
    const params = {
      objective: 'binary' as const,
      numTrees: 100,
      maxLeaves: 64,
      maxDepth: 6,
      learningRate: 0.1,
      maxCategories: 400,
      categoricalSplits: CATEGORICAL_SPLITS,
    };
    const model = fitGbdt(toGbdtTable({ features, target, params, train }));
    return {
      description: `GBDT (${model.trees.length} trees, depth <= 6, ${CATEGORICAL_SPLITS} categorical splits, flights, ONNX with feature pipeline)`,
      bytes: exportGbdtOnnx(model),
      contract: gbdtContract(model),
      params,
      predict: (rows) => predictGbdt(model, rows),
    };
  }
  const model = trainLogisticModel({
    features,
    target,
    params: { l2: trainer.l2, maxIterations: trainer.maxIterations, tolerance: trainer.tolerance, maxCategories: trainer.maxCategories },
    train,
  });
  return {
    description: `logistic regression (${model.pipeline.width} encoded columns, flights, ONNX with feature pipeline)`,
    bytes: exportLogisticOnnx(model),
    contract: modelContract(model),
    params: trainer,
    predict: (rows) => predictProba(model, rows),
  };
}

/** The first `limit` valid flights of January 2001, in file order. */
async function readFlights(limit: number): Promise<Row[]> {
  const period = { from: '2001-01-01', to: '2001-02-01' };
  const bounds = periodBounds(period);
  const rows: Row[] = [];
  for await (const { record } of readParquetRecords('vega-datasets:flights-3m.parquet', {
    skipRowGroup: (group) => flightRowGroupOutsidePeriod(group, period),
  })) {
    const outcome = mapFlightRecord(record, bounds);
    if (outcome.kind !== 'row') continue;
    rows.push(outcome.row as unknown as Row);
    if (rows.length >= limit) break;
  }
  return rows;
}

async function rawRowsPerSecond(
  session: InferenceSession,
  contract: Trained['contract'],
  instances: Record<string, unknown>[],
  batch: number,
): Promise<number> {
  const feeds: Record<string, Tensor>[] = [];
  for (let start = 0; start + batch <= instances.length && feeds.length < 200; start += batch) {
    // The bench's features are numeric and categorical only: no float64 (datetime) inputs.
    feeds.push(toFeeds(contract, instances.slice(start, start + batch)));
  }
  for (let i = 0; i < 200; i++) await session.run(feeds[i % feeds.length]); // warm-up
  let runs = 0;
  const started = performance.now();
  while (performance.now() - started < 2000) {
    for (let i = 0; i < 50; i++) await session.run(feeds[(runs + i) % feeds.length]);
    runs += 50;
  }
  return (runs * batch) / ((performance.now() - started) / 1000);
}

/** CPU time (user + system, all threads) of a process and its child processes so far, from /proc; null elsewhere. */
function processCpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    let total = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let fields: string[];
      try {
        fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ');
      } catch {
        continue; // gone meanwhile
      }
      // ppid is field 4 of stat, utime and stime 14 and 15 (2, 12 and 13 after "pid (comm) ").
      if (Number(entry) === pid || Number(fields[1]) === pid) total += ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    }
    return total;
  } catch {
    return null;
  }
}
const CLOCK_TICKS = 100;

async function scrape(base: string) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const sum = (name: string, label = '') =>
    text
      .split('\n')
      .filter((l) => l.startsWith(name) && l.includes(label))
      .reduce((total, l) => total + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  const logWrites = sum('keel_prediction_log_write_seconds_count');
  return {
    logWrites,
    inlineBatches: sum('keel_inference_batches_total', 'where="inline"'),
    threadBatches: sum('keel_inference_batches_total', 'where="thread"'),
    logWriteRowsMax: maxBucket(text, 'keel_prediction_log_write_rows_bucket'),
    logWritesOver1s: logWrites - sum('keel_prediction_log_write_seconds_bucket', 'le="1"'),
    batchRowsSum: sum('keel_inference_batch_rows_sum'),
    batchRequestsSum: sum('keel_inference_batch_requests_sum'),
    batchCount: sum('keel_inference_batch_rows_count'),
    logDropped: sum('keel_prediction_log_dropped_total'),
    logQueued: sum('keel_prediction_log_queue_depth'),
    rowsPredicted: sum('keel_predict_rows_total'),
  };
}

/**
 * Waits until the machine is quiet, under 10 % of its CPU time busy over a second (at most 20 s):
 * a c=1 run measures a tail of 1-3 ms, which whatever still runs after the previous run (keel's
 * and PostgreSQL's work after a burst, writeback) would otherwise set.
 */
async function waitForQuietMachine(): Promise<void> {
  const times = () =>
    cpus().reduce(
      (sum, { times: t }) => ({
        busy: sum.busy + t.user + t.nice + t.sys + t.irq,
        total: sum.total + t.user + t.nice + t.sys + t.irq + t.idle,
      }),
      { busy: 0, total: 0 },
    );
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const before = times();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const after = times();
    if (after.busy - before.busy < 0.1 * (after.total - before.total)) return;
  }
}

/**
 * Waits until keel's prediction log has written what earlier runs queued (at most 15 s), then
 * 200 ms more: each measured run starts with PostgreSQL idle, as a steady load would have it.
 */
async function settleLog(base: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((await scrape(base)).logQueued > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  await new Promise((resolve) => setTimeout(resolve, 200));
}

/** The smallest bucket bound holding every observation of a histogram (over all processes). */
function maxBucket(text: string, bucketName: string): number {
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(bucketName)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le) counts.set(le, (counts.get(le) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  const total = counts.get('+Inf') ?? 0;
  const bounds = [...counts.keys()]
    .filter((le) => le !== '+Inf')
    .map(Number)
    .sort((a, b) => a - b);
  return bounds.find((le) => counts.get(String(le)) === total) ?? Number.POSITIVE_INFINITY;
}

async function waitForHttp(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:serve failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
