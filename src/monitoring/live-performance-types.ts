import type { ModelTask } from '../shared/model-contract';
import type { PerformanceMetricName } from '../shared/monitoring';

/** What live-performance monitoring reports, per task and per model version (the binary, multiclass and regression monitors share it). */

export interface LiveMetrics {
  n: number;
  positives: number;
  positiveRate: number;
  predictedPositiveRate: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  /** null when only one class was observed. */
  rocAuc: number | null;
  logLoss: number;
}

/** Metrics of a regression model's labelled predictions (errors = prediction − observed value). */
export interface RegressionLiveMetrics {
  n: number;
  rmse: number;
  mae: number;
  /** Mean of the observed values and of the predictions (a bias shows as their difference). */
  meanActual: number;
  meanPrediction: number;
}

/** Metrics of a multiclass model's labelled predictions. */
export interface MulticlassLiveMetrics {
  n: number;
  accuracy: number;
  /** Macro F1 over the classes present among the labels or the predictions (sklearn's default labels). */
  f1Macro: number;
  /** Share of each class among the labels, in the model's class order. */
  classShares: Record<string, number>;
}

export interface VersionPerformance {
  version: number;
  /** Predictions of the version in the window, labelled or not. */
  predictions: number;
  labelled: number;
  /** labelled / predictions (0 without predictions). */
  coverage: number;
  /** Over the labelled predictions; null without any. */
  metrics: LiveMetrics | RegressionLiveMetrics | MulticlassLiveMetrics | null;
  metric: { name: PerformanceMetricName; value: number | null; standardError: number | null; reference: number | null };
  concept: {
    status: 'ok' | 'drift' | 'insufficient_labels' | 'no_reference';
    /** Classification: the binding floor, max(minValue, reference − maxDrop). */
    floor: number | null;
    /** Regression: the binding ceiling, min(maxValue, reference × (1 + maxIncrease)). */
    ceiling?: number | null;
    reasons: string[];
  };
  labelShift: {
    status: 'ok' | 'drift' | 'insufficient_labels' | 'no_reference' | 'off';
    /** Multiclass: the class whose share moved most (rate and referenceRate are its shares). */
    className?: string;
    rate: number | null;
    referenceRate: number | null;
    change: number | null;
    pValue: number | null;
  };
  /** The metric in consecutive buckets of the window (when configured). */
  rolling: { start: string; end: string; predictions: number; labelled: number; value: number | null }[];
}

export interface LivePerformance {
  /** Absent in reports stored before tasks existed: binary. */
  task?: ModelTask;
  metric: PerformanceMetricName;
  /** The predictions judged: the monitor window shifted back by the label delay. */
  window: { start: string; end: string };
  minLabelled: number;
  versions: VersionPerformance[];
}
