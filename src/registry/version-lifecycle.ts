import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { deployments, modelAliases, modelVersionEvents, modelVersions, routes } from '../db/schema';
import type { ArtifactStore } from './artifact-store';
import { getModelVersion, inTransaction, lockVersion, type ModelVersion } from './model-registry';
import { RegistryError, validateModelName, validateVersion } from './names';

/**
 * What happens to a registered version afterwards: its tags and description change, it is
 * archived, deleted or restored; every change is recorded in `model_version_events`, which
 * versionEvents reads back.
 */

export type VersionEvent = typeof modelVersionEvents.$inferSelect;
type VersionStatus = 'active' | 'archived' | 'deleted';

/** Changes a version's tags and description (recorded as an event). */
export async function updateVersionMetadata(
  db: Db,
  request: { model: string; version: number; actor: string; setTags?: Record<string, string>; removeTags?: string[]; description?: string },
): Promise<ModelVersion> {
  for (const key of [...Object.keys(request.setTags ?? {}), ...(request.removeTags ?? [])]) {
    if (!/^[A-Za-z0-9_.:/-]{1,128}$/.test(key))
      throw new RegistryError(`invalid tag key ${JSON.stringify(key)}: 1-128 of A-Z a-z 0-9 _ . : / -`);
  }
  return inTransaction(db, async (tx) => {
    const row = await lockVersion(tx, request.model, request.version, 'update');
    const tags = { ...row.tags, ...request.setTags };
    for (const key of request.removeTags ?? []) delete tags[key];
    const description = request.description ?? row.description;
    const [updated] = await tx.update(modelVersions).set({ tags, description }).where(eq(modelVersions.id, row.id)).returning();
    await tx.insert(modelVersionEvents).values({
      modelName: request.model,
      version: request.version,
      action: 'metadata',
      actor: request.actor,
      reason: '',
      details: { setTags: request.setTags ?? {}, removeTags: request.removeTags ?? [], description: request.description ?? null },
      at: sql`clock_timestamp()`,
    });
    return updated;
  });
}

/**
 * Archives a version: it stays (artifact included) and can be restored, but no alias may point to
 * it. Refused while an alias points to it, a deployment of it is running, or a traffic route
 * (canary) uses it.
 */
export function archiveVersion(db: Db, request: { model: string; version: number; actor: string; reason: string }) {
  return changeStatus(db, { ...request, to: 'archived' });
}

/**
 * Deletes a version: its row stays (lineage and "what served at T" remain answerable) but its
 * artifact becomes collectable by the garbage collector once no alias, history within retention
 * or running deployment refers to it. Refused while an alias points to it or a deployment runs.
 */
export function deleteVersion(db: Db, request: { model: string; version: number; actor: string; reason: string }) {
  return changeStatus(db, { ...request, to: 'deleted' });
}

/** Makes an archived or deleted version active again; a deleted one only while its artifact is intact. */
export async function restoreVersion(
  db: Db,
  artifacts: ArtifactStore,
  request: { model: string; version: number; actor: string; reason: string },
): Promise<ModelVersion> {
  const row = await getModelVersion(db, request.model, request.version);
  if (row?.status === 'deleted') {
    await artifacts.get(row.artifactSha256).catch((error: unknown) => {
      throw new RegistryError(`cannot restore ${request.model}@${request.version}: ${(error as Error).message}`);
    });
  }
  return changeStatus(db, { ...request, to: 'active' });
}

async function changeStatus(
  db: Db,
  request: { model: string; version: number; actor: string; reason: string; to: VersionStatus },
): Promise<ModelVersion> {
  validateModelName(request.model);
  validateVersion(request.version);
  if (!request.reason?.trim() && request.to !== 'active')
    throw new RegistryError(`a reason is required to ${request.to === 'deleted' ? 'delete' : 'archive'} a version`);
  return inTransaction(db, async (tx) => {
    const row = await lockVersion(tx, request.model, request.version, 'update');
    const ref = `${request.model}@${request.version}`;
    if (row.status === request.to) return row;
    if (request.to !== 'active') {
      const aliases = await tx
        .select({ alias: modelAliases.alias })
        .from(modelAliases)
        .where(and(eq(modelAliases.modelName, request.model), eq(modelAliases.version, request.version)));
      if (aliases.length > 0) {
        throw new RegistryError(
          `${ref} is the target of ${aliases.map((a) => `"${a.alias}"`).join(', ')}; move or remove the alias before ${request.to === 'deleted' ? 'deleting' : 'archiving'} it`,
        );
      }
      const running = await tx
        .select({ id: deployments.id, workflowId: deployments.workflowId })
        .from(deployments)
        .where(and(eq(deployments.modelName, request.model), eq(deployments.version, request.version), isNull(deployments.endedAt)));
      if (running.length > 0) {
        throw new RegistryError(
          `${ref} has a running deployment (${running.map((d) => d.workflowId).join(', ')}); it cannot be ${request.to}`,
        );
      }
      const [route] = await tx.select().from(routes).where(eq(routes.modelName, request.model));
      if (route && (route.baselineVersion === request.version || route.candidateVersion === request.version)) {
        const role = route.candidateVersion === request.version ? 'candidate' : 'baseline';
        throw new RegistryError(`${ref} is the ${role} of the model's traffic route (a canary rollout); it cannot be ${request.to}`);
      }
    }
    const [updated] = await tx
      .update(modelVersions)
      .set({ status: request.to, statusChangedAt: sql`clock_timestamp()` })
      .where(eq(modelVersions.id, row.id))
      .returning();
    await tx.insert(modelVersionEvents).values({
      modelName: request.model,
      version: request.version,
      action: request.to === 'active' ? 'restore' : request.to === 'archived' ? 'archive' : 'delete',
      actor: request.actor,
      reason: request.reason,
      details: { from: row.status },
      at: sql`clock_timestamp()`,
    });
    return updated;
  });
}

/** Lifecycle events of a version (or of every version of the model), oldest first. */
export async function versionEvents(db: Db, model: string, version?: number): Promise<VersionEvent[]> {
  const byModel = eq(modelVersionEvents.modelName, model);
  return db
    .select()
    .from(modelVersionEvents)
    .where(version === undefined ? byModel : and(byModel, eq(modelVersionEvents.version, version)))
    .orderBy(asc(modelVersionEvents.at), asc(modelVersionEvents.id));
}
