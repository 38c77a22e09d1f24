import { sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { findDatasetVersions, resultRows } from '../data/dataset-store';
import type { IngestReport } from '../data/ingest';
import { loadDatasetProfile } from '../ui/loaders/data';
import type { DatasetProfileView } from '../ui/sections/dataset-profile';
import { ReportNotFoundError } from './drift-view';

const QUARANTINE_REASONS = 50;

/** What a dataset report shows, read from the database (no Temporal). */
export interface DatasetReportView {
  /** What the dashboard's accounting and profile sections show (correlations over a sample of rows). */
  profile: DatasetProfileView;
  /** The ingest's per-source table (null for versions stored before reports were kept). */
  ingest: IngestReport | null;
  /** Quarantine reasons without the offending value, most frequent first, per source. */
  quarantineReasons: { source: string; reason: string; count: number; example: string }[];
}

/**
 * `name`, `name@<version id or prefix>`, or a version id (prefix): the dataset's newest version
 * when only the name is given.
 */
export async function resolveDatasetVersionId(db: Db, reference: string): Promise<string> {
  const at = reference.lastIndexOf('@');
  const [name, version] = at === -1 ? [reference, undefined] : [reference.slice(0, at), reference.slice(at + 1)];
  const matches = (await findDatasetVersions(db, version || name)).filter((m) => !version || m.name === name);
  if (matches.length === 0) throw new ReportNotFoundError(`no dataset version matches "${reference}" (keel data versions lists them)`);
  if (matches.length > 1) {
    throw new ReportNotFoundError(
      `"${reference}" matches ${matches.length} versions (${matches.map((m) => m.id.slice(0, 12)).join(', ')}): give more characters`,
    );
  }
  return matches[0].id;
}

export async function loadDatasetReportView(db: Db, id: string): Promise<DatasetReportView> {
  const [profile, [version], reasons] = await Promise.all([
    loadDatasetProfile(db, id),
    findDatasetVersions(db, id),
    // Every reason reads `<column>: <what is wrong> (got <value> from <field>)`: grouped without the value.
    db.execute(sql`
      select source, regexp_replace(reason, ' \\(got .*$', '') as reason, count(*)::int as count, min(reason) as example
      from quarantined_rows, jsonb_array_elements_text(reasons) as reason
      where dataset_version_id = ${id} and kind = 'invalid'
      group by 1, 2
      order by 3 desc, 1, 2
      limit ${QUARANTINE_REASONS}`),
  ]);
  if (!profile) throw new ReportNotFoundError(`no dataset version "${id}"`);
  return {
    profile,
    ingest: (version?.report as IngestReport | null) ?? null,
    quarantineReasons: resultRows<{ source: string; reason: string; count: number; example: string }>(reasons),
  };
}
