import { activityInfo } from '@temporalio/activity';
import { materializeView, type MaterializeResult } from '../src/features/materialize';
import { buildTrainingSet, type TrainingSetView } from '../src/features/training-set';
import { getView } from '../src/features/view-store';
import { intervalMs } from '../src/shared/interval';
import type { ContractFeatureView } from '../src/shared/model-contract';
import { currentRun } from './current-run';
import type { ActivityDeps } from './deps';
import { heartbeating } from './heartbeating';

export function featureActivities({ database }: ActivityDeps) {
  return {
    /**
     * The point-in-time training set: the ingested rows joined with the feature views' values as
     * of each row's time minus the lag, stored as a dataset version whose lineage names the view
     * versions and the dataset versions they were computed from. Returns what the model's
     * contract records: the views whose features it takes, and their serving policy.
     */
    async buildTrainingSet(input: { datasetVersionId: string; views: string[]; features: string[] }): Promise<{
      datasetVersionId: string;
      contentHash: string;
      rowCount: number;
      views: TrainingSetView[];
      contractViews: ContractFeatureView[];
    }> {
      const { workflowId, runId } = currentRun();
      // A point-in-time join is one long step: its progress goes out with the heartbeats.
      const built = await heartbeating({ step: 'starting' }, (report) =>
        buildTrainingSet(database, input.datasetVersionId, input.views, {
          ingestKey: `${workflowId}/${runId}/${activityInfo().activityId}`,
          onProgress: (step) => report({ step }),
        }),
      );
      const contractViews: ContractFeatureView[] = [];
      for (const used of built.views) {
        const features = used.features.filter((name) => input.features.includes(name));
        if (features.length === 0) continue;
        const { view, joinKeys } = await getView(database.db, used.name);
        contractViews.push({
          view: used.name,
          version: used.version,
          joinKeys,
          features,
          onMissing: view.onMissing,
          defaults: Object.fromEntries(Object.entries(view.defaults).filter(([name]) => features.includes(name))),
          ttlMs: view.ttl ? intervalMs(view.ttl) : undefined,
        });
      }
      return { ...built, contractViews };
    },

    /** One view's materialisation into the online store (see src/features/materialize.ts). */
    async materializeFeatureView(input: { view: string; id: string; asOf?: string; backfill?: boolean }): Promise<MaterializeResult> {
      return heartbeating({ step: 'materializing' }, () =>
        materializeView(database, input.view, { id: input.id, asOf: input.asOf, backfill: input.backfill }),
      );
    },
  };
}
