/**
 * `npm run bench:train [-- --rows 1000000 --trees 100 --leaves 63 | --depth 6 --bins 255 --threads 2 --repeat 3]`
 *
 * keel's GBDT against LightGBM (Python, 1 and 2 threads) on the same data with the same
 * parameters, measured in the same run (shared, noisy machines: the ratios are what holds):
 *
 * 1. the first --rows valid rows of flights-3m.parquet (keel's parquet source + flights recipe),
 *    split 80/20 by keel's split hash, written once as .npy files (bench/train/prepare.ts);
 * 2. features hour, weekday, distance (numeric) and origin, destination (categorical), target
 *    delayed. LightGBM gets keel's tree encoding of the same rows as plain numeric features (the
 *    airports as frequency-rank codes), so both learn from identical inputs; a LightGBM run with
 *    the codes declared categorical is reported as extra information (lightgbm_categorical_metric);
 * 3. each round runs keel (--threads and 1 thread, each in its own process), LightGBM 1 thread
 *    and 2 threads; with --repeat > 1 the fastest time of each is kept;
 * 4. keel's metric code is checked against scikit-learn's on keel's own test predictions.
 *
 * Last line: one JSON object (docs/benchmarks.md lists the keys).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { prepareFlights } from './prepare';

const here = dirname(fileURLToPath(import.meta.url));
const log = (message: string) => console.error(`[bench:train] ${message}`);

const { values: args } = parseArgs({
  options: {
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
const rows = Number(args.rows);
const trees = Number(args.trees);
const leaves = Number(args.leaves);
const depth = args.depth === undefined ? undefined : Number(args.depth);
const bins = Number(args.bins);
const threads = Number(args.threads);
const repeat = Number(args.repeat);
const maxCategories = 1000;

const keelParams = {
  objective: 'binary',
  numTrees: trees,
  learningRate: 0.1,
  maxLeaves: depth === undefined ? leaves : 2 ** depth,
  ...(depth !== undefined && { maxDepth: depth }),
  maxBins: bins,
  minSamplesLeaf: 20,
  minHessianLeaf: 1e-3,
  lambda: 0,
  maxCategories,
};
const lightgbmParams = {
  objective: 'binary',
  num_iterations: trees,
  learning_rate: 0.1,
  num_leaves: depth === undefined ? leaves : 2 ** depth,
  max_depth: depth ?? -1,
  max_bin: bins,
  min_data_in_leaf: 20,
  min_sum_hessian_in_leaf: 1e-3,
  lambda_l2: 0,
};

interface Metrics {
  roc_auc: number;
  log_loss: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
}
interface KeelResult {
  seconds: number;
  threads: number;
  trees: number;
  peak_rss_mb: number;
  onnx_sha256: string;
  onnx_max_abs_diff: number;
  metrics: Metrics;
}
interface LightgbmResult {
  seconds: number;
  trees: number;
  metrics: Metrics;
  peak_rss_mb: number;
  versions: Record<string, string>;
}

const python = execFileSync('bash', [join(here, 'setup-python.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1)!;
const { dir, meta } = await prepareFlights(rows, maxCategories, log);
const out = mkdtempSync(join(tmpdir(), 'keel-bench-train-'));
log(`${meta.trainRows} train rows, ${meta.testRows} test rows, ${meta.features.length} features; python ${python}`);

function lastJsonLine<T>(command: string, argv: string[]): T {
  const result = spawnSync(command, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${command} ${argv.slice(0, 2).join(' ')} … exited with ${result.status ?? result.signal}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as T;
}
const runKeel = (t: number) => lastJsonLine<KeelResult>(process.execPath, ['--import', 'tsx', join(here, 'keel-run.ts'), dir, JSON.stringify(keelParams), String(t), out]);
const runLightgbm = (t: number, categorical: boolean) =>
  lastJsonLine<LightgbmResult>(python, [join(here, 'lightgbm_run.py'), 'train', dir, JSON.stringify(lightgbmParams), String(t), categorical ? '1' : '0']);

const best = <T extends { seconds: number }>(results: T[]) => results.reduce((a, b) => (b.seconds < a.seconds ? b : a));
const keelRuns: KeelResult[] = [];
const keel1Runs: KeelResult[] = [];
const lgb1Runs: LightgbmResult[] = [];
const lgb2Runs: LightgbmResult[] = [];
for (let round = 1; round <= repeat; round++) {
  keelRuns.push(runKeel(threads));
  log(`round ${round}: keel ${threads} threads ${keelRuns.at(-1)!.seconds.toFixed(2)} s`);
  lgb1Runs.push(runLightgbm(1, false));
  log(`round ${round}: LightGBM 1 thread ${lgb1Runs.at(-1)!.seconds.toFixed(2)} s`);
  if (threads !== 1) {
    keel1Runs.push(runKeel(1));
    log(`round ${round}: keel 1 thread ${keel1Runs.at(-1)!.seconds.toFixed(2)} s`);
  }
  lgb2Runs.push(runLightgbm(2, false));
  log(`round ${round}: LightGBM 2 threads ${lgb2Runs.at(-1)!.seconds.toFixed(2)} s`);
}
const lgbCategorical = args['no-categorical'] ? null : runLightgbm(1, true);

const keel = best(keelRuns);
const keel1 = keel1Runs.length ? best(keel1Runs) : keel;
const lgb1 = best(lgb1Runs);
const lgb2 = best(lgb2Runs);

// keel's metric code against scikit-learn's, on keel's own test predictions.
const sklearn = lastJsonLine<Metrics>(python, [join(here, 'lightgbm_run.py'), 'metrics', join(dir, 'y_test.npy'), join(out, `keel_proba_${threads}t.npy`)]);
const metricNames = Object.keys(sklearn) as (keyof Metrics)[];
const sklearnDiffs = Object.fromEntries(metricNames.map((name) => [name, Math.abs(keel.metrics[name] - sklearn[name])]));
const sklearnMaxDiff = Math.max(...Object.values(sklearnDiffs));
rmSync(out, { recursive: true, force: true });

const keelMetric = keel.metrics.roc_auc;
const lightgbmMetric = lgb1.metrics.roc_auc;
const summary = {
  rows,
  train_rows: meta.trainRows,
  test_rows: meta.testRows,
  features: meta.features.length,
  trees,
  leaves: keelParams.maxLeaves,
  ...(depth !== undefined && { depth }),
  bins,
  keel_threads: threads,
  keel_s: round3(keel.seconds),
  keel_1t_s: round3(keel1.seconds),
  lightgbm_1t_s: round3(lgb1.seconds),
  lightgbm_2t_s: round3(lgb2.seconds),
  ratio_vs_lightgbm_1t: round3(keel.seconds / lgb1.seconds),
  ratio_1t_vs_lightgbm_1t: round3(keel1.seconds / lgb1.seconds),
  metric: 'roc_auc',
  keel_metric: keelMetric,
  lightgbm_metric: lightgbmMetric,
  rel_metric_diff: (keelMetric - lightgbmMetric) / lightgbmMetric,
  keel_log_loss: keel.metrics.log_loss,
  lightgbm_log_loss: lgb1.metrics.log_loss,
  lightgbm_categorical_metric: lgbCategorical?.metrics.roc_auc ?? null,
  peak_rss_mb: Math.round(keel.peak_rss_mb),
  lightgbm_peak_rss_mb: Math.round(lgb1.peak_rss_mb),
  sklearn_metric_max_abs_diff: sklearnMaxDiff,
  onnx_max_abs_diff: keel.onnx_max_abs_diff,
  threads_identical_onnx: keel1.onnx_sha256 === keel.onnx_sha256,
  repeat,
  load_avg_1m: round3(loadavg()[0]),
  versions: { node: process.version, ...lgb1.versions },
};

console.log('');
console.log(`keel GBDT (${threads} threads)   ${summary.keel_s.toFixed(2)} s   AUC ${keelMetric.toFixed(5)}   peak RSS ${summary.peak_rss_mb} MB`);
console.log(`keel GBDT (1 thread)    ${summary.keel_1t_s.toFixed(2)} s`);
console.log(`LightGBM (1 thread)     ${summary.lightgbm_1t_s.toFixed(2)} s   AUC ${lightgbmMetric.toFixed(5)}   peak RSS ${summary.lightgbm_peak_rss_mb} MB`);
console.log(`LightGBM (2 threads)    ${summary.lightgbm_2t_s.toFixed(2)} s`);
if (lgbCategorical) console.log(`LightGBM, airports as categorical (1 thread): AUC ${lgbCategorical.metrics.roc_auc.toFixed(5)}`);
console.log(`time ratio keel/LightGBM-1t ${summary.ratio_vs_lightgbm_1t}   AUC rel diff ${(summary.rel_metric_diff * 100).toFixed(3)} %`);
console.log(`keel vs scikit-learn metrics on identical predictions: max |diff| ${sklearnMaxDiff.toExponential(2)} (${JSON.stringify(sklearnDiffs)})`);
console.log(`ONNX vs predictGbdt max |diff| ${keel.onnx_max_abs_diff.toExponential(2)}; 1-thread and ${threads}-thread ONNX identical: ${summary.threads_identical_onnx}`);
console.log(JSON.stringify(summary));

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
