/** Metrics of a binary classifier on labelled rows (sklearn's definitions). */
export interface BinaryMetrics {
  /** Absent in metrics stored before tasks existed (those are binary). */
  task?: 'binary';
  n: number;
  positives: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  rocAuc: number;
  logLoss: number;
  confusionMatrix: { tp: number; fp: number; tn: number; fn: number };
}

/** Metrics of a regression model on labelled rows (sklearn's definitions). */
export interface RegressionMetrics {
  task: 'regression';
  n: number;
  rmse: number;
  mae: number;
  /** Coefficient of determination: 1 - SS_res / SS_tot (sklearn r2_score; NaN when the labels are constant). */
  r2: number;
  /** Mean of the labels, and of the predictions (a biased model shows here first). */
  meanLabel: number;
  meanPrediction: number;
}

/** Metrics of a multiclass model (sklearn's definitions, zero_division=0). */
export interface MulticlassMetrics {
  task: 'multiclass';
  n: number;
  /** Class names; index i of every per-class array and of the confusion matrix. */
  classes: string[];
  accuracy: number;
  precisionMacro: number;
  recallMacro: number;
  f1Macro: number;
  precisionWeighted: number;
  recallWeighted: number;
  f1Weighted: number;
  /** Mean negative log-likelihood of the true class, probabilities clipped to [1e-15, 1 - 1e-15]. */
  logLoss: number;
  /** One-vs-rest ROC AUC averaged over the classes (sklearn roc_auc_score(multi_class='ovr', average='macro')). */
  rocAucOvr: number;
  perClass: { class: string; support: number; precision: number; recall: number; f1: number }[];
  /** confusionMatrix[true][predicted], counts. */
  confusionMatrix: number[][];
}

/** Evaluation metrics of any task; `task` absent means binary (stored before tasks existed). */
export type ModelMetrics = BinaryMetrics | RegressionMetrics | MulticlassMetrics;

/** The metrics of a binary model; throws for another task (a caller that assumed binary). */
export function binaryMetricsOf(metrics: ModelMetrics): BinaryMetrics {
  if (metrics.task === undefined || metrics.task === 'binary') return metrics;
  throw new Error(`expected the metrics of a binary model, got ${metrics.task}`);
}
