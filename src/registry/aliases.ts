import { and, asc, desc, eq, isNull, lte, sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { aliasHistory, deployments, modelAliases, modelVersions } from '../db/schema';
import { currentAliasVersion, historyNow, lockAlias, lockPromotableVersion, verifyVersionArtifact, writeMove } from './alias-moves';
import type { ArtifactStore } from './artifact-store';
import { getModelVersion, inTransaction, type ModelVersion } from './model-registry';
import { RegistryError, validateAlias, validateModelName, validateVersion } from './names';

/**
 * Moving a model's aliases: set, remove and roll back, each appended to the alias history in the
 * same transaction, and reading that history ("what was `production` at time T?"). Reading where
 * an alias points now is in model-registry.ts, with the other reads of versions.
 */

export type AliasMove = typeof aliasHistory.$inferSelect;

export interface AliasMoveRequest {
  model: string;
  alias: string;
  version: number;
  /** Who moves it: `user:<name>` or `workflow:<id>`. */
  actor: string;
  reason: string;
  /** Verify the target's artifact (sha256) before moving: a corrupted version is refused. */
  artifacts?: ArtifactStore;
}

/**
 * Points an alias at a version and appends the move to the alias history, in one transaction.
 * Moves of the same alias are serialised by an advisory lock (and the history time is taken after
 * it, with clock_timestamp()), so racing promotions are applied one after the other and both are
 * recorded, in order. Setting an alias to the version it already has is a no-op, which makes a
 * retried move idempotent. A deleted or archived version is refused.
 */
export async function setAlias(db: Db, move: AliasMoveRequest): Promise<{ fromVersion: number | null; changed: boolean }> {
  validateModelName(move.model);
  validateAlias(move.alias);
  validateVersion(move.version);
  if (move.artifacts) await verifyVersionArtifact(db, move.artifacts, move.model, move.version);
  return inTransaction(db, async (tx) => {
    await lockAlias(tx, move.model, move.alias);
    await lockPromotableVersion(tx, move.model, move.version, move.alias);
    const fromVersion = await currentAliasVersion(tx, move.model, move.alias);
    if (fromVersion === move.version) return { fromVersion, changed: false };
    await writeMove(tx, { ...move, fromVersion, toVersion: move.version, action: 'set' });
    return { fromVersion, changed: true };
  });
}

/** Removes an alias (recorded in the history with no target). Removing `production` stops serving the model. */
export async function removeAlias(
  db: Db,
  move: { model: string; alias: string; actor: string; reason: string },
): Promise<{ fromVersion: number | null; changed: boolean }> {
  validateModelName(move.model);
  validateAlias(move.alias);
  return inTransaction(db, async (tx) => {
    await lockAlias(tx, move.model, move.alias);
    const fromVersion = await currentAliasVersion(tx, move.model, move.alias);
    if (fromVersion === null) return { fromVersion, changed: false };
    await tx.delete(modelAliases).where(and(eq(modelAliases.modelName, move.model), eq(modelAliases.alias, move.alias)));
    await tx.insert(aliasHistory).values({
      modelName: move.model,
      alias: move.alias,
      fromVersion,
      toVersion: null,
      action: 'remove',
      actor: move.actor,
      reason: move.reason,
      at: historyNow,
    });
    return { fromVersion, changed: true };
  });
}

export interface RollbackResult {
  model: string;
  alias: string;
  fromVersion: number;
  toVersion: number;
  /** Versions passed over on the way back, with why. */
  skipped: { version: number; why: string }[];
}

/**
 * Points the alias (by default `production`) back to the version it pointed to before the current
 * one, read from the alias history, and records the move as a `rollback`. Passed over: versions
 * that were themselves left by a rollback (they were bad), and deleted or archived versions.
 * Rolling back twice therefore goes two good versions back instead of flipping between the last
 * two. Running deployments of the version rolled back from are ended.
 */
export async function rollbackAlias(
  db: Db,
  request: { model: string; alias?: string; actor: string; reason: string; artifacts?: ArtifactStore },
): Promise<RollbackResult> {
  const model = validateModelName(request.model);
  const alias = validateAlias(request.alias ?? 'production');
  if (!request.reason?.trim()) throw new RegistryError('a rollback needs a reason');
  return inTransaction(db, async (tx) => {
    await lockAlias(tx, model, alias);
    const current = await currentAliasVersion(tx, model, alias);
    if (current === null) throw new RegistryError(`model "${model}" has no "${alias}" alias to roll back`);
    const history = await tx
      .select()
      .from(aliasHistory)
      .where(and(eq(aliasHistory.modelName, model), eq(aliasHistory.alias, alias)))
      .orderBy(desc(aliasHistory.at), desc(aliasHistory.id));
    const statuses = new Map(
      (
        await tx.select({ v: modelVersions.version, s: modelVersions.status }).from(modelVersions).where(eq(modelVersions.modelName, model))
      ).map((r) => [r.v, r.s]),
    );
    const lastDeparture = new Map<number, string>();
    const considered = new Set<number>([current]);
    const skipped: RollbackResult['skipped'] = [];
    let target: number | undefined;
    for (const move of history) {
      if (move.fromVersion !== null && !lastDeparture.has(move.fromVersion)) lastDeparture.set(move.fromVersion, move.action);
      const candidate = move.toVersion;
      if (candidate === null || considered.has(candidate)) continue;
      considered.add(candidate);
      const status = statuses.get(candidate) ?? 'deleted';
      if (lastDeparture.get(candidate) === 'rollback') skipped.push({ version: candidate, why: 'rolled back from earlier' });
      else if (status !== 'active') skipped.push({ version: candidate, why: status });
      else {
        target = candidate;
        break;
      }
    }
    if (target === undefined) {
      const passed = skipped.length ? ` (passed over: ${skipped.map((s) => `${s.version} ${s.why}`).join(', ')})` : '';
      throw new RegistryError(`no earlier "${alias}" version of "${model}" to roll back to from version ${current}${passed}`);
    }
    if (request.artifacts) await verifyVersionArtifact(tx, request.artifacts, model, target);
    await lockPromotableVersion(tx, model, target, alias);
    await writeMove(tx, {
      model,
      alias,
      actor: request.actor,
      reason: request.reason,
      fromVersion: current,
      toVersion: target,
      action: 'rollback',
    });
    await tx
      .update(deployments)
      .set({ endedAt: sql`clock_timestamp()` })
      .where(and(eq(deployments.modelName, model), eq(deployments.version, current), isNull(deployments.endedAt)));
    return { model, alias, fromVersion: current, toVersion: target, skipped };
  });
}

/** Every move of a model's aliases (or of one alias), oldest first. */
export async function aliasHistoryOf(db: Db, model: string, alias?: string): Promise<AliasMove[]> {
  const byModel = eq(aliasHistory.modelName, model);
  return db
    .select()
    .from(aliasHistory)
    .where(alias ? and(byModel, eq(aliasHistory.alias, alias)) : byModel)
    .orderBy(asc(aliasHistory.at), asc(aliasHistory.id));
}

export interface AliasAtTime {
  model: string;
  alias: string;
  at: Date;
  /** The version the alias pointed to at that time; null when it pointed nowhere. */
  version: ModelVersion | null;
  /** The move that put it there (null: the alias had never been set by then). */
  since: AliasMove | null;
  /** The next move after `at`, if any: the version served until then. */
  until: AliasMove | null;
}

/** "What was `production` at time T?": the alias history's answer, with the version's lineage row. */
export async function aliasAt(db: Db, request: { model: string; alias?: string; at: Date }): Promise<AliasAtTime> {
  const model = validateModelName(request.model);
  const alias = validateAlias(request.alias ?? 'production');
  if (Number.isNaN(request.at.getTime())) throw new RegistryError('invalid time');
  const scope = and(eq(aliasHistory.modelName, model), eq(aliasHistory.alias, alias));
  const [since] = await db
    .select()
    .from(aliasHistory)
    .where(and(scope, lte(aliasHistory.at, request.at)))
    .orderBy(desc(aliasHistory.at), desc(aliasHistory.id))
    .limit(1);
  const [until] = await db
    .select()
    .from(aliasHistory)
    .where(and(scope, sql`${aliasHistory.at} > ${request.at.toISOString()}`))
    .orderBy(asc(aliasHistory.at), asc(aliasHistory.id))
    .limit(1);
  const version = since?.toVersion != null ? ((await getModelVersion(db, model, since.toVersion)) ?? null) : null;
  return { model, alias, at: request.at, version, since: since ?? null, until: until ?? null };
}
