import { getDatasetVersion } from '../src/data/dataset-store';
import { countSplits } from '../src/ml/split';
import { DataValidationError } from '../src/shared/errors';
import type { SplitSpec } from '../src/shared/pipeline-input';
import type { ActivityDeps } from './deps';

export function splitActivities({ database }: ActivityDeps) {
  return {
    /**
     * Fixes the train/validation/test split: a pure function of row index and seed, so later
     * stages recompute it identically instead of copying rows. Fails if a split would be empty.
     */
    async splitDataset(input: { datasetVersionId: string; split: SplitSpec }) {
      const version = await getDatasetVersion(database.db, input.datasetVersionId);
      if (!version) throw new Error(`dataset version ${input.datasetVersionId} does not exist`);
      const counts = countSplits(version.rowCount, input.split);
      for (const [name, count] of Object.entries(counts)) {
        if (count === 0) {
          throw new DataValidationError(`split "${name}" is empty (${version.rowCount} rows)`, `split.${name}`, count);
        }
      }
      return counts;
    },
  };
}
