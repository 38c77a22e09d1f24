import { binaryClassificationMetrics } from '../ml/metrics';
import { incidentKey, type AlertInput } from '../notify/alert';
import { livePerformanceMetric, type PerformanceConfig } from '../shared/monitoring';
import { fmt } from './concept-bounds';
import { twoProportionZTest } from './distances';
import { labelCoverage, rollingBuckets, rowsByVersion } from './live-rows';
import type { LiveMetrics, LivePerformance, VersionPerformance } from './live-performance-types';

/**
 * Live performance: logged predictions joined with the ground truth that arrived for them
 * (`POST /v1/feedback`, possibly long after the prediction), metrics per model version over a
 * window and in rolling buckets inside it, and two verdicts per version:
 *
 * - **concept drift**: the live metric (ROC AUC by default) fell below the floor (the gate's
 *   minimum) or more than `maxDrop` below the version's own test-split metric — by more than
 *   `confidenceZ` standard errors, so a few hundred labels of noise do not alarm;
 * - **label drift**: the share of positive labels moved from the test split's by at least
 *   `labelShift.maxChange`, with a two-proportion z-test p-value below `labelShift.maxPValue`.
 *
 * Predictions without a label yet are counted (`coverage`) but not judged. Pure: the monitor
 * activity reads the rows and stores the result with the drift report.
 */

export interface LoggedPrediction {
  version: number;
  /** When it was made (epoch ms). */
  at: number;
  probability: number;
  /** The model's own decision (its `label` output, threshold inside the graph). */
  predicted: number;
  /** Ground truth (0/1), or null when none arrived yet. */
  actual: number | null;
}

/** What a version is compared with: its metrics on the held-out test split of its training data. */
export interface PerformanceReference {
  rocAuc: number;
  accuracy: number;
  f1: number;
  /** Test rows and positive labels among them. */
  n: number;
  positives: number;
}

type BinaryMetricName = 'rocAuc' | 'accuracy' | 'f1';

export function livePerformance(
  rows: readonly LoggedPrediction[],
  options: {
    config: PerformanceConfig;
    window: { start: string; end: string };
    references: ReadonlyMap<number, PerformanceReference>;
    /** The floor when config.minValue is not set (the gate's minimum). */
    defaultMinValue?: number;
  },
): LivePerformance {
  const { window, references } = options;
  const metric = livePerformanceMetric(options.config, 'binary') as BinaryMetricName;
  const config = { ...options.config, metric };
  const minValue = config.minValue ?? (metric === 'rocAuc' ? options.defaultMinValue : undefined);
  const versions = rowsByVersion(rows).map(([version, versionRows]) =>
    judgeVersion(version, versionRows, references.get(version) ?? null, config, minValue, window),
  );
  return { metric, window, minLabelled: config.minLabelled, versions };
}

const hasBinaryLabel = (row: LoggedPrediction) => row.actual === 0 || row.actual === 1;

