import { readDatasetRows } from '../src/data/dataset-store';
import { scoreOnnxInWorkerThread } from '../src/ml/batch-score';
import { binaryClassificationMetrics } from '../src/ml/metrics';
import { predictProba, type LogisticModel } from '../src/ml/model';
import { partitionRows } from '../src/ml/split';
import { ModelVerificationError } from '../src/shared/errors';
import type { BinaryMetrics } from '../src/shared/pipeline-result';
import type { SplitSpec } from '../src/shared/pipeline-input';
import type { ActivityDeps } from './deps';

/** ONNX runs in float32, the TypeScript model in float64; more than this is a real disagreement. */
const maxOnnxDeviation = 1e-5;

export function evaluateActivities({ database, artifacts }: ActivityDeps) {
  return {
    /**
     * Evaluator: scores the held-out test split with the exported ONNX model (what serving will
     * run), checks it reproduces the in-process predictions, and computes the metrics.
     */
    async evaluateModel(input: {
      datasetVersionId: string;
      split: SplitSpec;
      target: string;
      modelArtifactSha256: string;
      onnxSha256: string;
    }): Promise<{ metrics: BinaryMetrics; testRows: number; maxOnnxDeviation: number }> {
      const [model, onnx, rows] = await Promise.all([
        artifacts.getJson<LogisticModel>(input.modelArtifactSha256),
        artifacts.get(input.onnxSha256),
        readDatasetRows(database.db, input.datasetVersionId),
      ]);
      const { test } = partitionRows(rows, input.split);
      const onnxProba = await scoreOnnxInWorkerThread(onnx, test);
      const inProcess = predictProba(model, test);
      let deviation = 0;
      for (let i = 0; i < test.length; i++) deviation = Math.max(deviation, Math.abs(onnxProba[i] - inProcess[i]));
      if (!(deviation <= maxOnnxDeviation)) {
        throw new ModelVerificationError(
          `the ONNX model deviates from the trained model by ${deviation} (> ${maxOnnxDeviation}) on the test split`,
        );
      }
      const labels = test.map((row) => Number(row[input.target]));
      return { metrics: binaryClassificationMetrics(labels, onnxProba, model.threshold), testRows: test.length, maxOnnxDeviation: deviation };
    },
  };
}
