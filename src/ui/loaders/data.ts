import { and, asc, count, desc, eq, sql } from 'drizzle-orm';
import { pearsonMatrix } from '../../data/correlations';
import type { Row } from '../../data/columns';
import { getDatasetVersion, sampleDatasetRows } from '../../data/dataset-store';
import type { IngestReport } from '../../data/ingest';
import type { DatasetProfile } from '../../data/profile';
import type { Db } from '../../db/database';
import { datasetRows, datasetVersions, quarantinedRows } from '../../db/schema';
import type { CorrelationMatrix } from '../charts/profile';
import type { DatasetProfileView } from '../sections/dataset-profile';

/** Rows sampled (evenly over the version) for the correlation matrix. */
const CORRELATION_SAMPLE = 5000;

export interface DatasetListItem {
  id: string;
  name: string;
  contentHash: string;
  rowsRead: number;
  rowCount: number;
  quarantinedCount: number;
  duplicateCount: number;
  createdAt: Date;
}

/** Every dataset version, newest first, without their profiles (the list does not need them). */
export async function loadDatasetVersions(db: Db, limit = 200): Promise<DatasetListItem[]> {
  return db
    .select({
      id: datasetVersions.id,
      name: datasetVersions.name,
      contentHash: datasetVersions.contentHash,
      rowsRead: datasetVersions.rowsRead,
      rowCount: datasetVersions.rowCount,
      quarantinedCount: datasetVersions.quarantinedCount,
      duplicateCount: datasetVersions.duplicateCount,
      createdAt: datasetVersions.createdAt,
    })
    .from(datasetVersions)
    .orderBy(desc(datasetVersions.createdAt))
    .limit(limit);
}

/** A version with its accounting per source, its profile and correlations over a sample of its rows. */
export async function loadDatasetProfile(db: Db, id: string, options = { correlations: true }): Promise<DatasetProfileView | undefined> {
  const version = await getDatasetVersion(db, id);
  if (!version) return undefined;
  const profile = (version.profile ?? null) as DatasetProfile | null;
  const report = version.report as IngestReport | null;
  const numeric = profile
    ? Object.entries(profile)
        .filter(([, p]) => p.type === 'number' && p.count > 0)
        .map(([c]) => c)
    : [];
  let correlations: CorrelationMatrix | null = null;
  if (options.correlations && numeric.length >= 2) {
    const sample = await sampleDatasetRows(db, id, CORRELATION_SAMPLE);
    correlations = { columns: numeric, r: pearsonMatrix(sample, numeric), rows: sample.length };
  }
  return {
    id: version.id,
    name: version.name,
    contentHash: version.contentHash,
    createdAt: version.createdAt,
    columns: version.columns as { name: string; type: string }[],
    counts: {
      read: version.rowsRead,
      accepted: version.rowCount,
      quarantined: version.quarantinedCount,
      duplicates: version.duplicateCount,
    },
    sources:
      report?.sources.map((s) => ({ source: s.name, accepted: s.accepted, quarantined: s.quarantined, duplicates: s.duplicates })) ?? [],
    profile,
    correlations,
  };
}

export interface QuarantineFilter {
  column?: string;
  source?: string;
  kind: 'invalid' | 'duplicate';
  offset: number;
  limit: number;
}

/** A page of quarantined records, filtered by source and by the column a reason names. */
export async function loadQuarantine(db: Db, id: string, filter: QuarantineFilter) {
  const where = and(
    eq(quarantinedRows.datasetVersionId, id),
    eq(quarantinedRows.kind, filter.kind),
    filter.source ? eq(quarantinedRows.source, filter.source) : undefined,
    // Every reason starts with the column it is about: `distance: not a number (got "x" from …)`.
    filter.column
      ? sql`exists (select 1 from jsonb_array_elements_text(${quarantinedRows.reasons}) as r(reason) where r.reason like ${`${escapeLike(filter.column)}:%`})`
      : undefined,
  );
  const [rows, [{ total }], sources] = await Promise.all([
    db
      .select()
      .from(quarantinedRows)
      .where(where)
      .orderBy(asc(quarantinedRows.source), asc(quarantinedRows.recordNumber))
      .limit(filter.limit)
      .offset(filter.offset),
    db.select({ total: count() }).from(quarantinedRows).where(where),
    db.selectDistinct({ source: quarantinedRows.source }).from(quarantinedRows).where(eq(quarantinedRows.datasetVersionId, id)),
  ]);
  return { rows, total, sources: sources.map((s) => s.source) };
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** A page of accepted rows in row order. */
export async function loadRows(db: Db, id: string, offset: number, limit: number): Promise<{ index: number; data: Row }[]> {
  const rows = await db
    .select({ index: datasetRows.rowIndex, data: datasetRows.data })
    .from(datasetRows)
    .where(
      and(
        eq(datasetRows.datasetVersionId, id),
        sql`${datasetRows.rowIndex} >= ${offset}`,
        sql`${datasetRows.rowIndex} < ${offset + limit}`,
      ),
    )
    .orderBy(asc(datasetRows.rowIndex));
  return rows as { index: number; data: Row }[];
}