function judgeVersion(
  version: number,
  rows: LoggedPrediction[],
  reference: PerformanceReference | null,
  config: PerformanceConfig & { metric: BinaryMetricName },
  minValue: number | undefined,
  window: { start: string; end: string },
): VersionPerformance {
  const labelled = rows.filter(hasBinaryLabel);
  const metrics = labelled.length ? liveMetrics(labelled) : null;
  const value = metrics ? metricValue(metrics, config.metric) : null;
  const standardError = metrics && value !== null ? metricStandardError(metrics, config.metric, value) : null;
  const referenceValue = reference ? reference[config.metric] : null;
  const enough = labelled.length >= config.minLabelled;

  // Concept drift.
  const floors: { value: number; why: string }[] = [];
  if (minValue !== undefined) floors.push({ value: minValue, why: `the minimum ${fmt(minValue)}` });
  if (referenceValue !== null && Number.isFinite(referenceValue)) {
    floors.push({
      value: referenceValue - config.maxDrop,
      why: `its test-split ${config.metric} ${fmt(referenceValue)} − ${config.maxDrop}`,
    });
  }
  const floor = floors.length ? Math.max(...floors.map((f) => f.value)) : null;
  let conceptStatus: VersionPerformance['concept']['status'];
  const reasons: string[] = [];
  if (!enough || value === null) {
    conceptStatus = 'insufficient_labels';
    reasons.push(`${labelled.length} labelled predictions, ${config.minLabelled} needed`);
  } else if (floor === null) {
    conceptStatus = 'no_reference';
    reasons.push('no floor: no minimum configured and no test-split metric for this version');
  } else {
    const margin = config.confidenceZ * (standardError ?? 0);
    for (const f of floors) {
      if (value + margin < f.value) {
        reasons.push(
          `live ${config.metric} ${fmt(value)} (± ${fmt(standardError ?? 0)}, ${labelled.length} labels) is below ${f.why} = ${fmt(f.value)}` +
            (margin > 0 ? ` by more than ${config.confidenceZ} standard errors` : ''),
        );
      }
    }
    conceptStatus = reasons.length ? 'drift' : 'ok';
  }

  // Label drift.
  const rate = metrics ? metrics.positiveRate : null;
  const referenceRate = reference && reference.n > 0 ? reference.positives / reference.n : null;
  let labelShift: VersionPerformance['labelShift'];
  if (!config.labelShift.enabled) labelShift = { status: 'off', rate, referenceRate, change: null, pValue: null };
  else if (!enough || rate === null) labelShift = { status: 'insufficient_labels', rate, referenceRate, change: null, pValue: null };
  else if (referenceRate === null || !reference) labelShift = { status: 'no_reference', rate, referenceRate, change: null, pValue: null };
  else {
    const change = rate - referenceRate;
    const { pValue } = twoProportionZTest(reference.positives, reference.n, metrics!.positives, labelled.length);
    const drifted = Math.abs(change) >= config.labelShift.maxChange && pValue < config.labelShift.maxPValue;
    labelShift = { status: drifted ? 'drift' : 'ok', rate, referenceRate, change, pValue };
  }

  return {
    ...labelCoverage(version, rows.length, labelled.length),
    metrics,
    metric: { name: config.metric, value, standardError, reference: referenceValue },
    concept: { status: conceptStatus, floor, reasons },
    labelShift,
    rolling: config.bucketMinutes
      ? rollingBuckets(rows, window, config.bucketMinutes * 60_000, hasBinaryLabel, (bucket) =>
          metricValue(liveMetrics(bucket), config.metric),
        )
      : [],
  };
}

/** Metrics of labelled predictions: the confusion matrix from the model's own labels, ROC AUC and log loss from the probabilities. */
export function liveMetrics(rows: readonly LoggedPrediction[]): LiveMetrics {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  const actual = new Float64Array(rows.length);
  const probability = new Float64Array(rows.length);
  rows.forEach((row, i) => {
    const y = row.actual!;
    actual[i] = y;
    probability[i] = Math.min(1, Math.max(0, row.probability));
    const positive = row.predicted === 1;
    if (y === 1) {
      if (positive) tp++;
      else fn++;
    } else if (positive) fp++;
    else tn++;
  });
  const n = rows.length;
  const scored = binaryClassificationMetrics(actual, probability);
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tp + fn ? tp / (tp + fn) : 0;
  return {
    n,
    positives: tp + fn,
    positiveRate: (tp + fn) / n,
    predictedPositiveRate: (tp + fp) / n,
    accuracy: (tp + tn) / n,
    precision,
    recall,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
    rocAuc: Number.isFinite(scored.rocAuc) ? scored.rocAuc : null,
    logLoss: scored.logLoss,
  };
}

function metricValue(metrics: LiveMetrics, name: BinaryMetricName): number | null {
  return name === 'rocAuc' ? metrics.rocAuc : metrics[name];
}

/**
 * Standard error of the metric: Hanley & McNeil (1982) for ROC AUC; the binomial sqrt(p(1−p)/n)
 * for accuracy; for F1 the binomial error over the rows that decide it (tp + fp + fn), a rough
 * approximation.
 */
