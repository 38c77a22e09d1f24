import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { checkApprovalProof } from '../../src/registry/approval-proof';
import type { ApprovalRecord } from '../../src/shared/approval';
import { ApprovalRefusedErrorType } from '../../src/shared/errors';
import type { BinaryMetrics } from '../../src/shared/model-metrics';
import type { z } from 'zod';
import type { trainingPipelineInputSchema } from '../../src/shared/pipeline-input';

type TrainingPipelineRequest = z.input<typeof trainingPipelineInputSchema>;

/**
 * Mocked trainingPipeline activities: the data and training stages answer at once with fixed ids
 * and metrics (a candidate slightly better than production v1), the registry answers version 2,
 * and deploys, approval requests and decisions are recorded in memory. The proof check is the
 * real one (src/registry/approval-proof.ts) over `adminKeys`.
 */

const PRODUCTION = 1;
export const CANDIDATE = 2;

/** Binary validation metrics that differ only in ROC AUC, which is what the gate and tuning rank by. */
export const metrics = (rocAuc: number): BinaryMetrics => ({
  task: 'binary',
  n: 1000,
  positives: 200,
  accuracy: 0.8,
  precision: 0.6,
  recall: 0.5,
  f1: 0.55,
  rocAuc,
  logLoss: 0.4,
  confusionMatrix: { tp: 100, fp: 67, tn: 733, fn: 100 },
});

interface PipelineRecord {
  deploys: { model: string; version: number; reason: string }[];
  rollouts: unknown[];
  requests: { model: string; version: number; deadline: string; onTimeout: string }[];
  decisions: ApprovalRecord[];
  proofChecks: number;
  /** Stages entered and how the run finished, as recorded in pipeline_runs. */
  pipelineEvents: string[];
}

/** `hold.register` / `hold.deploy`: awaited before the activity answers, so a test can act while the pipeline is there. */
export function mockPipelineActivities(
  options: { adminKeys?: string[]; hold?: { register?: Promise<void>; deploy?: Promise<void> } } = {},
) {
  const record: PipelineRecord = { deploys: [], rollouts: [], requests: [], decisions: [], proofChecks: 0, pipelineEvents: [] };
  const activities = {
    async ingestDataset() {
      return { datasetVersionId: 'dataset-1', rowsRead: 1000, rowCount: 1000, quarantinedCount: 0, duplicateCount: 0 };
    },
    async validateDataset() {
      return { rowCount: 1000, quarantinedCount: 0, duplicateCount: 0 };
    },
    async splitDataset() {
      return { train: 700, validation: 150, test: 150 };
    },
    async trainModel() {
      return {
        trainingRunId: 'run-1',
        modelArtifactSha256: 'a'.repeat(64),
        iterations: 10,
        trainSeconds: 1,
        validationMetrics: metrics(0.81),
      };
    },
    async exportModel() {
      return { onnxSha256: 'b'.repeat(64), bytes: 1234, contract: { inputs: [], outputs: [] } };
    },
    async evaluateModel() {
      return { metrics: metrics(0.82), production: { version: PRODUCTION, metrics: metrics(0.8) } };
    },
    async recordEvaluation() {},
    async registerModel() {
      await options.hold?.register;
      return { version: CANDIDATE };
    },
    async deployModel(input: { model: string; version: number; reason: string }) {
      await options.hold?.deploy;
      record.deploys.push(input);
      return { previousVersion: PRODUCTION };
    },
    async requestApproval(input: { model: string; version: number; deadline: string; onTimeout: string }) {
      record.requests.push({ model: input.model, version: input.version, deadline: input.deadline, onTimeout: input.onTimeout });
      return { alert: null };
    },
    async verifyApprovalProof(input: { version: number; decision: 'approve' | 'reject'; proof?: string }) {
      record.proofChecks++;
      const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
      const check = checkApprovalProof(options.adminKeys ?? [], { workflowId, ...input });
      if (check.status === 'refused') throw ApplicationFailure.nonRetryable(check.why, ApprovalRefusedErrorType);
      return { authenticated: check.status === 'valid' };
    },
    async recordApprovalDecision(decision: ApprovalRecord) {
      record.decisions.push(decision);
    },
    // The pipeline_runs record (errors branch): its events, stage by stage.
    async recordPipelineRun(input: { event: { kind: string; name?: string } }) {
      record.pipelineEvents.push(input.event.kind === 'stage' ? (input.event.name ?? '') : input.event.kind);
    },
    // The run's HTML report (reports branch), stored when the run has its outcome.
    async storeRunReport(_input: { trainingRunId: string }) {
      return { sha256: '0'.repeat(64), bytes: 0 };
    },
  };
  return { activities, record };
}

/** A binary pipeline input (the mocks ignore its data and trainer); `approval` as given. */
export function pipelineInput(model: string, approval: TrainingPipelineRequest['approval']): TrainingPipelineRequest {
  return {
    model,
    dataset: {
      name: `${model}-data`,
      source: { format: 'parquet', path: 'vega-datasets:flights-3m.parquet' },
      recipe: 'flights',
      period: { from: '2001-01-01', to: '2001-02-01' },
    },
    rules: { minRows: 10, maxNullFraction: 0.05 },
    features: [{ name: 'distance', kind: 'numeric' }],
    target: 'delayed',
    trainer: { kind: 'logistic-regression', l2: 0.0001, maxIterations: 10, tolerance: 1e-6, maxCategories: 10 },
    split: { seed: 1, train: 0.7, validation: 0.15, test: 0.15 },
    gate: { minRocAuc: 0.6 },
    deploy: true,
    approval,
  };
}
