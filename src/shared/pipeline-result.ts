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

export type TrainingPipelineResult =
  | {
      status: 'registered';
      model: string;
      version: number;
      deployed: boolean;
      datasetVersionId: string;
      artifactSha256: string;
      metrics: BinaryMetrics;
    }
  | {
      status: 'rejected';
      model: string;
      reason: string;
      datasetVersionId: string;
      metrics: BinaryMetrics;
    };

export interface DriftReportSummary {
  reportId: number;
  model: string;
  version: number;
  status: 'ok' | 'drift' | 'insufficient_data';
  rowCount: number;
  driftedFeatures: string[];
}