export function metricStandardError(metrics: LiveMetrics, name: BinaryMetricName, value: number): number | null {
  if (name === 'rocAuc') {
    const positives = metrics.positives;
    const negatives = metrics.n - positives;
    if (positives === 0 || negatives === 0) return null;
    const a = value;
    const q1 = a / (2 - a);
    const q2 = (2 * a * a) / (1 + a);
    const variance = (a * (1 - a) + (positives - 1) * (q1 - a * a) + (negatives - 1) * (q2 - a * a)) / (positives * negatives);
    return Math.sqrt(Math.max(0, variance));
  }
  if (name === 'accuracy') return Math.sqrt((value * (1 - value)) / metrics.n);
  const deciding = Math.max(
    1,
    Math.round(metrics.positives + metrics.predictedPositiveRate * metrics.n - metrics.recall * metrics.positives),
  );
  return Math.sqrt((value * (1 - value)) / deciding);
}

export interface PerformanceAlertContext {
  model: string;
  /** End of the monitored window: the alert's time and dedup bucket. */
  windowEnd: string;
  reportId?: number;
  dedupWindowMs?: number;
  /** Only these versions raise alerts (e.g. production); default all. */
  versions?: readonly number[];
}

/** Concept-drift and label-drift alerts for the versions that breached (pure). */
export function performanceAlerts(performance: LivePerformance, context: PerformanceAlertContext): AlertInput[] {
  const alerts: AlertInput[] = [];
  for (const v of performance.versions) {
    if (context.versions && !context.versions.includes(v.version)) continue;
    const common = (kind: string) => ({
      incidentKey: incidentKey({
        kind,
        model: context.model,
        version: v.version,
        at: context.windowEnd,
        dedupWindowMs: context.dedupWindowMs,
      }),
      model: context.model,
      version: v.version,
      kind,
      occurredAt: context.windowEnd,
    });
    const details = {
      window: performance.window,
      ...(context.reportId !== undefined ? { reportId: context.reportId } : {}),
      labelled: v.labelled,
      predictions: v.predictions,
      metric: v.metric,
      metrics: v.metrics,
    };
    if (v.concept.status === 'drift') {
      const rose = v.concept.ceiling !== undefined && v.concept.ceiling !== null;
      const bound = rose ? `ceiling ${fmt(v.concept.ceiling)}` : `floor ${fmt(v.concept.floor)}`;
      alerts.push({
        ...common('concept_drift'),
        severity: 'critical',
        title: `${context.model} v${v.version}: concept drift — live ${v.metric.name} ${fmt(v.metric.value)} (${bound})`,
        message:
          `On ${v.labelled} predictions with ground truth, the model's ${v.metric.name} ${rose ? 'rose' : 'fell'} to ${fmt(v.metric.value)} ` +
          `(test split: ${fmt(v.metric.reference)}). The relation between inputs and outcome moved; the model needs fresh data.`,
        lines: v.concept.reasons,
        details: { ...details, floor: v.concept.floor, ...(rose ? { ceiling: v.concept.ceiling } : {}) },
      });
    }
    if (v.labelShift.status === 'drift') {
      const s = v.labelShift;
      alerts.push({
        ...common('label_drift'),
        severity: 'warning',
        title: `${context.model} v${v.version}: label drift — ${s.className ? `share of class ${s.className}` : 'positive share'} ${pct(s.rate)} vs ${pct(s.referenceRate)} in training`,
        message:
          `Ground truth of ${v.labelled} predictions: ${pct(s.rate)} ${s.className ? `of class ${s.className}` : 'positive'}, against ${pct(s.referenceRate)} in the version's test split ` +
          `(change ${s.change! > 0 ? '+' : ''}${pct(s.change)}, p = ${fmt(s.pValue)}). The model's calibration and threshold were chosen for the old rate.`,
        lines: [
          `${s.className ? `share of class ${s.className}` : 'positive share'} ${pct(s.referenceRate)} → ${pct(s.rate)}`,
          s.className ? `chi-squared test of the class shares p = ${fmt(s.pValue)}` : `two-proportion z-test p = ${fmt(s.pValue)}`,
        ],
        details: { ...details, labelShift: s },
      });
    }
  }
  return alerts;
}

function pct(x: number | null | undefined): string {
  return x === null || x === undefined ? 'n/a' : `${(x * 100).toFixed(2)}%`;
}
