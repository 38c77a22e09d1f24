import { readDatasetRows } from '../src/data/dataset-store';
import { scoreOnnxInWorkerThread } from '../src/ml/batch-score';
import { binaryClassificationMetrics } from '../src/ml/metrics';
import type { Row } from '../src/ml/row';
import { partitionRows } from '../src/ml/split';
import { predictProbability, type TrainedModel } from '../src/ml/trained-model';
import { resolveAlias } from '../src/registry/model-registry';
import { ModelVerificationError } from '../src/shared/errors';
import type { SplitSpec } from '../src/shared/pipeline-input';
import type { BinaryMetrics } from '../src/shared/pipeline-result';
import type { ActivityDeps } from './deps';

/** ONNX runs in float32, the TypeScript model in float64; more than this is a real disagreement. */
const maxOnnxDeviation = 1e-5;

export interface Evaluation {
  metrics: BinaryMetrics;
  testRows: number;
  maxOnnxDeviation: number;
  /** The production version scored on the same test rows, when there is one. */
  production?: { version: number; metrics: BinaryMetrics };
}

export function evaluateActivities({ database, artifacts }: ActivityDeps) {
  return {
    /**
     * Evaluator: scores the held-out test split with the exported ONNX model (what serving will
     * run), checks it reproduces the in-process predictions, computes the metrics, and scores the
     * current production version on the same rows so the gate compares like with like.
     */
    async evaluateModel(input: {
      model: string;
      datasetVersionId: string;
      split: SplitSpec;
      target: string;
      /** The trained model (JSON) to check the ONNX against; absent for a bring-your-own model. */
      modelArtifactSha256?: string;
      onnxSha256: string;
    }): Promise<Evaluation> {
      const [model, onnx, rows, production] = await Promise.all([
        input.modelArtifactSha256 ? artifacts.getJson<TrainedModel>(input.modelArtifactSha256) : undefined,
        artifacts.get(input.onnxSha256),
        readDatasetRows(database.db, input.datasetVersionId),
        resolveAlias(database.db, input.model, 'production'),
      ]);
      const { test } = partitionRows(rows, input.split);
      const labels = test.map((row) => Number(row[input.target]));
      const onnxProba = await scoreOnnxInWorkerThread(onnx, test);
      let deviation = 0;
      if (model) {
        const inProcess = predictProbability(model, test);
        for (let i = 0; i < test.length; i++) deviation = Math.max(deviation, Math.abs(onnxProba[i] - inProcess[i]));
        if (!(deviation <= maxOnnxDeviation)) {
          throw new ModelVerificationError(
            `the ONNX model deviates from the trained model by ${deviation} (> ${maxOnnxDeviation}) on the test split`,
          );
        }
      }
      return {
        // A bring-your-own model's threshold is inside its graph; keel's metrics then use 0.5.
        metrics: binaryClassificationMetrics(labels, onnxProba, model?.threshold ?? 0.5),
        testRows: test.length,
        maxOnnxDeviation: deviation,
        production: production && (await scoreProduction(production, test, labels)),
      };
    },
  };

  async function scoreProduction(
    production: NonNullable<Awaited<ReturnType<typeof resolveAlias>>>,
    test: Row[],
    labels: number[],
  ): Promise<Evaluation['production']> {
    const onnx = await artifacts.get(production.artifactSha256);
    const proba = await scoreOnnxInWorkerThread(onnx, test);
    // Its own decision threshold lives inside its graph; the gate compares threshold-free ROC AUC.
    return { version: production.version, metrics: binaryClassificationMetrics(labels, proba) };
  }
}
