/**
 * `npm run bench:train [-- --task binary|regression|both --rows 1000000 --trees 100 --leaves 63 | --depth 6 --bins 255 --threads 2 --repeat 3]`
 *
 * keel's GBDT against LightGBM (Python, 1 and 2 threads) on the same data with the same
 * parameters, measured in the same run (shared, noisy machines: the ratios are what holds):
 *
 * 1. the first --rows valid rows of flights-3m.parquet (keel's parquet source + flights recipe),
 *    split 80/20 by keel's split hash, written once as .npy files (bench/train/prepare.ts);
 * 2. features hour, weekday, distance (numeric) and origin, destination (categorical); two tasks
 *    on the same rows: `binary` (target delayed, ROC AUC) and `regression` (target delay, the
 *    arrival delay in minutes, RMSE); both by default. LightGBM gets keel's tree encoding of the
 *    same rows as plain numeric features (the airports as frequency-rank codes), so both learn
 *    from identical inputs;
 * 2b. categorical comparison (unless --no-categorical): keel with native categorical splits
 *    (categoricalSplits: native) against LightGBM with the airport codes declared categorical,
 *    both with LightGBM's default categorical parameters, each once at 1 thread and keel also at
 *    --threads (keys keel_native_*, lightgbm_categorical_*, rel_metric_diff_vs_lightgbm_categorical,
 *    onnx_opset), with the ONNX load time and per-row latency of the native and ordinal models;
 * 3. each round runs keel (--threads and 1 thread, each in its own process), LightGBM 1 thread
 *    and 2 threads; with --repeat > 1 the fastest time of each is kept. Each side also reports
 *    its process's CPU time over the timed span (keel: process.cpuUsage(), LightGBM:
 *    time.process_time()); `ratio_1t_cpu_vs_lightgbm_1t` compares the least of each at 1 thread,
 *    which a loaded machine disturbs far less than wall time (run it under `nice -n -10`);
 * 4. keel's metric code is checked against scikit-learn's on keel's own test predictions.
 *
 * Last line: one JSON object (docs/benchmarks.md lists the keys): the binary task's figures at the
 * top level (the keys of /work/shared/BENCHMARKS.md), the regression task's under `regression`
 * (at the top level when it is the only task).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { prepareFlights, type Target } from './prepare';

const here = dirname(fileURLToPath(import.meta.url));
const log = (message: string) => console.error(`[bench:train] ${message}`);

const { values: args } = parseArgs({
  options: {
    task: { type: 'string', default: 'both' },
    rows: { type: 'string', default: '1000000' },
    trees: { type: 'string', default: '100' },
    leaves: { type: 'string', default: '63' },
    depth: { type: 'string' },
    bins: { type: 'string', default: '255' },
    threads: { type: 'string', default: '2' },
    repeat: { type: 'string', default: '3' },
    'no-categorical': { type: 'boolean', default: false },
  },
});
type Objective = 'binary' | 'regression';
const taskChoices: Record<string, Objective[]> = { both: ['binary', 'regression'], binary: ['binary'], regression: ['regression'] };
const objectives = taskChoices[args.task];
if (!objectives) throw new Error(`--task must be binary, regression or both, got ${JSON.stringify(args.task)}`);
const rows = Number(args.rows);
const trees = Number(args.trees);
const leaves = Number(args.leaves);
const depth = args.depth === undefined ? undefined : Number(args.depth);
const bins = Number(args.bins);
const threads = Number(args.threads);
const repeat = Number(args.repeat);
const maxCategories = 1000;

/** Per task: the target column, the metric compared with LightGBM, and whether higher is better. */
const tasks: Record<Objective, { target: Target; metric: string; higherIsBetter: boolean }> = {
  binary: { target: 'delayed', metric: 'roc_auc', higherIsBetter: true },
  regression: { target: 'delay', metric: 'rmse', higherIsBetter: false },
};

const keelParams = (objective: Objective, categoricalSplits: 'native' | 'ordinal' = 'ordinal') => ({
  objective,
  categoricalSplits,
  numTrees: trees,
  learningRate: 0.1,
  maxLeaves: depth === undefined ? leaves : 2 ** depth,
  ...(depth !== undefined && { maxDepth: depth }),
  maxBins: bins,
  minSamplesLeaf: 20,
  minHessianLeaf: 1e-3,
  lambda: 0,
  maxCategories,
});
const lightgbmParams = (objective: Objective) => ({
  objective,
  num_iterations: trees,
  learning_rate: 0.1,
  num_leaves: depth === undefined ? leaves : 2 ** depth,
  max_depth: depth ?? -1,
  max_bin: bins,
  min_data_in_leaf: 20,
  min_sum_hessian_in_leaf: 1e-3,
  lambda_l2: 0,
});

