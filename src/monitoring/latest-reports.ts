import { desc, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { driftReports } from '../db/schema';

/** What the newest drift report of a model found (the model server's drift metrics). */
export interface LatestDriftReport {
  model: string;
  version: number;
  /** `ok`, `drift` or `insufficient_data`. */
  status: string;
  /** Drifting features / compared features (DriftEvaluation.dataset.share); 0 without data. */
  share: number;
  windowEnd: Date;
}

/** The newest report (by window end) of each of `models` that has one. */
export async function latestDriftReports(db: Db, models: string[]): Promise<LatestDriftReport[]> {
  if (models.length === 0) return [];
  const rows = await db
    .selectDistinctOn([driftReports.modelName], {
      model: driftReports.modelName,
      version: driftReports.version,
      status: driftReports.status,
      share: sql<number | null>`(${driftReports.features} -> 'evaluation' -> 'dataset' ->> 'share')::float8`,
      windowEnd: driftReports.windowEnd,
    })
    .from(driftReports)
    .where(inArray(driftReports.modelName, models))
    .orderBy(driftReports.modelName, desc(driftReports.windowEnd), desc(driftReports.id));
  return rows.map((r) => ({ ...r, share: Number(r.share ?? 0) }));
}
