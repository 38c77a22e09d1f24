import { fitGbdt, toGbdtTable } from '../../src/ml/gbdt';
import type { FeatureSpec } from '../../src/shared/feature-spec';
import type { Row } from '../../src/ml/row';
import { metricsOfScores, scoreMeaningOf } from '../../src/ml/task-evaluation';
import { withValidatedThreshold } from '../../src/ml/threshold';
import { trainLinearModel } from '../../src/ml/train';
import { predictOutputs, type TrainedModel } from '../../src/ml/trained-model';
import type { ModelTask } from '../../src/shared/model-contract';
import { linearRegressionTrainerSchema, logisticTrainerSchema } from '../../src/shared/pipeline-input';
import type { ModelMetrics } from '../../src/shared/model-metrics';

/** A dataset as bench/small/references.py writes it. */
export interface SmallDataset {
  name: string;
  task: ModelTask;
  target: string;
  features: FeatureSpec[];
  rows: Row[];
  splits: { seed: number; train: number[]; validation: number[]; test: number[] }[];
}

/** keel's two models on one split: test metrics, and validation metrics (for the log-loss floor). */
export interface KeelSplitResult {
  gbdt: { test: ModelMetrics; validation: ModelMetrics; trees: number };
  linear: { test: ModelMetrics; validation: ModelMetrics };
}

/**
 * Trains keel's GBDT and linear model at their defaults (merged with the overrides) on each split,
 * in process, exactly as the pipeline's trainers do (plus the binary threshold from validation).
 */
export async function trainKeelModels(
  dataset: SmallDataset,
  overrides: { gbdt: Record<string, unknown>; linear: Record<string, unknown> },
): Promise<KeelSplitResult[]> {
  const { task, features, target } = dataset;
  const rows = task === 'binary' ? binaryCoded(dataset) : dataset.rows;
  const linearDefaults =
    task === 'regression'
      ? linearRegressionTrainerSchema.parse({ kind: 'linear-regression' })
      : logisticTrainerSchema.parse({ kind: 'logistic-regression' });
  const { kind: _kind, ...linearParams } = linearDefaults;
  const results: KeelSplitResult[] = [];
  for (const split of dataset.splits) {
    const pick = (indices: number[]) => indices.map((i) => rows[i]);
    const [train, validation, test] = [pick(split.train), pick(split.validation), pick(split.test)];
    const gbdt = fitGbdt(
      toGbdtTable({ features, target, params: { objective: task, seed: split.seed, ...overrides.gbdt }, train, validation }),
    );
    const linear = trainLinearModel({ task, features, target, params: { ...linearParams, ...overrides.linear }, train, validation });
    const scored = (model: TrainedModel) => {
      const final = task === 'binary' ? withValidatedThreshold(model, validation) : model;
      return { test: scoreOn(final, test, target), validation: scoreOn(final, validation, target) };
    };
    results.push({ gbdt: { ...scored(gbdt), trees: gbdt.trees.length }, linear: scored(linear) });
    // Training is synchronous: let the event loop breathe between splits.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return results;
}

function scoreOn(model: TrainedModel, rows: readonly Row[], target: string): ModelMetrics {
  return metricsOfScores(
    scoreMeaningOf(model),
    rows.map((row) => row[target]),
    predictOutputs(model, rows),
  );
}

/** A binary target as 0/1: the second of the two class names in sorted order is 1 (as the references code it). */
function binaryCoded({ rows, target }: SmallDataset): Row[] {
  const classes = [...new Set(rows.map((row) => String(row[target])))].sort();
  if (classes.length !== 2) throw new Error(`a binary dataset needs two classes, got ${classes.join(', ')}`);
  return rows.map((row) => ({ ...row, [target]: String(row[target]) === classes[1] ? 1 : 0 }));
}