/** Test metrics named as scikit-learn's functions: roc_auc, log_loss, … or rmse, mae, r2. */
type Metrics = Record<string, number>;
interface KeelResult {
  seconds: number;
  cpu_seconds: number;
  threads: number;
  trees: number;
  peak_rss_mb: number;
  onnx_sha256: string;
  onnx_max_abs_diff: number;
  onnx_opset: number;
  onnx_latency: { load_ms: number; us_per_row_b1: number; us_per_row_b256: number };
  categorical_nodes: number;
  metrics: Metrics;
}
interface LightgbmResult {
  seconds: number;
  cpu_seconds: number;
  trees: number;
  metrics: Metrics;
  peak_rss_mb: number;
  versions: Record<string, string>;
}

const started = performance.now();
const python = execFileSync('bash', [join(here, 'setup-python.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  .trim()
  .split('\n')
  .at(-1)!;
const { dir, meta } = await prepareFlights(rows, maxCategories, log);
const out = mkdtempSync(join(tmpdir(), 'keel-bench-train-'));
log(
  `${meta.trainRows} train rows, ${meta.testRows} test rows, ${meta.features.length} features; tasks ${objectives.join(', ')}; python ${python}`,
);

function lastJsonLine<T>(command: string, argv: string[]): T {
  const result = spawnSync(command, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${command} ${argv.slice(0, 2).join(' ')} … exited with ${result.status ?? result.signal}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as T;
}
const best = <T extends { seconds: number }>(results: T[]) => results.reduce((a, b) => (b.seconds < a.seconds ? b : a));
const leastCpu = (results: { cpu_seconds: number }[]) => Math.min(...results.map((result) => result.cpu_seconds));
let versions: Record<string, string> = {};

/** One task: the rounds, then the checks; returns its figures. */
function benchTask(objective: Objective) {
  const { target, metric, higherIsBetter } = tasks[objective];
  const runKeel = (t: number, categoricalSplits: 'native' | 'ordinal' = 'ordinal') =>
    lastJsonLine<KeelResult>(process.execPath, [
      '--import',
      'tsx',
      join(here, 'keel-run.ts'),
      dir,
      JSON.stringify(keelParams(objective, categoricalSplits)),
      String(t),
      out,
      target,
    ]);
  const runLightgbm = (t: number, categorical: boolean) =>
    lastJsonLine<LightgbmResult>(python, [
      join(here, 'lightgbm_run.py'),
      'train',
      dir,
      target,
      JSON.stringify(lightgbmParams(objective)),
      String(t),
      categorical ? '1' : '0',
    ]);
  const say = (round: number, who: string, result: { seconds: number; cpu_seconds: number }) =>
    log(`${objective} round ${round}: ${who} ${result.seconds.toFixed(2)} s (CPU ${result.cpu_seconds.toFixed(2)} s)`);

  const keelRuns: KeelResult[] = [];
  const keel1Runs: KeelResult[] = [];
  const lgb1Runs: LightgbmResult[] = [];
  const lgb2Runs: LightgbmResult[] = [];
  for (let round = 1; round <= repeat; round++) {
    keelRuns.push(runKeel(threads));
    say(round, `keel ${threads} threads`, keelRuns.at(-1)!);
    lgb1Runs.push(runLightgbm(1, false));
    say(round, 'LightGBM 1 thread', lgb1Runs.at(-1)!);
    if (threads !== 1) {
      keel1Runs.push(runKeel(1));
      say(round, 'keel 1 thread', keel1Runs.at(-1)!);
    }
    lgb2Runs.push(runLightgbm(2, false));
    say(round, 'LightGBM 2 threads', lgb2Runs.at(-1)!);
  }
  const categorical = !args['no-categorical'];
  const lgbCategorical = categorical ? runLightgbm(1, true) : null;
  if (lgbCategorical) say(1, 'LightGBM categorical 1 thread', lgbCategorical);
  const keelNative = categorical ? runKeel(threads, 'native') : null;
  if (keelNative) say(1, `keel native categorical ${threads} threads`, keelNative);
  const keelNative1 = categorical && threads !== 1 ? runKeel(1, 'native') : keelNative;
  if (keelNative1 && threads !== 1) say(1, 'keel native categorical 1 thread', keelNative1);
  const keel = best(keelRuns);
  const keel1 = keel1Runs.length ? best(keel1Runs) : keel;
  const keel1Cpu = leastCpu(keel1Runs.length ? keel1Runs : keelRuns);
  const lgb1Cpu = leastCpu(lgb1Runs);
  const lgb1 = best(lgb1Runs);
  const lgb2 = best(lgb2Runs);
  versions = lgb1.versions;

  // keel's metric code against scikit-learn's, on keel's own test predictions.
  const sklearnMetrics = (mode: 'ordinal' | 'native') =>
    lastJsonLine<Metrics>(python, [
      join(here, 'lightgbm_run.py'),
      'metrics',
      objective,
      join(dir, `y_${target}_test.npy`),
      join(out, `keel_${target}_${threads}t_${mode}.npy`),
    ]);
  const sklearn = sklearnMetrics('ordinal');
  const sklearnDiffs = Object.fromEntries(Object.keys(sklearn).map((name) => [name, Math.abs(keel.metrics[name] - sklearn[name])]));
  const sklearnMaxDiff = Math.max(...Object.values(sklearnDiffs));
  const sklearnNative = keelNative && sklearnMetrics('native');
  const nativeSklearnMaxDiff =
    sklearnNative && Math.max(...Object.keys(sklearnNative).map((name) => Math.abs(keelNative.metrics[name] - sklearnNative[name])));

  const keelMetric = keel.metrics[metric];
  const lightgbmMetric = lgb1.metrics[metric];
  return {
    task: objective,
    target,
    keel_s: round3(keel.seconds),
    keel_1t_s: round3(keel1.seconds),
    lightgbm_1t_s: round3(lgb1.seconds),
    lightgbm_2t_s: round3(lgb2.seconds),
    ratio_vs_lightgbm_1t: round3(keel.seconds / lgb1.seconds),
    ratio_1t_vs_lightgbm_1t: round3(keel1.seconds / lgb1.seconds),
    keel_1t_cpu_s: round3(keel1Cpu),
    lightgbm_1t_cpu_s: round3(lgb1Cpu),
    ratio_1t_cpu_vs_lightgbm_1t: round3(keel1Cpu / lgb1Cpu),
    ratio_vs_lightgbm_2t: round3(keel.seconds / lgb2.seconds),
    metric,
    keel_metric: keelMetric,
    lightgbm_metric: lightgbmMetric,
    rel_metric_diff: relDiff(keelMetric, lightgbmMetric, higherIsBetter),
    keel_metrics: keel.metrics,
    lightgbm_metrics: lgb1.metrics,
    lightgbm_2t_metric: lgb2.metrics[metric],
    lightgbm_categorical_metric: lgbCategorical?.metrics[metric] ?? null,
    lightgbm_categorical_1t_s: lgbCategorical && round3(lgbCategorical.seconds),
    keel_native_metric: keelNative?.metrics[metric] ?? null,
    keel_native_metrics: keelNative?.metrics ?? null,
    keel_native_s: keelNative && round3(keelNative.seconds),
    keel_native_1t_s: keelNative1 && round3(keelNative1.seconds),
    keel_native_categorical_nodes: keelNative?.categorical_nodes ?? null,
    rel_metric_diff_vs_lightgbm_categorical:
      keelNative && lgbCategorical ? relDiff(keelNative.metrics[metric], lgbCategorical.metrics[metric], higherIsBetter) : null,
    ratio_native_1t_vs_lightgbm_categorical_1t: keelNative1 && lgbCategorical && round3(keelNative1.seconds / lgbCategorical.seconds),
    native_threads_identical_onnx: keelNative && keelNative1 ? keelNative.onnx_sha256 === keelNative1.onnx_sha256 : null,
    native_onnx_max_abs_diff: keelNative?.onnx_max_abs_diff ?? null,
    native_sklearn_metric_max_abs_diff: nativeSklearnMaxDiff,
    onnx_opset: keelNative?.onnx_opset ?? keel.onnx_opset,
    ordinal_onnx_opset: keel.onnx_opset,
    onnx_latency_native: keelNative?.onnx_latency ?? null,
    onnx_latency_ordinal: keel.onnx_latency,
    peak_rss_mb: Math.round(keel.peak_rss_mb),
    keel_1t_peak_rss_mb: Math.round(keel1.peak_rss_mb),
    lightgbm_peak_rss_mb: Math.round(lgb1.peak_rss_mb),
    lightgbm_2t_peak_rss_mb: Math.round(lgb2.peak_rss_mb),
    sklearn_metric_max_abs_diff: sklearnMaxDiff,
    sklearn_metric_diffs: sklearnDiffs,
    sklearn_agrees_1e9: sklearnMaxDiff <= 1e-9,
    onnx_max_abs_diff: keel.onnx_max_abs_diff,
    threads_identical_onnx: keel1.onnx_sha256 === keel.onnx_sha256,
  };
}

const results = objectives.map(benchTask);
rmSync(out, { recursive: true, force: true });

const [primary, ...others] = results;
const summary = {
  rows,
  train_rows: meta.trainRows,
  test_rows: meta.testRows,
  features: meta.features.length,
  trees,
  leaves: keelParams('binary').maxLeaves,
  ...(depth !== undefined && { depth }),
  bins,
  keel_threads: threads,
  ...primary,
  ...Object.fromEntries(others.map((result) => [result.task, result])),
  repeat,
  bench_s: round3((performance.now() - started) / 1000),
  load_avg_1m: round3(loadavg()[0]),
  versions: { node: process.version, ...versions },
};

console.log('');
for (const r of results) {
  const name = r.metric === 'roc_auc' ? 'AUC' : 'RMSE';
  const digits = r.metric === 'roc_auc' ? 5 : 3;
  console.log(`${r.task} (target ${r.target})`);
  console.log(
    `  keel GBDT (${threads} threads)   ${r.keel_s.toFixed(2)} s   ${name} ${r.keel_metric.toFixed(digits)}   peak RSS ${r.peak_rss_mb} MB`,
  );
  console.log(`  keel GBDT (1 thread)    ${r.keel_1t_s.toFixed(2)} s                      peak RSS ${r.keel_1t_peak_rss_mb} MB`);
  console.log(
    `  LightGBM (1 thread)     ${r.lightgbm_1t_s.toFixed(2)} s   ${name} ${r.lightgbm_metric.toFixed(digits)}   peak RSS ${r.lightgbm_peak_rss_mb} MB`,
  );
  console.log(`  LightGBM (2 threads)    ${r.lightgbm_2t_s.toFixed(2)} s                      peak RSS ${r.lightgbm_2t_peak_rss_mb} MB`);
  if (r.lightgbm_categorical_metric !== null && r.keel_native_metric !== null && r.rel_metric_diff_vs_lightgbm_categorical !== null) {
    console.log(
      `  airports as categories: keel native ${name} ${r.keel_native_metric.toFixed(digits)} (${r.keel_native_s} s, 1t ${r.keel_native_1t_s} s), LightGBM ${name} ${r.lightgbm_categorical_metric.toFixed(digits)} (1t ${r.lightgbm_categorical_1t_s} s)`,
    );
    console.log(
      `    rel diff ${(r.rel_metric_diff_vs_lightgbm_categorical * 100).toFixed(3)} %, time ratio 1t ${r.ratio_native_1t_vs_lightgbm_categorical_1t}, ONNX ai.onnx.ml opset ${r.onnx_opset}`,
    );
    const lat = (l: KeelResult['onnx_latency'] | null) =>
      l
        ? `load ${l.load_ms.toFixed(1)} ms, ${l.us_per_row_b1.toFixed(1)} µs/row at batch 1, ${l.us_per_row_b256.toFixed(2)} µs/row at 256`
        : '-';
    console.log(`    ONNX native: ${lat(r.onnx_latency_native)}; ordinal: ${lat(r.onnx_latency_ordinal)}`);
  }
  console.log(
    `  time ratio keel/LightGBM-1t ${r.ratio_vs_lightgbm_1t} (1t: ${r.ratio_1t_vs_lightgbm_1t}, 1t CPU: ${r.ratio_1t_cpu_vs_lightgbm_1t})   ${name} rel diff ${(r.rel_metric_diff * 100).toFixed(3)} % (negative: keel worse)`,
  );
  console.log(
    `  keel vs scikit-learn metrics on identical predictions: max |diff| ${r.sklearn_metric_max_abs_diff.toExponential(2)} ${JSON.stringify(r.sklearn_metric_diffs)}`,
  );
  console.log(
    `  ONNX vs predictGbdt max |diff| ${r.onnx_max_abs_diff.toExponential(2)}; 1-thread and ${threads}-thread ONNX identical: ${r.threads_identical_onnx}`,
  );
}
console.log(JSON.stringify(summary));

/** (keel − reference) / reference for a higher-is-better metric, (reference − keel) / reference otherwise: negative means keel is worse. */
function relDiff(keel: number, reference: number, higherIsBetter: boolean): number {
  return (higherIsBetter ? keel - reference : reference - keel) / reference;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
