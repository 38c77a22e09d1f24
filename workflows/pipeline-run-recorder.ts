import { CancellationScope, isCancellation, log, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { PipelineRunOutputs, PipelineRunStatus } from '../src/registry/pipeline-runs';
import { summarizeFailure } from '../src/shared/failure-chain';
import { taskQueues } from '../src/shared/task-queues';

const { recordPipelineRun } = proxyActivities<Activities>({
  taskQueue: taskQueues.control,
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});

/**
 * Writes the pipeline run's record (`pipeline_runs`): each stage as it begins, and the outcome,
 * with the failure's cause chain. Runs started before this existed replay without it: the patch
 * marker is absent from their histories, so they schedule no record activities.
 */
export class PipelineRunRecorder {
  private readonly enabled = patched('record-pipeline-runs');
  private readonly outputs: PipelineRunOutputs = {};

  constructor(private readonly model: string) {}

  /** Ids the run produced; sent with the next event. */
  produced(outputs: PipelineRunOutputs): void {
    Object.assign(this.outputs, outputs);
  }

  async stage(name: string): Promise<void> {
    if (!this.enabled) return;
    await recordPipelineRun({ model: this.model, event: { kind: 'stage', name, at: new Date().toISOString(), ...this.outputs } });
  }

  async finished(status: 'succeeded' | 'rejected'): Promise<void> {
    await this.end(status);
  }

  /**
   * Records the failure (or the cancellation) and returns; the caller rethrows, so the run still
   * fails. A record that cannot be written is logged, never allowed to hide the real failure.
   */
  async failed(error: unknown): Promise<void> {
    const status = isCancellation(error) ? 'cancelled' : 'failed';
    try {
      await CancellationScope.nonCancellable(() => this.end(status, error));
    } catch (recordError) {
      log.warn('the pipeline run record was not written', { error: String(recordError) });
    }
  }

  private async end(status: Exclude<PipelineRunStatus, 'running'>, error?: unknown): Promise<void> {
    if (!this.enabled) return;
    await recordPipelineRun({
      model: this.model,
      event: {
        kind: 'finished',
        status,
        at: new Date().toISOString(),
        ...this.outputs,
        ...(error !== undefined && { failure: summarizeFailure(error) }),
      },
    });
  }
}
