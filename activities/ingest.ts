import { heartbeat } from '@temporalio/activity';
import { ingestDataset, type IngestResult } from '../src/data/ingest';
import type { DatasetSpec } from '../src/shared/pipeline-input';
import type { ActivityDeps } from './deps';

export function ingestActivities({ database }: ActivityDeps) {
  return {
    /** ExampleGen: reads the source, validates each row, quarantines the rejects, stores a version. */
    async ingestDataset(input: { dataset: DatasetSpec }): Promise<IngestResult> {
      return ingestDataset(database, input.dataset, { onProgress: (read) => heartbeat({ read }) });
    },
  };
}
