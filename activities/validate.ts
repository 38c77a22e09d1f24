import { checkDatasetRules, profileDataset } from '../src/data/profile';
import { getDatasetVersion, readDatasetRows, saveProfile } from '../src/data/dataset-store';
import type { DatasetRules } from '../src/shared/pipeline-input';
import type { ActivityDeps } from './deps';

export function validateActivities({ database }: ActivityDeps) {
  return {
    /**
     * StatisticsGen + ExampleValidator: profiles the version once (the profile is the drift
     * reference later) and checks the dataset-level rules; a failed rule is non-retryable.
     */
    async validateDataset(input: { datasetVersionId: string; rules: DatasetRules }) {
      const version = await getDatasetVersion(database.db, input.datasetVersionId);
      if (!version) throw new Error(`dataset version ${input.datasetVersionId} does not exist`);
      let profile = version.profile as ReturnType<typeof profileDataset> | null;
      if (!profile) {
        const rows = await readDatasetRows(database.db, version.id);
        profile = profileDataset(rows, version.columns as Parameters<typeof profileDataset>[1]);
        await saveProfile(database.db, version.id, profile);
      }
      checkDatasetRules(version, profile, input.rules);
      return { rowCount: version.rowCount, quarantinedCount: version.quarantinedCount };
    },
  };
}
