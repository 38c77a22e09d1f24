/** What a finished training pipeline reports. Pure types, shared by workflow and clients. */
export interface BinaryMetrics {
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

interface PipelineOutcome {
  model: string;
  datasetVersionId: string;
  /** The training run whose model was evaluated (the best trial when tuning). */
  trainingRunId: string;
  /** Trials trained (1 without tuning). */
  trials: number;
  metrics: BinaryMetrics;
  /** The production version scored on the same test split, when there was one. */
  production?: { version: number; metrics: BinaryMetrics };
  gate: { passed: boolean; reasons: string[] };
}

export type TrainingPipelineResult =
  | (PipelineOutcome & { status: 'registered'; version: number; deployed: boolean; artifactSha256: string })
  | (PipelineOutcome & { status: 'rejected'; reason: string });

export interface DriftReportSummary {
  reportId: number;
  model: string;
  version: number;
  status: 'ok' | 'drift' | 'insufficient_data';
  rowCount: number;
  driftedFeatures: string[];
}
