import type { WebhookTarget } from '../../src/shared/notifications';
import type { MonitorRequest } from '../../src/shared/monitoring';
import { trainingPipelineInputSchema, type TrainingPipelineInput } from '../../src/shared/pipeline-input';
import type { ProjectConfig } from '../../src/shared/project-config';

/**
 * The scenario's settings, derived from keel.config.json: the same pipeline (trained on January
 * 2001) deployed through a short canary, and the same monitor settings with retraining on: two
 * consecutive drifted months start trainingPipeline on those months' flights.
 *
 * Months are replayed in seconds, so the canary's steps bake seconds. Incidents are keyed by the
 * replayed month (each monitor run names its `dataPeriod`), so the default one-day deduplication
 * keeps months apart.
 */
export function scenarioConfig(
  base: ProjectConfig,
  options: { model: string; webhooks?: WebhookTarget[]; afterConsecutive?: number },
): { pipeline: TrainingPipelineInput; monitor: Omit<MonitorRequest, 'model' | 'window' | 'dataPeriod' | 'loop'> } {
  const pipeline = trainingPipelineInputSchema.parse({
    ...base.pipeline,
    model: options.model,
    rollout: {
      strategy: 'canary',
      steps: [25, 100],
      bakeSeconds: 4,
      checkEverySeconds: 2,
      // Latency keeps the default rule (judged after a 10 s warm-up, a breach confirmed by two
      // consecutive checks): a freshly loaded version's first slow batches no longer roll it back.
      health: { minRequests: 50 },
    },
  });
  return {
    pipeline,
    monitor: {
      windowMinutes: 60,
      minRows: base.monitor.minRows,
      maxRows: base.monitor.maxRows,
      drift: base.monitor.drift,
      performance: { ...base.monitor.performance, minLabelled: 500 },
      notifications: {
        webhooks: options.webhooks ?? [],
        retry: { maximumAttempts: 3, initialIntervalSeconds: 0.5 },
      },
      policy: {
        rollback: { enabled: true },
        retrain: { enabled: true, afterConsecutive: options.afterConsecutive ?? 2, pipeline },
      },
    },
  };
}
