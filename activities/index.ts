import { approvalActivities } from './approval';
import { batchScoreActivities } from './batch-score';
import { canaryActivities } from './canary';
import { deployActivities } from './deploy';
import type { ActivityDeps } from './deps';
import { evaluateActivities } from './evaluate';
import { exportActivities } from './export';
import { featureActivities } from './features';
import { withActivityFailures } from './failures';
import { ingestActivities } from './ingest';
import { monitorActivities } from './monitor';
import { notifyActivities } from './notify';
import { pipelineRunActivities } from './pipeline-run';
import { registerActivities } from './register';
import { reportActivities } from './report';
import { splitActivities } from './split';
import { trainActivities } from './train';
import { trainExternalActivities } from './train-external';
import { validateActivities } from './validate';

export type { ActivityDeps } from './deps';

/**
 * Every activity, built over injected dependencies (one file per stage). Their errors become
 * Temporal failures in one place (./failures): typed domain errors are non-retryable.
 */
export function createActivities(deps: ActivityDeps) {
  return withActivityFailures({
    ...ingestActivities(deps),
    ...validateActivities(deps),
    ...splitActivities(deps),
    ...trainActivities(deps),
    ...trainExternalActivities(deps),
    ...exportActivities(deps),
    ...evaluateActivities(deps),
    ...registerActivities(deps),
    ...reportActivities(deps),
    ...deployActivities(deps),
    ...monitorActivities(deps),
    ...notifyActivities(deps),
    ...canaryActivities(deps),
    ...pipelineRunActivities(deps),
    ...approvalActivities(deps),
    ...batchScoreActivities(deps),
    ...featureActivities(deps),
  });
}

export type Activities = ReturnType<typeof createActivities>;
