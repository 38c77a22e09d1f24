/**
 * keel side of `npm run bench:train`, in a process of its own (so its peak RSS is its own):
 *
 *   node --import tsx bench/train/keel-run.ts DIR PARAMS_JSON THREADS OUT_DIR
 *
 * Trains keel's GBDT on the prepared training split (timed: tree pipeline fit, binning and
 * boosting, helper thread start included), scores the test split with predictGbdt and with the
 * exported ONNX model (onnxruntime), writes the probabilities to OUT_DIR/keel_proba_<threads>t.npy and
 * prints one JSON line.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import type { FeatureColumn } from '../../src/ml/feature-columns';
import { predictGbdtColumns } from '../../src/ml/gbdt/model';
import type { GbdtParamsInput } from '../../src/ml/gbdt/params';
import { trainGbdt } from '../../src/ml/gbdt/train';
import { binaryClassificationMetrics } from '../../src/ml/metrics';
import { exportGbdtOnnx } from '../../src/ml/onnx/export-gbdt';
import { writeNpy } from './npy';
import { loadRawSplits, type PreparedMeta } from './prepare';

const [dir, paramsJson, threadsText, outDir] = process.argv.slice(2);
const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as PreparedMeta;
const { train, test } = loadRawSplits(dir, meta);
const params = JSON.parse(paramsJson) as GbdtParamsInput;
const threads = Number(threadsText);

const started = performance.now();
const model = await trainGbdt({ target: 'delayed', params, columns: train.columns, labels: train.labels }, { threads });
const seconds = (performance.now() - started) / 1000;
const peakRssMb = process.resourceUsage().maxRSS / 1024;

const proba = predictGbdtColumns(model, test.columns);
const onnx = exportGbdtOnnx(model);
const onnxProba = await scoreOnnx(onnx, test.columns);
let onnxMaxAbsDiff = 0;
for (let i = 0; i < proba.length; i++) onnxMaxAbsDiff = Math.max(onnxMaxAbsDiff, Math.abs(onnxProba[i] - proba[i]));
writeNpy(join(outDir, `keel_proba_${threads}t.npy`), proba);
const metrics = binaryClassificationMetrics(test.labels, proba);

console.log(
  JSON.stringify({
    seconds,
    threads,
    trees: model.trees.length,
    peak_rss_mb: peakRssMb,
    onnx_sha256: createHash('sha256').update(onnx).digest('hex'),
    onnx_bytes: onnx.length,
    onnx_max_abs_diff: onnxMaxAbsDiff,
    pipeline_categories: Object.fromEntries(model.pipeline.features.flatMap((f) => (f.kind === 'categorical' ? [[f.name, f.categories.length]] : []))),
    metrics: {
      roc_auc: metrics.rocAuc,
      log_loss: metrics.logLoss,
      accuracy: metrics.accuracy,
      precision: metrics.precision,
      recall: metrics.recall,
      f1: metrics.f1,
    },
    train_curve_last: model.training.trainCurve.at(-1),
  }),
);

/** The ONNX model's probabilities for the test rows, fed as serving feeds them. */
async function scoreOnnx(bytes: Uint8Array, columns: FeatureColumn[]): Promise<Float32Array> {
  const session = await InferenceSession.create(bytes);
  const n = columns[0].kind === 'numeric' ? columns[0].values.length : columns[0].codes.length;
  const out = new Float32Array(n);
  const chunk = 65_536;
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    const feeds = Object.fromEntries(
      columns.map((column) => [
        column.name,
        column.kind === 'numeric'
          ? new Tensor('float32', Float32Array.from(column.values.subarray(start, end)), [end - start, 1])
          : new Tensor('string', Array.from(column.codes.subarray(start, end), (code) => (code >= 0 ? column.dictionary[code] : '')), [end - start, 1]),
      ]),
    );
    const { probability } = await session.run(feeds, ['probability']);
    out.set(probability.data as Float32Array, start);
  }
  await session.release();
  return out;
}
