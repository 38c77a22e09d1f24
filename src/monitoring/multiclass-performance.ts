import { mulberry32 } from '../shared/prng';
import type { PerformanceConfig } from '../shared/monitoring';
import { boundFigure, judgeConcept, type Bound } from './concept-bounds';
import { chiSquareTest } from './distances';
import type { LivePerformance, MulticlassLiveMetrics, VersionPerformance } from './live-performance-types';
import { labelCoverage, rollingBuckets, rowsByVersion } from './live-rows';

/**
 * Live performance of a multiclass model: its logged `label` (a class name) against the class
 * that arrived as feedback, per version, compared with the version's test-split macro F1 (or
 * accuracy) — the same rule as for binary models: concept drift when the live metric is below
 * max(minValue, test-split value − maxDrop) by more than `confidenceZ` standard errors.
 * Standard errors: binomial for accuracy; for macro F1, which has no closed form, the standard
 * deviation of 200 bootstrap resamples of the labelled rows (seeded: a report is reproducible).
 *
 * Macro F1 averages the classes present among the window's labels or predictions (sklearn's
 * default), so a class nobody sent in the window does not count as an F1 of 0.
 *
 * Label drift: the class shares of the ground truth against the test split's (chi-squared
 * goodness of fit, the test-split shares taken as exact), when the share of some class moved by at
 * least `labelShift.maxChange` and p < `labelShift.maxPValue`.
 */
export interface LoggedClassification {
  version: number;
  at: number;
  /** The model's class (its `label` output, as a class name). */
  predicted: string;
  /** The observed class, or null when none arrived yet. */
  actual: string | null;
}

/** What a version is compared with: its registered test-split metrics. */
export interface MulticlassReference {
  accuracy: number;
  f1Macro: number;
  n: number;
  /** Test-split rows per class. */
  support: Record<string, number>;
}

const BOOTSTRAP_RESAMPLES = 200;

const hasLabel = (row: LoggedClassification) => row.actual !== null;

export function multiclassPerformance(
  rows: readonly LoggedClassification[],
  options: {
    config: PerformanceConfig;
    metric: 'f1Macro' | 'accuracy';
    classes: readonly string[];
    window: { start: string; end: string };
    references: ReadonlyMap<number, MulticlassReference>;
  },
): LivePerformance {
  const { config, metric, classes, window, references } = options;
  const versions = rowsByVersion(rows).map(([version, all]): VersionPerformance => {
    const labelled = all.filter(hasLabel);
    const metrics = labelled.length ? multiclassMetrics(labelled, classes) : null;
    const value = metrics ? metrics[metric] : null;
    const standardError = metrics && value !== null ? standardErrorOf(labelled, classes, metric, value) : null;
    const reference = references.get(version);
    const referenceValue = reference && Number.isFinite(reference[metric]) ? reference[metric] : null;
    const bounds: Bound[] = [];
    if (config.minValue !== undefined) bounds.push({ value: config.minValue, why: `the minimum ${config.minValue}` });
    if (referenceValue !== null)
      bounds.push({
        value: referenceValue - config.maxDrop,
        why: `its test-split ${metric} ${boundFigure(referenceValue)} − ${config.maxDrop}`,
      });
    const enough = labelled.length >= config.minLabelled;
    return {
      ...labelCoverage(version, all.length, labelled.length),
      metrics,
      metric: { name: metric, value, standardError, reference: referenceValue },
      concept: judgeConcept({
        metric,
        direction: 'higher',
        value,
        standardError,
        labelled: labelled.length,
        minLabelled: config.minLabelled,
        bounds,
        z: config.confidenceZ,
      }),
      labelShift: classShift(metrics, reference ?? null, labelled.length, enough, config),
      rolling: config.bucketMinutes
        ? rollingBuckets(all, window, config.bucketMinutes * 60_000, hasLabel, (labelled) => multiclassMetrics(labelled, classes)[metric])
        : [],
    };
  });
  return { task: 'multiclass', metric, window, minLabelled: config.minLabelled, versions };
}

