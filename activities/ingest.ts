import { activityInfo, heartbeat } from '@temporalio/activity';
import { ingestDataset, type IngestResult } from '../src/data/ingest';
import type { TargetRule } from '../src/data/missing-target';
import { defaultSourcePolicy } from '../src/data/source-policy';
import type { DatasetSpec } from '../src/shared/dataset-spec';
import { currentRun } from './current-run';
import type { ActivityDeps } from './deps';

export function ingestActivities({ database, sources = defaultSourcePolicy() }: ActivityDeps) {
  return {
    /**
     * ExampleGen: reads the sources, maps and validates each record, deduplicates, quarantines the
     * rejects and stores a version. With a pipeline's target, records without one are
     * quarantined or fail the ingest (its `missingTarget`). The ingest key is the same for every
     * attempt of this activity, so a retry deletes what a crashed attempt wrote, or returns what a
     * finished one made.
     */
    async ingestDataset(input: { dataset: DatasetSpec; target?: TargetRule }): Promise<IngestResult> {
      const { workflowId, runId } = currentRun();
      const ingestKey = `${workflowId}/${runId}/${activityInfo().activityId}`;
      return ingestDataset(database, input.dataset, {
        ingestKey,
        target: input.target,
        sourceOptions: { policy: sources },
        onProgress: ({ phase, source, scanned, read, accepted, quarantined, duplicates }) =>
          heartbeat({ phase, source, scanned, read, accepted, quarantined, duplicates }),
      });
    },
  };
}
