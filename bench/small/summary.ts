import type { ModelTask } from '../../src/shared/model-contract';
import type { KeelSplitResult, SmallDataset } from './keel-models';

/** The metric each task is judged on, and whether higher is better. */
const judgedBy: Record<ModelTask, { metric: string; higherIsBetter: boolean }> = {
  regression: { metric: 'rmse', higherIsBetter: false },
  binary: { metric: 'rocAuc', higherIsBetter: true },
  multiclass: { metric: 'accuracy', higherIsBetter: true },
};

interface Spread {
  median: number;
  p10: number;
  p90: number;
}

/** One dataset's line of the benchmark's JSON (keys per /work/shared/BENCHMARKS.md, plus spreads). */
export interface Summary {
  name: string;
  task: ModelTask;
  rows: number;
  metric: string;
  keel_gbdt_median: number;
  keel_linear_median: number;
  best_reference: string;
  best_reference_median: number;
  /** keel's better model against the better reference: (keel − ref) / ref, sign flipped for errors. */
  rel_diff: number;
  spreads: Record<string, Spread>;
  /** Median test log loss per model (classification). */
  test_logloss_medians?: Record<string, number>;
  /** Median number of GBDT trees kept (early stopping shows here). */
  keel_gbdt_trees_median: number;
  /** Lowest validation log loss of keel's models over the splits (classification), both and each. */
  min_validation_logloss: number | null;
  min_validation_logloss_gbdt: number | null;
  min_validation_logloss_linear: number | null;
}

export function summarise(dataset: SmallDataset, keel: KeelSplitResult[], references: Record<string, Record<string, number>[]>): Summary {
  const { metric, higherIsBetter } = judgedBy[dataset.task];
  const perModel: Record<string, Record<string, number>[]> = {
    keel_gbdt: keel.map((k) => k.gbdt.test as unknown as Record<string, number>),
    keel_linear: keel.map((k) => k.linear.test as unknown as Record<string, number>),
    ...references,
  };
  const spreads = Object.fromEntries(Object.entries(perModel).map(([model, runs]) => [model, spread(runs.map((r) => r[metric]))]));
  const better = (a: number, b: number) => (higherIsBetter ? Math.max(a, b) : Math.min(a, b));
  const referenceNames = Object.keys(references);
  const best = referenceNames.reduce((a, b) => (better(spreads[a].median, spreads[b].median) === spreads[a].median ? a : b));
  const keelBest = better(spreads.keel_gbdt.median, spreads.keel_linear.median);
  const reference = spreads[best].median;
  const classification = dataset.task !== 'regression';
  const lowest = (pick: (k: KeelSplitResult) => unknown) =>
    classification ? Math.min(...keel.map((k) => (pick(k) as { logLoss: number }).logLoss)) : null;
  const gbdtLoss = lowest((k) => k.gbdt.validation);
  const linearLoss = lowest((k) => k.linear.validation);
  return {
    name: dataset.name,
    task: dataset.task,
    rows: dataset.rows.length,
    metric,
    keel_gbdt_median: spreads.keel_gbdt.median,
    keel_linear_median: spreads.keel_linear.median,
    best_reference: best,
    best_reference_median: reference,
    rel_diff: round((higherIsBetter ? keelBest - reference : reference - keelBest) / reference),
    spreads,
    ...(classification && {
      test_logloss_medians: Object.fromEntries(
        Object.entries(perModel).map(([model, runs]) => [model, round(median(runs.map((r) => r.logLoss)))]),
      ),
    }),
    keel_gbdt_trees_median: median(keel.map((k) => k.gbdt.trees)),
    min_validation_logloss: classification ? Math.min(gbdtLoss!, linearLoss!) : null,
    min_validation_logloss_gbdt: gbdtLoss,
    min_validation_logloss_linear: linearLoss,
  };
}

function spread(values: number[]): Spread {
  return { median: round(median(values)), p10: round(quantile(values, 0.1)), p90: round(quantile(values, 0.9)) };
}

function median(values: number[]): number {
  return quantile(values, 0.5);
}

/** Linear interpolation between order statistics (numpy's default). */
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

function round(value: number): number {
  return Number(value.toPrecision(6));
}
