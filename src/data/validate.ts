import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/database';
import type { DatasetRules } from '../shared/dataset-spec';
import { DataValidationError, InvalidInputError } from '../shared/errors';
import type { ColumnDef } from './columns';
import {
  getDatasetVersion,
  previousDatasetVersion,
  resultRows,
  saveProfile,
  streamDatasetRows,
  type DatasetVersion,
} from './dataset-store';
import { checkDatasetRules, ProfileBuilder, type DatasetProfile } from './profile';

/**
 * ExampleValidator over a stored version: the profile (computed while ingesting; computed here,
 * streaming, for versions that lack one), the rules that read it (minRows, null fractions, change
 * against the previous version of the same name) and uniqueness, which PostgreSQL checks on the
 * rows. A failed rule throws a DataValidationError naming the rule and the observed value.
 */
export async function validateDatasetVersion(
  db: Db,
  id: string,
  rules: DatasetRules,
): Promise<{ version: DatasetVersion; profile: DatasetProfile }> {
  const version = await getDatasetVersion(db, id);
  if (!version) throw new Error(`dataset version ${id} does not exist`);
  const profile = await ensureProfile(db, version);
  let previous: { id: string; rowCount: number; profile: DatasetProfile } | undefined;
  if (rules.maxChange) {
    const before = await previousDatasetVersion(db, version);
    if (before) previous = { id: before.id, rowCount: before.rowCount, profile: await ensureProfile(db, before) };
  }
  checkDatasetRules(version, profile, rules, previous);
  for (const key of rules.unique ?? []) await checkUniqueness(db, version, typeof key === 'string' ? [key] : key);
  return { version, profile };
}

/** The stored profile, or one computed now from the rows (chunk by chunk) and stored. */
async function ensureProfile(db: Db, version: DatasetVersion): Promise<DatasetProfile> {
  if (version.profile) return version.profile as DatasetProfile;
  const builder = new ProfileBuilder(version.columns as ColumnDef[]);
  for await (const chunk of streamDatasetRows(db, version.id)) for (const row of chunk) builder.add(row);
  const profile = await builder.finishInTurns();
  await saveProfile(db, version.id, profile);
  return profile;
}

/** Rule `unique`: no two rows share the values of these columns (rows with a null among them are exempt). */
async function checkUniqueness(db: Db, version: DatasetVersion, columns: string[]): Promise<void> {
  const known = new Set((version.columns as ColumnDef[]).map((c) => c.name));
  for (const column of columns) {
    if (!known.has(column)) {
      throw new InvalidInputError(
        `rule unique names column "${column}", which dataset version ${version.id} does not have (columns: ${[...known].join(', ')})`,
      );
    }
  }
  const keys = sql.join(
    columns.map((column, i) => sql`data -> ${column}::text as ${sql.raw(`k${i}`)}`),
    sql`, `,
  );
  const names = sql.raw(columns.map((_, i) => `k${i}`).join(', '));
  const present: SQL = sql.join(
    columns.map((column) => sql`data -> ${column}::text <> 'null'::jsonb`),
    sql` and `,
  );
  const result = await db.execute(sql`
    select count(*)::int as groups, coalesce(sum(n), 0)::int as rows,
           coalesce(json_agg(example order by n desc) filter (where rank <= 3), '[]')::text as examples
    from (
      select json_build_object('values', json_build_array(${names}), 'rows', count(*)) as example,
             count(*) as n, row_number() over (order by count(*) desc) as rank
      from (select ${keys} from dataset_rows where dataset_version_id = ${version.id} and ${present}) keyed
      group by ${names}
      having count(*) > 1
    ) dups`);
  const [row] = resultRows<{ groups: number; rows: number; examples: string }>(result);
  if (!row || row.groups === 0) return;
  const examples = JSON.parse(row.examples) as { values: unknown[]; rows: number }[];
  const shown = examples.map((e) => `${JSON.stringify(e.values.length === 1 ? e.values[0] : e.values)} ×${e.rows}`).join(', ');
  throw new DataValidationError(
    `rule unique(${columns.join(', ')}): ${row.groups} value${row.groups === 1 ? '' : 's'} occur more than once, in ${row.rows} rows (e.g. ${shown})`,
    'unique',
    { columns, duplicatedValues: row.groups, rows: row.rows, examples },
  );
}
