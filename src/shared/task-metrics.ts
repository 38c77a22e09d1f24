import type { ModelTask } from './model-contract';
import type { ModelMetrics } from './model-metrics';

/**
 * The metrics of each task that a gate may threshold and tuning may rank by, with their
 * direction. Pure: the workflow decides the gate and ranks trials with it.
 */
export const taskMetrics = {
  binary: { rocAuc: 'higher', accuracy: 'higher', precision: 'higher', recall: 'higher', f1: 'higher', logLoss: 'lower' },
  multiclass: {
    accuracy: 'higher',
    f1Macro: 'higher',
    f1Weighted: 'higher',
    precisionMacro: 'higher',
    recallMacro: 'higher',
    precisionWeighted: 'higher',
    recallWeighted: 'higher',
    rocAucOvr: 'higher',
    logLoss: 'lower',
  },
  regression: { rmse: 'lower', mae: 'lower', r2: 'higher' },
} as const satisfies Record<ModelTask, Record<string, 'higher' | 'lower'>>;

/**
 * What the gate compares with production and tuning ranks by, unless the config names another:
 * ROC AUC (threshold-free) for binary, macro F1 (every class counts, whatever its size) for
 * multiclass, RMSE for regression.
 */
export const primaryMetric: Record<ModelTask, string> = { binary: 'rocAuc', multiclass: 'f1Macro', regression: 'rmse' };

export function metricNames(task: ModelTask): string[] {
  return Object.keys(taskMetrics[task]);
}

export function isMetricOf(task: ModelTask, name: string): boolean {
  return Object.hasOwn(taskMetrics[task], name);
}

export function higherIsBetter(task: ModelTask, name: string): boolean {
  return (taskMetrics[task] as Record<string, 'higher' | 'lower'>)[name] === 'higher';
}

/** The task a set of metrics belongs to (metrics stored before tasks existed are binary). */
export function taskOfMetrics(metrics: ModelMetrics): ModelTask {
  return metrics.task ?? 'binary';
}

/** A metric's value; NaN when the metrics lack it (e.g. ROC AUC with one class present). */
export function metricValue(metrics: ModelMetrics, name: string): number {
  const value = (metrics as unknown as Record<string, unknown>)[name];
  return typeof value === 'number' ? value : Number.NaN;
}

/** The metric a one-line summary shows: the task's primary metric, e.g. `rocAuc 0.6536` or `rmse 41250`. */
export function headlineMetric(metrics: ModelMetrics | null | undefined): string | null {
  if (!metrics || typeof metrics !== 'object') return null;
  const name = primaryMetric[taskOfMetrics(metrics)];
  const value = metricValue(metrics, name);
  return Number.isFinite(value) ? `${name} ${Number(value.toPrecision(4))}` : null;
}
