import { and, asc, desc, eq, isNull, lte, max, sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { aliasHistory, deployments, modelAliases, modelVersionEvents, modelVersions, registeredModels, routes } from '../db/schema';
import type { ArtifactStore } from './artifact-store';
import { formatRef, type ModelRef, RegistryError, validateAlias, validateModelName, validateVersion } from './names';

/**
 * The model registry: versions numbered per model, aliases with an append-only history, and the
 * lifecycle of versions (tags, description, archive, delete, restore), all in PostgreSQL/PGlite.
 * Activities, the CLI and the model server use these functions; none of them caches anything, so
 * every process (and every replica) sees the same state.
 */

export type ModelVersion = typeof modelVersions.$inferSelect;
export type NewModelVersion = Omit<typeof modelVersions.$inferInsert, 'id' | 'version' | 'createdAt' | 'status' | 'statusChangedAt'>;
export type AliasMove = typeof aliasHistory.$inferSelect;
export type VersionEvent = typeof modelVersionEvents.$inferSelect;
type VersionStatus = 'active' | 'archived' | 'deleted';

/** A drizzle transaction, used through the same query API as the database. */
type Tx = Db;
const inTransaction = <T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> => db.transaction((tx) => work(tx as unknown as Tx));

/**
 * Registers a model version as the model's next number. Idempotent: a second call with the same
 * idempotency key (a retried activity) returns the version the first call made. Registrations of
 * one model are serialised by a row lock on `registered_models`, so concurrent ones get
 * consecutive numbers.
 */
export async function registerModelVersion(db: Db, input: NewModelVersion): Promise<ModelVersion> {
  validateModelName(input.modelName);
  if (!input.idempotencyKey) throw new RegistryError('an idempotency key is required to register a version');
  return inTransaction(db, async (tx) => {
    await tx.insert(registeredModels).values({ name: input.modelName }).onConflictDoNothing();
    await tx.select({ name: registeredModels.name }).from(registeredModels).where(eq(registeredModels.name, input.modelName)).for('update');
    const [earlier] = await tx.select().from(modelVersions).where(eq(modelVersions.idempotencyKey, input.idempotencyKey));
    if (earlier) {
      if (earlier.modelName !== input.modelName) {
        throw new RegistryError(`idempotency key ${input.idempotencyKey} already registered ${earlier.modelName}@${earlier.version}`);
      }
      return earlier;
    }
    const [{ highest }] = await tx
      .select({ highest: max(modelVersions.version) })
      .from(modelVersions)
      .where(eq(modelVersions.modelName, input.modelName));
    const [inserted] = await tx
      .insert(modelVersions)
      .values({ ...input, version: (highest ?? 0) + 1 })
      .returning();
    return inserted;
  });
}

export async function findVersionByIdempotencyKey(db: Db, key: string): Promise<ModelVersion | undefined> {
  const [row] = await db.select().from(modelVersions).where(eq(modelVersions.idempotencyKey, key));
  return row;
}

export async function getModelVersion(db: Db, model: string, version: number): Promise<ModelVersion | undefined> {
  const [row] = await db
    .select()
    .from(modelVersions)
    .where(and(eq(modelVersions.modelName, model), eq(modelVersions.version, version)));
  return row;
}

/** Versions, newest first; all statuses (filter on `status` to hide archived or deleted ones). */
export async function listModelVersions(db: Db, model?: string): Promise<ModelVersion[]> {
  const query = db.select().from(modelVersions);
  return model
    ? query.where(eq(modelVersions.modelName, model)).orderBy(desc(modelVersions.version))
    : query.orderBy(modelVersions.modelName, desc(modelVersions.version));
}

export interface ModelSummary {
  name: string;
  description: string;
  createdAt: Date;
  versions: number;
  latestVersion: number | null;
  aliases: Record<string, number>;
}

/** Every registered model with its version count and current aliases. */
export async function listModels(db: Db): Promise<ModelSummary[]> {
  const models = await db.select().from(registeredModels).orderBy(asc(registeredModels.name));
  const counts = await db
    .select({ model: modelVersions.modelName, n: sql<number>`count(*)::int`, latest: max(modelVersions.version) })
    .from(modelVersions)
    .groupBy(modelVersions.modelName);
  const aliases = await db.select().from(modelAliases);
  return models.map((m) => {
    const count = counts.find((c) => c.model === m.name);
    return {
      name: m.name,
      description: m.description,
      createdAt: m.createdAt,
      versions: count?.n ?? 0,
      latestVersion: count?.latest ?? null,
      aliases: Object.fromEntries(aliases.filter((a) => a.modelName === m.name).map((a) => [a.alias, a.version])),
    };
  });
}

/** The version an alias points to, or undefined when the alias is not set. */
export async function resolveAlias(db: Db, model: string, alias: string): Promise<ModelVersion | undefined> {
  const [row] = await db
    .select({ version: modelAliases.version })
    .from(modelAliases)
    .where(and(eq(modelAliases.modelName, model), eq(modelAliases.alias, alias)));
  return row ? getModelVersion(db, model, row.version) : undefined;
}

/** The aliases of a model: alias → version. */
export async function getAliases(db: Db, model: string): Promise<Record<string, number>> {
  const rows = await db.select().from(modelAliases).where(eq(modelAliases.modelName, model)).orderBy(asc(modelAliases.alias));
  return Object.fromEntries(rows.map((r) => [r.alias, r.version]));
}

/** Resolves `name@3`, `name@alias` or `name@latest`; throws a RegistryError naming what is missing. */
export async function resolveRef(db: Db, ref: ModelRef): Promise<ModelVersion> {
  let row: ModelVersion | undefined;
  if ('version' in ref) row = await getModelVersion(db, ref.model, ref.version);
  else if ('alias' in ref) {
    row = await resolveAlias(db, ref.model, ref.alias);
    if (!row) {
      const known = Object.keys(await getAliases(db, ref.model));
      throw new RegistryError(
        `model "${ref.model}" has no alias "${ref.alias}"${known.length ? ` (its aliases: ${known.join(', ')})` : ''}`,
      );
    }
  } else {
    [row] = await db
      .select()
      .from(modelVersions)
      .where(and(eq(modelVersions.modelName, ref.model), sql`${modelVersions.status} <> 'deleted'`))
      .orderBy(desc(modelVersions.version))
      .limit(1);
  }
  if (!row) {
    const versions = await db.select({ v: modelVersions.version }).from(modelVersions).where(eq(modelVersions.modelName, ref.model));
    throw new RegistryError(
      versions.length === 0
        ? `model "${ref.model}" is not registered`
        : `${formatRef(ref)} does not exist (versions 1-${Math.max(...versions.map((v) => v.v))})`,
    );
  }
  return row;
}

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

/** Reads a version's artifact, which verifies its sha256; throws a RegistryError naming the version otherwise. */
async function verifyVersionArtifact(db: Db, artifacts: ArtifactStore, model: string, version: number): Promise<ModelVersion> {
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

// --- internals -----------------------------------------------------------------------------------

async function lockAlias(tx: Tx, model: string, alias: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${model}), hashtext(${alias}))`);
}

async function lockVersion(tx: Tx, model: string, version: number, strength: 'update' | 'share'): Promise<ModelVersion> {
  const [row] = await tx
    .select()
    .from(modelVersions)
    .where(and(eq(modelVersions.modelName, model), eq(modelVersions.version, version)))
    .for(strength);
  if (!row) throw new RegistryError(`model "${model}" has no version ${version}`);
  return row;
}

/** Locks the version against a concurrent archive/delete and refuses one that cannot be promoted. */
async function lockPromotableVersion(tx: Tx, model: string, version: number, alias: string): Promise<ModelVersion> {
  const row = await lockVersion(tx, model, version, 'share');
  if (row.status === 'deleted') {
    throw new RegistryError(`${model}@${version} is deleted; alias "${alias}" cannot point to a deleted version (restore it first)`);
  }
  if (row.status === 'archived') {
    throw new RegistryError(`${model}@${version} is archived; alias "${alias}" cannot point to it (restore it first)`);
  }
  return row;
}

async function currentAliasVersion(tx: Tx, model: string, alias: string): Promise<number | null> {
  const [current] = await tx
    .select({ version: modelAliases.version })
    .from(modelAliases)
    .where(and(eq(modelAliases.modelName, model), eq(modelAliases.alias, alias)));
  return current?.version ?? null;
}

async function writeMove(
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
const historyNow = sql`date_trunc('milliseconds', clock_timestamp())`;
