import { recordPipelineRunEvent, type PipelineRunEvent } from '../src/registry/pipeline-runs';
import { currentRun } from './current-run';
import type { ActivityDeps } from './deps';

export interface RecordPipelineRunInput {
  model: string;
  event: PipelineRunEvent;
}

export function pipelineRunActivities({ database }: ActivityDeps) {
  return {
    /** One event of the calling pipeline run (a stage began, the run ended); idempotent. */
    async recordPipelineRun(input: RecordPipelineRunInput): Promise<void> {
      await recordPipelineRunEvent(database.db, currentRun(), input.model, input.event);
    },
  };
}
