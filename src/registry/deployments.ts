import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { deployments } from '../db/schema';
import { currentAliasVersion, lockAlias, lockPromotableVersion, verifyVersionArtifact, writeMove } from './alias-moves';
import type { ArtifactStore } from './artifact-store';
import { inTransaction } from './model-registry';
import { validateAlias, validateModelName, validateVersion } from './names';

/**
 * Deploying a version (the pipeline's pusher): an alias move plus a `deployments` record, exactly
 * once per idempotency key. Its own file because this is the one place a deployment is created;
 * rollbackAlias ends deployments and version-lifecycle.ts refuses versions with a running one.
 */

export interface DeployRequest {
  model: string;
  version: number;
  /** Default `production`. */
  alias?: string;
  actor: string;
  reason: string;
  workflowId: string;
  /** `<workflowId>/<runId>/deploy`: a retried deploy finds its deployment and changes nothing. */
  idempotencyKey: string;
  artifacts?: ArtifactStore;
}

/**
 * Pusher: moves the alias (default `production`) to the version, records the deployment and ends
 * the model's other running deployments, in one transaction. Exactly once per idempotency key: a
 * retry after success returns the recorded outcome and does not move the alias again (even if
 * someone moved it since, e.g. by a rollback, which a blind retry would silently undo).
 */
export async function deployVersion(db: Db, request: DeployRequest): Promise<{ previousVersion: number | null; changed: boolean }> {
  const model = validateModelName(request.model);
  const alias = validateAlias(request.alias ?? 'production');
  validateVersion(request.version);
  const [done] = await db.select().from(deployments).where(eq(deployments.idempotencyKey, request.idempotencyKey));
  if (done) return { previousVersion: done.previousVersion, changed: false };
  if (request.artifacts) await verifyVersionArtifact(db, request.artifacts, model, request.version);
  return inTransaction(db, async (tx) => {
    await lockAlias(tx, model, alias);
    const [again] = await tx.select().from(deployments).where(eq(deployments.idempotencyKey, request.idempotencyKey));
    if (again) return { previousVersion: again.previousVersion, changed: false };
    await lockPromotableVersion(tx, model, request.version, alias);
    const fromVersion = await currentAliasVersion(tx, model, alias);
    const changed = fromVersion !== request.version;
    if (changed) {
      await writeMove(tx, {
        model,
        alias,
        actor: request.actor,
        reason: request.reason,
        fromVersion,
        toVersion: request.version,
        action: 'set',
      });
    }
    await tx
      .update(deployments)
      .set({ endedAt: sql`clock_timestamp()` })
      .where(and(eq(deployments.modelName, model), isNull(deployments.endedAt)));
    await tx.insert(deployments).values({
      modelName: model,
      version: request.version,
      workflowId: request.workflowId,
      idempotencyKey: request.idempotencyKey,
      previousVersion: fromVersion,
    });
    return { previousVersion: fromVersion, changed };
  });
}
