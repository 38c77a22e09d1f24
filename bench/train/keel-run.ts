/**
 * keel side of `npm run bench:train`, in a process of its own (so its peak RSS is its own):
 *
 *   node --import tsx bench/train/keel-run.ts DIR PARAMS_JSON THREADS OUT_DIR TARGET
 *
 * Trains keel's GBDT (objective from PARAMS_JSON) on the prepared training split with TARGET
 * (`delayed` or `delay`) as label (timed: tree pipeline fit, binning and boosting, helper thread
 * start included; wall time, and the CPU time of every thread of the process over the same span), scores the test split with predictGbdt and with the exported ONNX model
 * (onnxruntime), writes the predictions (probabilities, or minutes) to
 * OUT_DIR/keel_<TARGET>_<threads>t_<categoricalSplits>.npy and prints one JSON line with keel's
 * own test metrics, the ai.onnx.ml opset of the export and its load time and latency
 * (onnx-latency.ts).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InferenceSession } from 'onnxruntime-node';
import type { FeatureColumn } from '../../src/ml/feature-columns';
import { gbdtContract, predictGbdtColumns } from '../../src/ml/gbdt/model';
import type { GbdtParamsInput } from '../../src/ml/gbdt/params';
import { trainGbdt } from '../../src/ml/gbdt/train';
import { regressionMetrics } from '../../src/ml/metrics-regression';
import { binaryClassificationMetrics } from '../../src/ml/metrics';
import { exportGbdtOnnx } from '../../src/ml/onnx/export-gbdt';
import { writeNpy } from './npy';
import { measureOnnxLatency, onnxFeeds } from './onnx-latency';
import { loadRawSplits, TARGETS, type PreparedMeta, type Target } from './prepare';

const [dir, paramsJson, threadsText, outDir, target] = process.argv.slice(2) as [string, string, string, string, Target];
if (!TARGETS.includes(target)) throw new Error(`TARGET must be one of ${TARGETS.join(', ')}, got ${JSON.stringify(target)}`);
const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as PreparedMeta;
const { train, test } = loadRawSplits(dir, meta);
const params = JSON.parse(paramsJson) as GbdtParamsInput;
const threads = Number(threadsText);

const started = performance.now();
const cpuStarted = process.cpuUsage();
const model = await trainGbdt({ target, params, columns: train.columns, labels: train.targets[target] }, { threads });
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuStarted);
const peakRssMb = process.resourceUsage().maxRSS / 1024;

const regression = model.objective === 'regression';
const predictions = predictGbdtColumns(model, test.columns);
const onnx = exportGbdtOnnx(model);
const output = regression ? 'prediction' : 'probability';
const onnxPredictions = await scoreOnnx(onnx, test.columns, predictions.length, output);
const latency = await measureOnnxLatency(onnx, test.columns, output);
let onnxMaxAbsDiff = 0;
for (let i = 0; i < predictions.length; i++) onnxMaxAbsDiff = Math.max(onnxMaxAbsDiff, Math.abs(onnxPredictions[i] - predictions[i]));
writeNpy(join(outDir, `keel_${target}_${threads}t_${params.categoricalSplits ?? 'native'}.npy`), predictions);
const metrics = regression ? regressionSnakeCase(test.targets[target], predictions) : binarySnakeCase(test.targets[target], predictions);

console.log(
  JSON.stringify({
    seconds,
    cpu_seconds: (cpu.user + cpu.system) / 1e6,
    threads,
    trees: model.trees.length,
    peak_rss_mb: peakRssMb,
    onnx_sha256: createHash('sha256').update(onnx).digest('hex'),
    onnx_bytes: onnx.length,
    onnx_max_abs_diff: onnxMaxAbsDiff,
    onnx_opset: gbdtContract(model).treeEnsemble?.mlOpset ?? 3,
    onnx_latency: latency,
    categorical_nodes: model.trees.reduce((n, tree) => n + (tree.leftCategories?.filter((codes) => codes !== null).length ?? 0), 0),
    pipeline_categories: Object.fromEntries(
      model.pipeline.features.flatMap((f) => (f.kind === 'categorical' ? [[f.name, f.categories.length]] : [])),
    ),
    metrics,
    train_curve_last: model.training.trainCurve.at(-1),
  }),
);

/** keel's metric code, named as scikit-learn's functions (bench/train/lightgbm_run.py). */
function binarySnakeCase(labels: Float64Array, proba: Float64Array): Record<string, number> {
  const m = binaryClassificationMetrics(labels, proba);
  return { roc_auc: m.rocAuc, log_loss: m.logLoss, accuracy: m.accuracy, precision: m.precision, recall: m.recall, f1: m.f1 };
}
function regressionSnakeCase(labels: Float64Array, predictions: Float64Array): Record<string, number> {
  const m = regressionMetrics(labels, predictions);
  return { rmse: m.rmse, mae: m.mae, r2: m.r2 };
}

/** The ONNX model's `output` for the test rows, fed as serving feeds them. */
async function scoreOnnx(
  bytes: Uint8Array,
  columns: FeatureColumn[],
  n: number,
  output: 'probability' | 'prediction',
): Promise<Float32Array> {
  const session = await InferenceSession.create(bytes);
  const out = new Float32Array(n);
  const chunk = 65_536;
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    const result = await session.run(onnxFeeds(columns, start, end), [output]);
    out.set(result[output].data as Float32Array, start);
  }
  await session.release();
  return out;
}
