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

  /**
   * A record that cannot be written (after its retries) is logged and the run goes on: the record
   * is for people, and must neither fail a run that deployed nor hide the real cause of a failure.
   */
  async stage(name: string): Promise<void> {
    if (!this.enabled) return;
    await bestEffort(() =>
      recordPipelineRun({ model: this.model, event: { kind: 'stage', name, at: new Date().toISOString(), ...this.outputs } }),
    );
  }

  async finished(status: 'succeeded' | 'rejected'): Promise<void> {
    await bestEffort(() => this.end(status));
  }

  /** Records the failure (or the cancellation) and returns; the caller rethrows, so the run still fails. */
  async failed(error: unknown): Promise<void> {
    const status = isCancellation(error) ? 'cancelled' : 'failed';
    await bestEffort(() => CancellationScope.nonCancellable(() => this.end(status, error)));
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

async function bestEffort(write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (error) {
    // A cancelled run stops here like anywhere else; only the record's own failure is swallowed.
    if (isCancellation(error)) throw error;
    log.warn('the pipeline run record was not written', { error: String(error) });
  }
}
