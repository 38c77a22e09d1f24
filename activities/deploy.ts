import { currentRun } from './current-run';
import { deployVersion } from '../src/registry/deployments';
import type { ActivityDeps } from './deps';
import { nonRetryable } from './register';

export function deployActivities({ database, artifacts, onDeployed }: ActivityDeps) {
  return {
    /**
     * Pusher: verifies the version's artifact, points `production` at it (recorded in the alias
     * history), records the deployment and ends the superseded one, in one transaction. Exactly
     * once per workflow run (`<workflowId>/<runId>/deploy`): a retry does not move the alias
     * again. Model servers read routing from the database, so every replica follows.
     */
    async deployModel(input: { model: string; version: number; reason: string }) {
      const { workflowId, runId } = currentRun();
      const outcome = await deployVersion(database.db, {
        model: input.model,
        version: input.version,
        actor: `workflow:${workflowId}`,
        reason: input.reason,
        workflowId,
        idempotencyKey: `${workflowId}/${runId}/deploy`,
        artifacts,
      }).catch((error: unknown) => {
        throw nonRetryable(error);
      });
      await onDeployed?.(input.model);
      return { previousVersion: outcome.previousVersion };
    },
  };
}
