import { and, eq, inArray, lt, notExists, or, sql } from 'drizzle-orm';
import type { Database, Db } from '../db/database';
import { datasetIngests, datasetRows, datasetVersions, quarantinedRows } from '../db/schema';
import type { DatasetVersion } from './dataset-store';
import { getDatasetVersion } from './dataset-store';

/**
 * The life of an ingest attempt in dataset_ingests outside the happy path: finding a request that
 * already finished, and cleaning up after attempts that failed, crashed, went stale or lost to an
 * identical version. Kept apart from ingest.ts so the crash-recovery rules read in one place.
 */

/** An attempt of another request that has written nothing for this long is presumed dead. */
const STALE_MINUTES = 15;

export async function finishedIngest(db: Db, ingestKey: string): Promise<DatasetVersion | undefined> {
  const [done] = await db
    .select()
    .from(datasetIngests)
    .where(and(eq(datasetIngests.ingestKey, ingestKey), inArray(datasetIngests.status, ['complete', 'duplicate'])))
    .limit(1);
  return done?.datasetVersionId ? getDatasetVersion(db, done.datasetVersionId) : undefined;
}

/** Rows of an attempt, never of a published version (the statement re-checks). */
async function deleteAttemptRows(db: Db, id: string): Promise<void> {
  const noVersion = notExists(db.select({ id: datasetVersions.id }).from(datasetVersions).where(eq(datasetVersions.id, id)));
  await db.delete(datasetRows).where(and(eq(datasetRows.datasetVersionId, id), noVersion));
  await db.delete(quarantinedRows).where(and(eq(quarantinedRows.datasetVersionId, id), noVersion));
}

export async function finishAsDuplicate(database: Database, id: string, versionId: string): Promise<void> {
  await deleteAttemptRows(database.db, id);
  await database.db
    .update(datasetIngests)
    .set({ status: 'duplicate', datasetVersionId: versionId, updatedAt: sql`now()` })
    .where(eq(datasetIngests.id, id));
}

/** After an error: mark the attempt failed and delete what it wrote (a later ingest retries the delete if this fails). */
export async function giveUp(database: Database, id: string, error: unknown): Promise<void> {
  const { db } = database;
  await db
    .update(datasetIngests)
    .set({ status: 'failed', error: String((error as Error)?.message ?? error).slice(0, 2000), updatedAt: sql`now()` })
    .where(and(eq(datasetIngests.id, id), eq(datasetIngests.status, 'running')));
  await deleteAttemptRows(db, id);
  await db
    .update(datasetIngests)
    .set({ status: 'cleaned' })
    .where(and(eq(datasetIngests.id, id), eq(datasetIngests.status, 'failed')));
}

/**
 * Deletes the rows of attempts that will never publish: earlier attempts of the same request
 * (a crashed activity attempt, found by its ingest key), attempts that failed or were abandoned
 * without finishing their cleanup, and attempts of the same dataset idle for STALE_MINUTES.
 */
export async function collectGarbage(database: Database, scope: { ingestKey: string; name: string }): Promise<number> {
  const { db } = database;
  const candidates = await db
    .select({ id: datasetIngests.id })
    .from(datasetIngests)
    .where(
      or(
        and(eq(datasetIngests.ingestKey, scope.ingestKey), eq(datasetIngests.status, 'running')),
        inArray(datasetIngests.status, ['failed', 'abandoned']),
        and(
          eq(datasetIngests.name, scope.name),
          eq(datasetIngests.status, 'running'),
          lt(datasetIngests.updatedAt, sql`now() - make_interval(mins => ${STALE_MINUTES})`),
        ),
      ),
    );
  for (const { id } of candidates) {
    await db.transaction(async (tx) => {
      const [attempt] = await tx.select().from(datasetIngests).where(eq(datasetIngests.id, id)).for('update');
      if (attempt?.status === 'running') {
        await tx
          .update(datasetIngests)
          .set({ status: 'abandoned', updatedAt: sql`now()` })
          .where(eq(datasetIngests.id, id));
      }
    });
    await deleteAttemptRows(db, id);
    await db
      .update(datasetIngests)
      .set({ status: 'cleaned', updatedAt: sql`now()` })
      .where(and(eq(datasetIngests.id, id), inArray(datasetIngests.status, ['abandoned', 'failed'])));
  }
  return candidates.length;
}
