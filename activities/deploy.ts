import { currentRun } from './current-run';
import { deployments } from '../src/db/schema';
import { setAlias } from '../src/registry/model-registry';
import type { ActivityDeps } from './deps';

export function deployActivities({ database, onDeployed }: ActivityDeps) {
  return {
    /**
     * Pusher: points `production` at the version (recorded in the alias history) and records the
     * deployment. Model servers read routing from the database, so every replica follows.
     */
    async deployModel(input: { model: string; version: number; reason: string }) {
      const { workflowId, runId } = currentRun();
      const move = await setAlias(database.db, {
        model: input.model,
        alias: 'production',
        version: input.version,
        actor: `workflow:${workflowId}`,
        reason: input.reason,
      });
      await database.db
        .insert(deployments)
        .values({ modelName: input.model, version: input.version, workflowId, idempotencyKey: `${workflowId}/${runId}/deploy` })
        .onConflictDoNothing();
      await onDeployed?.(input.model);
      return { previousVersion: move.fromVersion };
    },
  };
}
