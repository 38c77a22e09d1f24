import type { ApprovalRecord, IgnoredApprovalSignal } from './approval';
import type { ModelMetrics } from './model-metrics';
import type { Finding, MonitorActions, MonitorAlertSummary, Period } from './monitoring';

/** What a finished training pipeline reports. Pure types, shared by workflow and clients. */
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
