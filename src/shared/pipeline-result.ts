import type { ApprovalRecord, IgnoredApprovalSignal } from './approval';
import type { Finding, MonitorActions, MonitorAlertSummary, Period } from './monitoring';

/** What a finished training pipeline reports. Pure types, shared by workflow and clients. */
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

interface PipelineOutcome {
  model: string;
  datasetVersionId: string;
  /** The training run whose model was evaluated (the best trial when tuning). */
  trainingRunId: string;
  /** Trials trained (1 without tuning). */
  trials: number;
  metrics: ModelMetrics;
  /** The production version scored on the same test split, when there was one. */
  production?: { version: number; metrics: ModelMetrics };
  gate: { passed: boolean; reasons: string[] };
}

export type TrainingPipelineResult =
  | (PipelineOutcome & {
      status: 'registered';
      version: number;
      /** `production` now points at the version (a direct deploy). */
      deployed: boolean;
      artifactSha256: string;
      /** With `rollout.strategy: canary`: the rollout the pipeline started (it runs on after the pipeline). */
      rollout?: { strategy: 'canary'; workflowId: string; runId: string };
      /** With `approval.required`: who approved, when, why and how. */
      approval?: ApprovalOutcome;
    })
  | (PipelineOutcome & { status: 'rejected'; reason: string })
  | (PipelineOutcome & {
      /** The gate passed and the version is registered, but the approver (or the timeout) rejected it: not deployed. */
      status: 'rejected-by-approver';
      version: number;
      deployed: false;
      artifactSha256: string;
      reason: string;
      approval: ApprovalOutcome;
    });

/** The decision on a pipeline's approval, and the signals that decided nothing. */
export interface ApprovalOutcome {
  decision: ApprovalRecord;
  ignoredSignals: IgnoredApprovalSignal[];
}

/** What one monitoring report found and what the monitor did (the `monitor` workflow's result). */
export interface DriftReportSummary {
  reportId: number;
  model: string;
  /** The version monitored (production, or the version that served a past window). */
  version: number;
  /** `drift`: a drift finding (data, prediction, concept, label); `insufficient_data`: too few rows and labels for any verdict. */
  status: 'ok' | 'drift' | 'insufficient_data';
  /** Logged predictions of the monitored version in the window. */
  rowCount: number;
  driftedFeatures: string[];
  message: string;
  window: { start: string; end: string };
  /** The source-data period the window stands for (what a retraining reads). */
  dataPeriod: Period | null;
  findings: Finding[];
  /** The monitored version's live performance, when judged. */
  performance: {
    version: number;
    labelled: number;
    metric: string;
    value: number | null;
    reference: number | null;
    concept: string;
    positiveRate: number | null;
    referencePositiveRate: number | null;
    labelShift: string;
  } | null;
  /** Alerts stored for this report (and for the actions taken). */
  alerts: MonitorAlertSummary[];
  actions: MonitorActions;
}
