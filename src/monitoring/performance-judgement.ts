import type { Db } from '../db/database';
import { getModelVersion, type ModelVersion } from '../registry/model-registry';
import { getRoute } from '../serving/routes';
import { modelContractSchema, type ModelTask } from '../shared/model-contract';
import { livePerformanceMetric, type MonitorInput, type PerformanceConfig, type PerformanceMetricName } from '../shared/monitoring';
import type { MulticlassMetrics, RegressionMetrics } from '../shared/model-metrics';
import { livePerformance, type LoggedPrediction, type PerformanceReference } from './live-performance';
import type { LivePerformance } from './live-performance-types';
import { multiclassPerformance, type LoggedClassification, type MulticlassReference } from './multiclass-performance';
import { readWindow, type TimeWindow, type WindowRow } from './prediction-window';
import { referenceMetrics } from './reference-store';
import { regressionPerformance, type LoggedRegression, type RegressionReference } from './regression-performance';

/** The monitored version's task and classes, and the live metric judged for it. */
interface PerformanceTask {
  task: ModelTask;
  classes: string[];
  metric: PerformanceMetricName;
}

/** An active canary route and whether its candidate breached. */
export type CanaryVerdict = { candidate: number; baseline: number; breach: boolean; reasons: string[] } | null;

/** The monitored version's task and classes, and the live metric judged for it (InvalidInputError when the config names another task's). */
export function performanceTaskOf(version: ModelVersion, config: PerformanceConfig): PerformanceTask {
  const parsed = modelContractSchema.safeParse(version.contract);
  const task = parsed.success ? parsed.data.task : 'binary';
  const classes = parsed.success ? (parsed.data.classes ?? []) : [];
  return { task, classes, metric: livePerformanceMetric(config, task) };
}

/**
 * Live performance of the predictions whose labels had time to arrive, judged by the monitored
 * version's task (its contract): binary from the probability and 0/1 label, regression from the
 * prediction and the observed value, multiclass from the class name and the observed class.
 * Rows logged in another task's shape (a version of another task) are left out.
 */
export async function judgePerformance(
  db: Db,
  input: MonitorInput,
  window: TimeWindow,
  windowRows: WindowRow[],
  task: PerformanceTask,
): Promise<LivePerformance> {
  const delay = input.performance.labelDelayMinutes * 60_000;
  const labelWindow = delay
    ? { start: new Date(Date.parse(window.start) - delay).toISOString(), end: new Date(Date.parse(window.end) - delay).toISOString() }
    : window;
  const rows = delay ? await readWindow(db, input.model, labelWindow, input.maxRows, false) : windowRows;
  const config = { ...input.performance, metric: task.metric };
  if (task.task === 'regression') {
    const predictions: LoggedRegression[] = rows.flatMap((r) =>
      typeof r.outputs?.prediction === 'number'
        ? [{ version: r.version, at: r.at, prediction: r.outputs.prediction, actual: r.feedback?.value ?? null }]
        : [],
    );
    const references = new Map<number, RegressionReference>();
    for (const version of new Set(predictions.map((p) => p.version))) {
      const m = (await getModelVersion(db, input.model, version))?.metrics as Partial<RegressionMetrics> | undefined;
      if (m?.task === 'regression') references.set(version, { rmse: m.rmse ?? Number.NaN, mae: m.mae ?? Number.NaN, n: m.n ?? 0 });
    }
    return regressionPerformance(predictions, { config, metric: task.metric as 'rmse' | 'mae', window: labelWindow, references });
  }
  if (task.task === 'multiclass') {
    const classes = task.classes;
    // Feedback for a multiclass model carries the class as its index in the contract's classes.
    const classOf = (label: number | null | undefined) =>
      typeof label === 'number' && Number.isInteger(label) && label >= 0 && label < classes.length ? classes[label] : null;
    const predictions: LoggedClassification[] = rows.flatMap((r) =>
      Array.isArray(r.outputs?.probabilities) && typeof r.outputs.label === 'string'
        ? [{ version: r.version, at: r.at, predicted: r.outputs.label, actual: classOf(r.feedback?.label) }]
        : [],
    );
    const references = new Map<number, MulticlassReference>();
    for (const version of new Set(predictions.map((p) => p.version))) {
      const m = (await getModelVersion(db, input.model, version))?.metrics as Partial<MulticlassMetrics> | undefined;
      if (m?.task === 'multiclass') {
        references.set(version, {
          accuracy: m.accuracy ?? Number.NaN,
          f1Macro: m.f1Macro ?? Number.NaN,
          n: m.n ?? 0,
          support: Object.fromEntries((m.perClass ?? []).map((c) => [c.class, c.support])),
        });
      }
    }
    return multiclassPerformance(predictions, {
      config,
      metric: task.metric as 'f1Macro' | 'accuracy',
      classes,
      window: labelWindow,
      references,
    });
  }
  // Binary: the logged outputs carry a probability and a 0/1 label.
  const predictions: LoggedPrediction[] = rows
    .filter((r) => typeof r.outputs?.probability === 'number' && Number.isFinite(r.probability))
    .map((r) => ({
      version: r.version,
      at: r.at,
      probability: r.probability,
      predicted: typeof r.outputs?.label === 'number' ? r.outputs.label : 0,
      actual: r.feedback?.label ?? null,
    }));
  const references = new Map<number, PerformanceReference>();
  for (const version of new Set(predictions.map((p) => p.version))) {
    const fromReference = await referenceMetrics(db, input.model, version);
    const registered = fromReference ?? ((await getModelVersion(db, input.model, version))?.metrics as PerformanceReference | undefined);
    if (registered && Number.isFinite(registered.n)) references.set(version, registered);
  }
  return livePerformance(predictions, {
    config,
    window: labelWindow,
    references,
    defaultMinValue: input.policy.retrain.pipeline?.gate.minRocAuc,
  });
}

/** An active canary route for the model, and whether its candidate's live performance breached. */
export async function canaryVerdict(db: Db, model: string, performance: LivePerformance | null): Promise<CanaryVerdict> {
  const route = await getRoute(db, model);
  if (!route) return null;
  const candidate = performance?.versions.find((v) => v.version === route.candidateVersion);
  const reasons = candidate?.concept.status === 'drift' ? candidate.concept.reasons : [];
  return { candidate: route.candidateVersion, baseline: route.baselineVersion, breach: reasons.length > 0, reasons };
}
