import { validateDatasetVersion } from '../src/data/validate';
import type { DatasetRules } from '../src/shared/dataset-spec';
import type { ActivityDeps } from './deps';

export function validateActivities({ database }: ActivityDeps) {
  return {
    /**
     * StatisticsGen + ExampleValidator: the version's profile (computed while ingesting; it is the
     * drift reference later) and the dataset-level rules; a failed rule is non-retryable.
     */
    async validateDataset(input: { datasetVersionId: string; rules: DatasetRules }) {
      const { version } = await validateDatasetVersion(database.db, input.datasetVersionId, input.rules);
      return { rowCount: version.rowCount, quarantinedCount: version.quarantinedCount, duplicateCount: version.duplicateCount };
    },
  };
}
