import { currentRun } from './current-run';
import { and, eq, gte, lt } from 'drizzle-orm';
import { getDatasetVersion } from '../src/data/dataset-store';
import { driftReports, predictionLog } from '../src/db/schema';
import { computeDriftReport } from '../src/monitoring/drift-report';
import type { FeatureReference } from '../src/monitoring/psi';
import { resolveAlias } from '../src/registry/model-registry';
import type { MonitorInput } from '../src/shared/pipeline-input';
import type { DriftReportSummary } from '../src/shared/pipeline-result';
import type { ActivityDeps } from './deps';

interface Contract {
  inputs: { name: string }[];
}

export function monitorActivities({ database }: ActivityDeps) {
  return {
    /**
     * Compares the production version's logged inputs over the window with its training data
     * profile and stores the report, once per monitor run however often the activity retries.
     */
    async computeDriftReport(input: MonitorInput): Promise<DriftReportSummary> {
      const { workflowId, runId } = currentRun();
      const runKey = `${workflowId}/${runId}`;
      const production = await resolveAlias(database.db, input.model, 'production');
      if (!production) throw new Error(`model "${input.model}" has no production version to monitor`);
      const dataset = await getDatasetVersion(database.db, production.datasetVersionId);
      const profile = dataset?.profile as Record<string, { reference: FeatureReference }> | null | undefined;
      if (!profile) throw new Error(`dataset version ${production.datasetVersionId} has no profile to compare with`);

      const windowEnd = new Date();
      const windowStart = new Date(windowEnd.getTime() - input.windowMinutes * 60_000);
      const logged = await database.db
        .select({ inputs: predictionLog.inputs })
        .from(predictionLog)
        .where(
          and(
            eq(predictionLog.modelName, input.model),
            eq(predictionLog.version, production.version),
            gte(predictionLog.createdAt, windowStart),
            lt(predictionLog.createdAt, windowEnd),
          ),
        );
      const features = (production.contract as Contract).inputs.map((i) => i.name);
      const references = Object.fromEntries(features.map((f) => [f, profile[f]?.reference])) as Record<string, FeatureReference>;
      const report = computeDriftReport({
        references,
        features,
        inputs: logged.map((l) => l.inputs as Record<string, unknown>),
        minRows: input.minRows,
        psiThreshold: input.psiThreshold,
      });
      await database.db
        .insert(driftReports)
        .values({
          runKey,
          modelName: input.model,
          version: production.version,
          referenceDatasetVersionId: production.datasetVersionId,
          windowStart,
          windowEnd,
          rowCount: report.rowCount,
          status: report.status,
          features: { message: report.message, features: report.features },
        })
        .onConflictDoNothing();
      const [stored] = await database.db.select().from(driftReports).where(eq(driftReports.runKey, runKey));
      return {
        reportId: stored.id,
        model: input.model,
        version: stored.version,
        status: stored.status as DriftReportSummary['status'],
        rowCount: stored.rowCount,
        driftedFeatures: report.features.filter((f) => f.drifted).map((f) => f.feature),
      };
    },
  };
}
