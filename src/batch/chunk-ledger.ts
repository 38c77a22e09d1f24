import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/database';
import { batchScoreChunks } from '../db/schema';

export type LedgerEntry = typeof batchScoreChunks.$inferSelect;
export type NewLedgerEntry = typeof batchScoreChunks.$inferInsert;

/** The ledger entry of a chunk already scored by this job, if any. */
export async function findScoredChunk(db: Db, jobId: string, chunk: number): Promise<LedgerEntry | undefined> {
  const [row] = await db
    .select()
    .from(batchScoreChunks)
    .where(and(eq(batchScoreChunks.jobId, jobId), eq(batchScoreChunks.chunk, chunk)));
  return row;
}

/** Records a scored chunk; a second record of the same chunk changes nothing (the first stays). */
export async function recordScoredChunk(db: Db, entry: NewLedgerEntry): Promise<void> {
  await db.insert(batchScoreChunks).values(entry).onConflictDoNothing();
}
