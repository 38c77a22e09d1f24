import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { aliasHistory, modelAliases } from '../db/schema';
import type { ArtifactStore } from './artifact-store';
import { getModelVersion, lockVersion, type ModelVersion, type Tx } from './model-registry';
import { RegistryError } from './names';

/**
 * The steps every alias move takes: lock the alias, check and lock the target version, verify its
 * artifact, write the alias row with its history entry. setAlias, removeAlias and rollbackAlias
 * (aliases.ts) and deployVersion (deployments.ts) share them, so there is one write path for
 * aliases; they are internal to src/registry/.
 */

export async function lockAlias(tx: Tx, model: string, alias: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${model}), hashtext(${alias}))`);
}

/** Locks the version against a concurrent archive/delete and refuses one that cannot be promoted. */
export async function lockPromotableVersion(tx: Tx, model: string, version: number, alias: string): Promise<ModelVersion> {
  const row = await lockVersion(tx, model, version, 'share');
  if (row.status === 'deleted') {
    throw new RegistryError(`${model}@${version} is deleted; alias "${alias}" cannot point to a deleted version (restore it first)`);
  }
  if (row.status === 'archived') {
    throw new RegistryError(`${model}@${version} is archived; alias "${alias}" cannot point to it (restore it first)`);
  }
  return row;
}

export async function currentAliasVersion(tx: Tx, model: string, alias: string): Promise<number | null> {
  const [current] = await tx
    .select({ version: modelAliases.version })
    .from(modelAliases)
    .where(and(eq(modelAliases.modelName, model), eq(modelAliases.alias, alias)));
  return current?.version ?? null;
}

export async function writeMove(
  tx: Tx,
  move: {
    model: string;
    alias: string;
    actor: string;
    reason: string;
    fromVersion: number | null;
    toVersion: number;
    action: 'set' | 'rollback';
  },
): Promise<void> {
  await tx
    .insert(modelAliases)
    .values({ modelName: move.model, alias: move.alias, version: move.toVersion, updatedAt: sql`clock_timestamp()` })
    .onConflictDoUpdate({
      target: [modelAliases.modelName, modelAliases.alias],
      set: { version: move.toVersion, updatedAt: sql`clock_timestamp()` },
    });
  await tx.insert(aliasHistory).values({
    modelName: move.model,
    alias: move.alias,
    fromVersion: move.fromVersion,
    toVersion: move.toVersion,
    action: move.action,
    actor: move.actor,
    reason: move.reason,
    at: historyNow,
  });
}

/**
 * The time of a history entry: taken after the alias lock (so it orders like the moves do), and
 * in milliseconds, what JavaScript dates hold: asking "at T" with a time read from the history
 * then finds that very entry.
 */
export const historyNow = sql`date_trunc('milliseconds', clock_timestamp())`;

/** Reads a version's artifact, which verifies its sha256; throws a RegistryError naming the version otherwise. */
export async function verifyVersionArtifact(db: Db, artifacts: ArtifactStore, model: string, version: number): Promise<ModelVersion> {
  const row = await getModelVersion(db, model, version);
  if (!row) throw new RegistryError(`model "${model}" has no version ${version}`);
  const bytes = await artifacts.get(row.artifactSha256).catch((error: unknown) => {
    throw new RegistryError(`refusing ${model}@${version}: ${(error as Error).message}`);
  });
  if (bytes.byteLength !== row.artifactBytes) {
    throw new RegistryError(
      `refusing ${model}@${version}: its artifact has ${bytes.byteLength} bytes, the registry recorded ${row.artifactBytes}`,
    );
  }
  return row;
}
