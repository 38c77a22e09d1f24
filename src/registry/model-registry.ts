import { and, desc, eq, max, sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { aliasHistory, modelAliases, modelVersions } from '../db/schema';

export type ModelVersion = typeof modelVersions.$inferSelect;
export type NewModelVersion = Omit<typeof modelVersions.$inferInsert, 'id' | 'version' | 'createdAt'>;

/**
 * Registers a model version, numbered per model. Idempotent: a second call with the same
 * idempotency key returns the version the first call made. Concurrent registrations of one model
 * get distinct numbers (the unique index decides; the loser takes the next number).
 */
export async function registerModelVersion(db: Db, input: NewModelVersion): Promise<ModelVersion> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const earlier = await findByIdempotencyKey(db, input.idempotencyKey);
    if (earlier) return earlier;
    const [{ highest }] = await db
      .select({ highest: max(modelVersions.version) })
      .from(modelVersions)
      .where(eq(modelVersions.modelName, input.modelName));
    const inserted = await db
      .insert(modelVersions)
      .values({ ...input, version: (highest ?? 0) + 1 })
      .onConflictDoNothing()
      .returning();
    if (inserted.length === 1) return inserted[0];
  }
  throw new Error(`could not register a version of model "${input.modelName}": too much contention`);
}

async function findByIdempotencyKey(db: Db, key: string): Promise<ModelVersion | undefined> {
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

export async function listModelVersions(db: Db, model?: string): Promise<ModelVersion[]> {
  const query = db.select().from(modelVersions);
  return model
    ? query.where(eq(modelVersions.modelName, model)).orderBy(desc(modelVersions.version))
    : query.orderBy(modelVersions.modelName, desc(modelVersions.version));
}

/** The version an alias points to, or undefined when the alias is not set. */
export async function resolveAlias(db: Db, model: string, alias: string): Promise<ModelVersion | undefined> {
  const [row] = await db
    .select({ version: modelAliases.version })
    .from(modelAliases)
    .where(and(eq(modelAliases.modelName, model), eq(modelAliases.alias, alias)));
  return row ? getModelVersion(db, model, row.version) : undefined;
}

/**
 * Points an alias at a version and appends the move to the alias history, in one transaction.
 * Moves of the same alias are serialised by an advisory lock, so racing promotions are both
 * recorded in order and none is lost. Setting an alias to the version it already has is a no-op,
 * which makes a retried move idempotent.
 */
export async function setAlias(
  db: Db,
  move: { model: string; alias: string; version: number; actor: string; reason: string },
): Promise<{ fromVersion: number | null; changed: boolean }> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${move.model}), hashtext(${move.alias}))`);
    const target = await getModelVersion(tx as unknown as Db, move.model, move.version);
    if (!target) throw new Error(`model "${move.model}" has no version ${move.version}`);
    const [current] = await tx
      .select({ version: modelAliases.version })
      .from(modelAliases)
      .where(and(eq(modelAliases.modelName, move.model), eq(modelAliases.alias, move.alias)));
    const fromVersion = current?.version ?? null;
    if (fromVersion === move.version) return { fromVersion, changed: false };
    await tx
      .insert(modelAliases)
      .values({ modelName: move.model, alias: move.alias, version: move.version })
      .onConflictDoUpdate({
        target: [modelAliases.modelName, modelAliases.alias],
        set: { version: move.version, updatedAt: sql`now()` },
      });
    await tx.insert(aliasHistory).values({
      modelName: move.model,
      alias: move.alias,
      fromVersion,
      toVersion: move.version,
      actor: move.actor,
      reason: move.reason,
    });
    return { fromVersion, changed: true };
  });
}
