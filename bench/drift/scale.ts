/**
 * `npm run bench:drift -- --scale` — drift at scale (issue 18; shared/BENCHMARKS.md): 3 M
 * reference rows × 300 k window rows × 1 000 features generated as bench:drift generates its 50
 * (bench/drift/data.ts: same shapes, proportions and drift pattern, scaledColumns).
 *
 *   1. reference: worker threads (BENCH_THREADS, default 2), each owning a share of the columns,
 *      stream the reference rows in chunks into DriftReferenceBuilder (sketches) and store the
 *      references as JSON — once per model version in keel, timed apart (`reference_build_s`);
 *   2. the report (`keel_s`): the workers stream the window rows in chunks into DriftWindow
 *      against the stored references; the main thread combines the windows and runs evaluateDrift
 *      (every column, the deciding statistic as Evidently chooses it);
 *   3. the reference measured in the same run: the exact computation (every value kept, sorted,
 *      as SciPy computes it) on a subsample where both run — the first BENCH_SUBSAMPLE_REFERENCE
 *      reference rows (default 100 000) and BENCH_SUBSAMPLE_ROWS window rows (default 30 000) of
 *      the same columns. `drifted_match`: both find the same drifted columns.
 *
 * Generating the data stands in for reading it (a dataset or the prediction log): its time is
 * inside both figures and also reported apart (`*_generate_s`, summed over the threads). The last
 * line printed is the JSON result.
 *
 * Small scale for development: BENCH_REFERENCE_ROWS=200000 BENCH_ROWS=20000 BENCH_FEATURES=50.
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { tsWorkerBootstrap } from '../../src/ml/worker-thread';
import { evaluateDrift } from '../../src/monitoring/drift';
import { DriftWindow, type DriftWindowSnapshot } from '../../src/monitoring/drift-window';
import type { DriftReferenceSet } from '../../src/monitoring/reference';
import { scaledColumns, type ScaledColumn } from './data';
import type { ScaleRequest } from './scale-worker';

const REFERENCE_ROWS = Number(process.env.BENCH_REFERENCE_ROWS ?? 3_000_000);
const WINDOW_ROWS = Number(process.env.BENCH_ROWS ?? 300_000);
const FEATURES = Number(process.env.BENCH_FEATURES ?? 1_000);
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const SUB_REFERENCE = Math.min(REFERENCE_ROWS, Number(process.env.BENCH_SUBSAMPLE_REFERENCE ?? 100_000));
const SUB_WINDOW = Math.min(WINDOW_ROWS, Number(process.env.BENCH_SUBSAMPLE_ROWS ?? 30_000));
/** Rows per chunk, as a reader would page through a table. */
const CHUNK = Number(process.env.BENCH_CHUNK ?? 8_192);
const say = (line: string) => process.stderr.write(`${line}\n`);

interface Timed {
  seconds: number;
  generate_s?: number;
}

function ask<T extends Timed>(workers: Worker[], request: ScaleRequest): Promise<T[]> {
  return Promise.all(
    workers.map(
      (worker) =>
        new Promise<T>((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
          worker.postMessage(request);
        }),
    ),
  );
}

const columns = scaledColumns(FEATURES);
const shares: ScaledColumn[][] = Array.from({ length: THREADS }, () => []);
// Alternate numeric and categorical columns between threads, so each gets its share of both.
columns.forEach((c, i) => shares[i % THREADS].push(c));
const workerModule = new URL('./scale-worker.ts', import.meta.url).href;
const workers = shares.map((share) => new Worker(tsWorkerBootstrap, { workerData: { module: workerModule, columns: share } }));

