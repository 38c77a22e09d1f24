import type { ScoreMeaning } from './task-evaluation';
import { readNumber } from './row';

/**
 * The points behind the evaluation plots (ROC, precision-recall, calibration, residuals),
 * computed once from the test split's labels and scores while evaluating, and stored with the
 * evaluation: the dashboard and the HTML reports draw them without rescoring the test split.
 * Curves are thinned to at most MAX_CURVE_POINTS points (a few kilobytes per run: they travel in
 * the workflow's history), always keeping both ends and the model's operating point.
 */

export const MAX_CURVE_POINTS = 200;
const CALIBRATION_BINS = 10;
export const MAX_RESIDUAL_POINTS = 500;

interface OperatingPoint {
  threshold: number;
  fpr: number;
  tpr: number;
  precision: number;
  recall: number;
}

export interface BinaryCurves {
  task: 'binary';
  /** ROC: false and true positive rate when rows scoring > threshold are called positive. */
  roc: { threshold: number; fpr: number; tpr: number }[];
  /** Precision against recall at the same thresholds (precision 1 where nothing is called positive). */
  pr: { threshold: number; recall: number; precision: number }[];
  /** Equal-width probability bins: mean predicted probability against the observed positive share. */
  calibration: { bin: number; meanPredicted: number; observed: number; count: number }[];
  /** Where the model's decision threshold puts it on both curves. */
  operatingPoint: OperatingPoint;
}

export interface RegressionCurves {
  task: 'regression';
  /** Up to MAX_RESIDUAL_POINTS test rows, evenly spaced: prediction, actual value, residual (actual − prediction). */
  residuals: { prediction: number; actual: number; residual: number }[];
}

/** Multiclass plots (confusion matrix, per-class metrics) come from the metrics themselves. */
export type EvaluationCurves = BinaryCurves | RegressionCurves;

export function evaluationCurves(meaning: ScoreMeaning, labels: readonly unknown[], scores: Float64Array): EvaluationCurves | undefined {
  if (meaning.task === 'binary') return binaryCurves(Float64Array.from(labels, readNumber), scores, meaning.threshold ?? 0.5);
  if (meaning.task === 'regression') return regressionCurves(Float64Array.from(labels, readNumber), scores);
  return undefined;
}

export function binaryCurves(labels: ArrayLike<number>, proba: ArrayLike<number>, threshold: number): BinaryCurves {
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => proba[b] - proba[a]);
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i] === 1 ? 1 : 0;
  const negatives = n - positives;
  const rate = (count: number, of: number) => (of === 0 ? 0 : count / of);

  // One point per distinct score: everything scoring above it is called positive.
  const full: { threshold: number; tp: number; fp: number }[] = [{ threshold: 1, tp: 0, fp: 0 }];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k];
    if (labels[i] === 1) tp++;
    else fp++;
    if (k === n - 1 || proba[order[k + 1]] !== proba[i]) full.push({ threshold: proba[i], tp, fp });
  }
  const kept = thin(full, MAX_CURVE_POINTS);
  const roc = kept.map((p) => ({ threshold: p.threshold, fpr: rate(p.fp, negatives), tpr: rate(p.tp, positives) }));
  const pr = kept.map((p) => ({
    threshold: p.threshold,
    recall: rate(p.tp, positives),
    precision: p.tp + p.fp === 0 ? 1 : p.tp / (p.tp + p.fp),
  }));

  let opTp = 0;
  let opFp = 0;
  for (let i = 0; i < n; i++) {
    if (proba[i] > threshold) {
      if (labels[i] === 1) opTp++;
      else opFp++;
    }
  }
  const operatingPoint = {
    threshold,
    fpr: rate(opFp, negatives),
    tpr: rate(opTp, positives),
    precision: opTp + opFp === 0 ? 1 : opTp / (opTp + opFp),
    recall: rate(opTp, positives),
  };
  return { task: 'binary', roc, pr, calibration: calibration(labels, proba), operatingPoint };
}

function calibration(labels: ArrayLike<number>, proba: ArrayLike<number>): BinaryCurves['calibration'] {
  const sums = new Float64Array(CALIBRATION_BINS);
  const hits = new Float64Array(CALIBRATION_BINS);
  const counts = new Float64Array(CALIBRATION_BINS);
  for (let i = 0; i < labels.length; i++) {
    const bin = Math.min(CALIBRATION_BINS - 1, Math.floor(proba[i] * CALIBRATION_BINS));
    sums[bin] += proba[i];
    hits[bin] += labels[i] === 1 ? 1 : 0;
    counts[bin]++;
  }
  return Array.from({ length: CALIBRATION_BINS }, (_, bin) => bin)
    .filter((bin) => counts[bin] > 0)
    .map((bin) => ({ bin, meanPredicted: sums[bin] / counts[bin], observed: hits[bin] / counts[bin], count: counts[bin] }));
}

export function regressionCurves(actual: ArrayLike<number>, predicted: ArrayLike<number>): RegressionCurves {
  const indices = thin(
    Array.from({ length: actual.length }, (_, i) => i),
    MAX_RESIDUAL_POINTS,
  );
  return {
    task: 'regression',
    residuals: indices.map((i) => ({ prediction: predicted[i], actual: actual[i], residual: actual[i] - predicted[i] })),
  };
}

/** At most `max` items evenly spaced over `items`, the first and the last always among them. */
export function thin<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  const step = (items.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, k) => items[Math.round(k * step)]);
}
