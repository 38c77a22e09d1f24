import { storeRunReport } from '../src/reports/stored-run-report';
import type { ActivityDeps } from './deps';

export function reportActivities({ database, artifacts }: ActivityDeps) {
  return {
    /**
     * Renders the run's self-contained HTML report when the pipeline ends and stores it as an
     * artifact linked from the training run (and so from the model version it made).
     */
    async storeRunReport(input: { trainingRunId: string }): Promise<{ sha256: string; bytes: number }> {
      return storeRunReport(database.db, artifacts, input.trainingRunId);
    },
  };
}
