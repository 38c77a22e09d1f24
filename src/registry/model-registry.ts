import { and, asc, desc, eq, max, sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { modelAliases, modelVersions, registeredModels } from '../db/schema';
import { formatRef, type ModelRef, RegistryError, validateModelName } from './names';

/**
 * The model registry's versions: registering one (numbered per model) and reading them back by
 * number, alias or `latest`, all in PostgreSQL/PGlite. Moving aliases is in aliases.ts, deploying
 * in deployments.ts, tags and archive/delete/restore in version-lifecycle.ts; they build on the
 * transaction and row lock exported here. Nothing here caches anything, so every process (and
 * every replica) sees the same state.
 */

export type ModelVersion = typeof modelVersions.$inferSelect;
export type NewModelVersion = Omit<typeof modelVersions.$inferInsert, 'id' | 'version' | 'createdAt' | 'status' | 'statusChangedAt'>;

/** A drizzle transaction, used through the same query API as the database. */
export type Tx = Db;
export const inTransaction = <T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> => db.transaction((tx) => work(tx as unknown as Tx));

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

/** Row-locks a version in a transaction; throws a RegistryError when the model has no such version. */
export async function lockVersion(tx: Tx, model: string, version: number, strength: 'update' | 'share'): Promise<ModelVersion> {
  const [row] = await tx
    .select()
    .from(modelVersions)
    .where(and(eq(modelVersions.modelName, model), eq(modelVersions.version, version)))
    .for(strength);
  if (!row) throw new RegistryError(`model "${model}" has no version ${version}`);
  return row;
}