try {
  say(
    `bench:drift --scale on ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  say(
    `${REFERENCE_ROWS} reference rows x ${WINDOW_ROWS} window rows x ${FEATURES} features (${columns.filter((c) => c.kind === 'numeric').length} numeric, ${columns.filter((c) => c.drifted).length} drifted), ${THREADS} threads, chunks of ${CHUNK} rows`,
  );

  let started = performance.now();
  const referenceCpu = process.cpuUsage();
  const built = await ask<Timed & { references: string }>(workers, { phase: 'reference', rows: REFERENCE_ROWS, chunk: CHUNK });
  const referenceS = (performance.now() - started) / 1000;
  const referenceCpuS = cpuSince(referenceCpu);
  const referenceBytes = built.reduce((sum, b) => sum + Buffer.byteLength(b.references), 0);
  const references: DriftReferenceSet = Object.fromEntries(
    built.flatMap((b) => Object.entries(JSON.parse(b.references) as DriftReferenceSet)),
  );
  say(
    `reference: ${referenceS.toFixed(1)} s (generating ${sum(built, 'generate_s').toFixed(1)} thread-s), stored as ${(referenceBytes / 2 ** 20).toFixed(1)} MB of JSON`,
  );

  started = performance.now();
  const windowCpu = process.cpuUsage();
  const windows = await ask<Timed & { window: DriftWindowSnapshot }>(workers, { phase: 'window', rows: WINDOW_ROWS, chunk: CHUNK });
  const evaluateStarted = performance.now();
  const evaluation = evaluateDrift({
    reference: references,
    current: { window: DriftWindow.combine(windows.map((w) => w.window)) },
    features: columns.map((c) => c.name),
  });
  const evaluateS = (performance.now() - evaluateStarted) / 1000;
  // CPU time of the process (all threads) for the report: steadier than wall time on a shared machine.
  const keelCpuS = cpuSince(windowCpu);
  const keelS = (performance.now() - started) / 1000;
  say(
    `report: ${keelS.toFixed(1)} s (generating the window ${sum(windows, 'generate_s').toFixed(1)} thread-s; evaluateDrift ${evaluateS.toFixed(2)} s on the main thread)`,
  );

  started = performance.now();
  const exact = await ask<Timed & { drifted: string[] }>(workers, { phase: 'exact', referenceRows: SUB_REFERENCE, windowRows: SUB_WINDOW });
  const exactS = (performance.now() - started) / 1000;
  const exactDrifted = exact.flatMap((e) => e.drifted).sort();
  const found = [...evaluation.dataset.driftedColumns].sort();
  const expected = columns
    .filter((c) => c.drifted)
    .map((c) => c.name)
    .sort();
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((name, i) => name === b[i]);
  say(
    `exact on ${SUB_REFERENCE} x ${SUB_WINDOW}: ${exactS.toFixed(1)} s, ${exactDrifted.length} drifted; the sketches found ${found.length}; ${expected.length} were made to drift`,
  );
  const disagree = [...found.filter((c) => !exactDrifted.includes(c)), ...exactDrifted.filter((c) => !found.includes(c))];
  if (disagree.length) say(`columns the two disagree on: ${disagree.join(' ')}`);
  const bounded = evaluation.columns
    .filter((c) => c.method === 'wasserstein' && c.errorBound !== undefined)
    .sort((a, b) => b.errorBound! - a.errorBound!);
  if (bounded.length)
    say(
      `largest Wasserstein error bounds (normed): ${bounded
        .slice(0, 3)
        .map((c) => `${c.column} ±${c.errorBound!.toPrecision(2)} (score ${c.score!.toPrecision(3)})`)
        .join(', ')}`,
    );

  const result = {
    bench: 'drift --scale',
    date: new Date().toISOString(),
    reference_rows: REFERENCE_ROWS,
    rows: WINDOW_ROWS,
    features: FEATURES,
    keel_s: round(keelS),
    keel_cpu_s: round(keelCpuS),
    reference_build_s: round(referenceS),
    reference_build_cpu_s: round(referenceCpuS),
    window_generate_thread_s: round(sum(windows, 'generate_s')),
    reference_generate_thread_s: round(sum(built, 'generate_s')),
    evaluate_s: round(evaluateS),
    reference_json_mb: round(referenceBytes / 2 ** 20),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    drifted_found: found.length,
    drifted_exact: exactDrifted.length,
    drifted_expected: expected.length,
    drifted_match: same(found, exactDrifted),
    drifted_match_expected: same(found, expected),
    exact_subsample_reference_rows: SUB_REFERENCE,
    exact_subsample_rows: SUB_WINDOW,
    exact_s: round(exactS),
    max_wasserstein_bound: bounded.length ? round(bounded[0].errorBound!) : null,
    median_wasserstein_bound: bounded.length ? round(bounded[Math.floor(bounded.length / 2)].errorBound!) : null,
    threads: THREADS,
    cores: cpus().length,
    load_avg_1m: Number(loadavg()[0].toFixed(2)),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await Promise.all(workers.map((w) => w.terminate()));
}

function sum(results: Timed[], key: 'generate_s'): number {
  return results.reduce((total, r) => total + (r[key] ?? 0), 0);
}

/** CPU seconds of the whole process (every thread) since `start`. */
function cpuSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

function round(x: number): number {
  return Number(x.toPrecision(4));
}
