import { sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { pearsonCorrelations, type CorrelationMatrix } from '../data/correlations';
import { findDatasetVersions, resultRows, sampleDatasetRows, type ColumnDef } from '../data/dataset-store';
import type { IngestReport } from '../data/ingest';
import type { DatasetProfile } from '../data/profile';
import { ReportNotFoundError } from './drift-view';

/** Rows (spread evenly over the version) the correlations are computed from. */
export const CORRELATION_SAMPLE_ROWS = 5_000;
const QUARANTINE_REASONS = 50;

/** What a dataset report shows, read from the database (no Temporal). */
export interface DatasetReportView {
  version: {
    id: string;
    name: string;
    contentHash: string;
    createdAt: string;
    rowsRead: number;
    rowCount: number;
    quarantinedCount: number;
    duplicateCount: number;
    columns: ColumnDef[];
  };
  /** Per source: read = accepted + quarantined + duplicates (null for versions ingested before reports were kept). */
  ingest: IngestReport | null;
  profile: DatasetProfile | null;
  /** Numeric columns over up to CORRELATION_SAMPLE_ROWS rows spread over the version; null with fewer than two. */
  correlations: CorrelationMatrix | null;
  /** Quarantine reasons without the offending value, most frequent first, per source. */
  quarantineReasons: { source: string; reason: string; count: number; example: string }[];
}

/**
 * `name`, `name@<version id or prefix>` or a version id (prefix): the dataset's newest version when
 * only the name is given.
 */
export async function resolveDatasetVersionId(db: Db, reference: string): Promise<string> {
  const at = reference.lastIndexOf('@');
  const [name, version] = at === -1 ? [reference, undefined] : [reference.slice(0, at), reference.slice(at + 1)];
  const matches = (await findDatasetVersions(db, version || name)).filter((m) => version === undefined || version === '' || m.name === name);
  if (matches.length === 0) throw new ReportNotFoundError(`no dataset version matches "${reference}" (keel data versions lists them)`);
  if (matches.length > 1) {
    throw new ReportNotFoundError(`"${reference}" matches ${matches.length} versions (${matches.map((m) => m.id.slice(0, 12)).join(', ')}): give more characters`);
  }
  return matches[0]!.id;
}

export async function loadDatasetReportView(db: Db, id: string): Promise<DatasetReportView> {
  const [version] = await findDatasetVersions(db, id);
  if (!version || version.id !== id) throw new ReportNotFoundError(`no dataset version "${id}"`);
  const columns = version.columns as ColumnDef[];
  const numeric = columns.filter((c) => c.type === 'number' || c.type === 'integer').map((c) => c.name);
  const [sample, reasons] = await Promise.all([
    numeric.length > 1 ? sampleDatasetRows(db, id, CORRELATION_SAMPLE_ROWS) : Promise.resolve([]),
    db.execute(sql`
      select source, regexp_replace(reason, ' \(got .*$', '') as reason, count(*)::int as count, min(reason) as example
      from quarantined_rows, jsonb_array_elements_text(reasons) as reason
      where dataset_version_id = ${id} and kind = 'invalid'
      group by 1, 2
      order by 3 desc, 1, 2
      limit ${QUARANTINE_REASONS}`),
  ]);
  return {
    version: {
      id: version.id,
      name: version.name,
      contentHash: version.contentHash,
      createdAt: version.createdAt.toISOString(),
      rowsRead: version.rowsRead,
      rowCount: version.rowCount,
      quarantinedCount: version.quarantinedCount,
      duplicateCount: version.duplicateCount,
      columns,
    },
    ingest: (version.report as IngestReport | null) ?? null,
    profile: (version.profile as DatasetProfile | null) ?? null,
    correlations: numeric.length > 1 ? pearsonCorrelations(sample, numeric) : null,
    quarantineReasons: resultRows<{ source: string; reason: string; count: number; example: string }>(reasons),
  };
}