/** Accuracy, macro F1 (zero_division = 0) and class shares of labelled predictions. */
export function multiclassMetrics(rows: readonly LoggedClassification[], classes: readonly string[]): MulticlassLiveMetrics {
  const tp = new Map<string, number>();
  const actualCount = new Map<string, number>();
  const predictedCount = new Map<string, number>();
  let correct = 0;
  for (const row of rows) {
    const actual = row.actual!;
    actualCount.set(actual, (actualCount.get(actual) ?? 0) + 1);
    predictedCount.set(row.predicted, (predictedCount.get(row.predicted) ?? 0) + 1);
    if (row.predicted === actual) {
      correct++;
      tp.set(actual, (tp.get(actual) ?? 0) + 1);
    }
  }
  const present = new Set([...actualCount.keys(), ...predictedCount.keys()]);
  let f1Sum = 0;
  for (const c of present) {
    const t = tp.get(c) ?? 0;
    const denominator = (actualCount.get(c) ?? 0) + (predictedCount.get(c) ?? 0);
    f1Sum += denominator ? (2 * t) / denominator : 0;
  }
  const n = rows.length;
  return {
    n,
    accuracy: correct / n,
    f1Macro: present.size ? f1Sum / present.size : 0,
    classShares: Object.fromEntries(classes.map((c) => [c, (actualCount.get(c) ?? 0) / n])),
  };
}

function standardErrorOf(
  rows: readonly LoggedClassification[],
  classes: readonly string[],
  metric: 'f1Macro' | 'accuracy',
  value: number,
): number {
  if (metric === 'accuracy') return Math.sqrt((value * (1 - value)) / rows.length);
  const random = mulberry32(0x5eed ^ rows.length);
  const resample = new Array<LoggedClassification>(rows.length);
  let sum = 0;
  let squares = 0;
  for (let b = 0; b < BOOTSTRAP_RESAMPLES; b++) {
    for (let i = 0; i < rows.length; i++) resample[i] = rows[Math.floor(random() * rows.length)];
    const f1 = multiclassMetrics(resample, classes).f1Macro;
    sum += f1;
    squares += f1 * f1;
  }
  const mean = sum / BOOTSTRAP_RESAMPLES;
  return Math.sqrt(Math.max(0, (squares - BOOTSTRAP_RESAMPLES * mean * mean) / (BOOTSTRAP_RESAMPLES - 1)));
}

function classShift(
  metrics: MulticlassLiveMetrics | null,
  reference: MulticlassReference | null,
  labelled: number,
  enough: boolean,
  config: PerformanceConfig,
): VersionPerformance['labelShift'] {
  const none = { rate: null, referenceRate: null, change: null, pValue: null };
  if (!config.labelShift.enabled) return { status: 'off', ...none };
  if (!enough || !metrics) return { status: 'insufficient_labels', ...none };
  const total = reference ? Object.values(reference.support).reduce((a, b) => a + b, 0) : 0;
  if (!reference || total === 0) return { status: 'no_reference', ...none };
  // The class whose share moved most, and a goodness-of-fit test over every class seen on either side.
  const names = [...new Set([...Object.keys(reference.support), ...Object.keys(metrics.classShares)])];
  let moved = names[0];
  let change = 0;
  const observed: number[] = [];
  const expected: number[] = [];
  for (const name of names) {
    const live = metrics.classShares[name] ?? 0;
    const before = (reference.support[name] ?? 0) / total;
    if (Math.abs(live - before) > Math.abs(change)) {
      change = live - before;
      moved = name;
    }
    if (live === 0 && before === 0) continue;
    observed.push(live * labelled);
    expected.push(before * labelled);
  }
  const { pValue } = observed.length >= 2 ? chiSquareTest(observed, expected) : { pValue: 1 };
  const drifted = Math.abs(change) >= config.labelShift.maxChange && pValue < config.labelShift.maxPValue;
  return {
    status: drifted ? 'drift' : 'ok',
    className: moved,
    rate: metrics.classShares[moved] ?? 0,
    referenceRate: (reference.support[moved] ?? 0) / total,
    change,
    pValue,
  };
}
