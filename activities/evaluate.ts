import { readDatasetRows } from '../src/data/dataset-store';
import { scoreOnnxInWorkerThread } from '../src/ml/batch-score';
import type { Row } from '../src/ml/row';
import { partitionRowsInTurns } from '../src/ml/split-in-turns';
import { evaluationCurves, type EvaluationCurves } from '../src/ml/evaluation-curves';
import { metricsOfScores, scoreMeaningOf, type ScoreMeaning } from '../src/ml/task-evaluation';
import { predictOutputsInWorkerThread } from '../src/ml/predict-in-worker-thread';
import type { TrainedModel } from '../src/ml/trained-model';
import { resolveAlias } from '../src/registry/model-registry';
import { ModelVerificationError } from '../src/shared/errors';
import { modelContractSchema, type ModelContract } from '../src/shared/model-contract';
import type { SplitSpec } from '../src/shared/pipeline-input';
import type { ModelMetrics } from '../src/shared/model-metrics';
import type { ActivityDeps } from './deps';
import { heartbeating } from './heartbeating';

/**
 * ONNX runs in float32, the TypeScript model in float64; more than this (relative to the value's
 * magnitude, at least 1: probabilities absolutely, a regression's prices relatively) is a real
 * disagreement.
 */
const maxOnnxDeviation = 1e-5;

export interface Evaluation {
  metrics: ModelMetrics;
  testRows: number;
  maxOnnxDeviation: number;
  /** The points of the evaluation plots (ROC, PR, calibration; residuals), thinned; none for multiclass. */
  curves?: EvaluationCurves;
  /** The production version scored on the same test rows, when there is one. */
  production?: { version: number; metrics: ModelMetrics };
}

interface EvaluateModelInput {
  model: string;
  datasetVersionId: string;
  split: SplitSpec;
  target: string;
  /** The trained model (JSON) to check the ONNX against; absent for a bring-your-own model. */
  modelArtifactSha256?: string;
  onnxSha256: string;
  /** The candidate's contract (task, classes). */
  contract: ModelContract;
}

export function evaluateActivities({ database, artifacts }: ActivityDeps) {
  return {
    /**
     * Evaluator: scores the held-out test split with the exported ONNX model (what serving will
     * run), checks it reproduces the in-process predictions, computes the task's metrics, and
     * scores the current production version on the same rows so the gate compares like with like.
     */
    async evaluateModel(input: EvaluateModelInput): Promise<Evaluation> {
      // Under the pipeline's heartbeat timeout: a large test split or model takes longer than it.
      return heartbeating({ phase: 'evaluating' }, () => evaluate(input));
    },
  };

  async function evaluate(input: EvaluateModelInput): Promise<Evaluation> {
    const [model, onnx, rows, production] = await Promise.all([
      input.modelArtifactSha256 ? artifacts.getJson<TrainedModel>(input.modelArtifactSha256) : undefined,
      artifacts.get(input.onnxSha256),
      readDatasetRows(database.db, input.datasetVersionId),
      resolveAlias(database.db, input.model, 'production'),
    ]);
    const { test } = await partitionRowsInTurns(rows, input.split);
    const labels = test.map((row) => row[input.target]);
    // Both in worker threads, side by side: the graph in onnxruntime, the trained model in process code.
    const [scores, inProcess] = await Promise.all([
      scoreOnnxInWorkerThread(onnx, test),
      model && predictOutputsInWorkerThread(model, test),
    ]);
    let deviation = 0;
    if (model && inProcess) {
      if (inProcess.length !== scores.values.length) {
        throw new ModelVerificationError(
          `the ONNX model gives ${scores.values.length} values for the test split, the trained model ${inProcess.length}`,
        );
      }
      for (let i = 0; i < inProcess.length; i++) {
        deviation = Math.max(deviation, Math.abs(scores.values[i] - inProcess[i]) / Math.max(1, Math.abs(inProcess[i])));
      }
      if (!(deviation <= maxOnnxDeviation)) {
        throw new ModelVerificationError(
          `the ONNX model deviates from the trained model by ${deviation} (> ${maxOnnxDeviation}) on the test split`,
        );
      }
    }
    // A bring-your-own binary model's threshold is inside its graph; keel's metrics then use 0.5.
    const meaning: ScoreMeaning = model ? scoreMeaningOf(model) : { task: input.contract.task, classes: input.contract.classes };
    return {
      metrics: metricsOfScores(meaning, labels, scores.values),
      curves: evaluationCurves(meaning, labels, scores.values),
      testRows: test.length,
      maxOnnxDeviation: deviation,
      production: production && (await scoreProduction(production, test, labels)),
    };
  }

  /**
   * The production version on the same rows, judged as its own task with its own decision
   * threshold (so an identical retrain gets identical metrics): a production model of another
   * task (the pipeline changed task) gets its own metrics, which the gate does not compare.
   */
  async function scoreProduction(
    production: NonNullable<Awaited<ReturnType<typeof resolveAlias>>>,
    test: Row[],
    labels: unknown[],
  ): Promise<Evaluation['production']> {
    const onnx = await artifacts.get(production.artifactSha256);
    const scores = await scoreOnnxInWorkerThread(onnx, test);
    const contract = modelContractSchema.safeParse(production.contract);
    const classes = contract.success ? contract.data.classes : undefined;
    const threshold =
      scores.task === 'binary'
        ? ((contract.success ? contract.data.threshold : undefined) ?? (await recordedThreshold(production)))
        : undefined;
    try {
      return { version: production.version, metrics: metricsOfScores({ task: scores.task, classes, threshold }, labels, scores.values) };
    } catch {
      // The labels do not fit its task (e.g. prices for a binary model): nothing to compare.
      return undefined;
    }
  }

  /**
   * The threshold of a version registered before contracts carried it, from its trained model
   * (whose hash its recorded feature pipeline names); undefined (0.5) for an imported model or
   * one whose trained model is gone.
   */
  async function recordedThreshold(version: { featurePipeline: unknown }): Promise<number | undefined> {
    const sha256 = (version.featurePipeline as { modelArtifactSha256?: unknown } | null)?.modelArtifactSha256;
    if (typeof sha256 !== 'string') return undefined;
    const model = await artifacts.getJson<{ threshold?: unknown }>(sha256).catch(() => undefined);
    return typeof model?.threshold === 'number' ? model.threshold : undefined;
  }
}
