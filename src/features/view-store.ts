import { desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { featureViewVersions } from '../db/schema';
import type { ColumnDef } from '../data/columns';
import { listDatasetVersions, resolveDatasetVersion, resultRows, streamDatasetRows, type DatasetVersion } from '../data/dataset-store';
import { InvalidInputError } from '../shared/errors';
import type { FeatureStoreDefinitions, FeatureViewDef } from '../shared/feature-store';
import { EventColumnsBuilder } from './columns';
import { checkViewColumns, viewDefinition, viewVersion } from './definitions';
import type { KeyCodes } from './point-in-time';

/** A registered view version: its definition and join keys. */
export interface RegisteredView {
  name: string;
  version: string;
  view: FeatureViewDef;
  joinKeys: string[];
  createdAt: Date;
}

/**
 * `keel features apply`: checks the definitions against their sources' columns and registers
 * each view's version (the sha256 of its definition). An unchanged view keeps its version; a
 * changed one becomes the newest version of its name, never a silent edit of the old.
 */
export async function registerViews(db: Db, defs: FeatureStoreDefinitions): Promise<{ name: string; version: string; created: boolean }[]> {
  const columns = new Map<string, readonly ColumnDef[] | undefined>();
  for (const view of defs.views) {
    if ('dataset' in view.source && !columns.has(view.source.dataset)) {
      const [newest] = await listDatasetVersions(db, view.source.dataset);
      columns.set(view.source.dataset, newest?.columns as ColumnDef[] | undefined);
    }
  }
  const issues = checkViewColumns(defs, (dataset) => columns.get(dataset));
  if (issues.length > 0)
    throw new InvalidInputError(`invalid feature store definitions: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  const out = [];
  for (const view of defs.views) {
    const definition = viewDefinition(defs, view);
    const version = viewVersion(definition);
    const [latest] = await db
      .select()
      .from(featureViewVersions)
      .where(eq(featureViewVersions.name, view.name))
      .orderBy(desc(featureViewVersions.createdAt))
      .limit(1);
    if (latest?.version === version) {
      out.push({ name: view.name, version, created: false });
      continue;
    }
    // A definition changed back to an earlier version becomes the newest again.
    await db
      .insert(featureViewVersions)
      .values({ version, name: view.name, definition })
      .onConflictDoUpdate({ target: featureViewVersions.version, set: { createdAt: sql`now()` } });
    out.push({ name: view.name, version, created: true });
  }
  return out;
}

function toRegistered(row: typeof featureViewVersions.$inferSelect): RegisteredView {
  const definition = row.definition as { view: FeatureViewDef; joinKeys: string[] };
  return { name: row.name, version: row.version, view: definition.view, joinKeys: definition.joinKeys, createdAt: row.createdAt };
}

/** The newest version of each registered view, by name. */
export async function listViews(db: Db): Promise<RegisteredView[]> {
  const rows = await db.select().from(featureViewVersions).orderBy(featureViewVersions.name, desc(featureViewVersions.createdAt));
  const seen = new Set<string>();
  return rows.filter((row) => !seen.has(row.name) && seen.add(row.name)).map(toRegistered);
}

/** Every version of one view, newest first. */
export async function viewHistory(db: Db, name: string): Promise<RegisteredView[]> {
  const rows = await db
    .select()
    .from(featureViewVersions)
    .where(eq(featureViewVersions.name, name))
    .orderBy(desc(featureViewVersions.createdAt));
  return rows.map(toRegistered);
}

/** The view in use (its newest version), or an InvalidInputError naming the ones that exist. */
export async function getView(db: Db, name: string): Promise<RegisteredView> {
  const [newest] = await viewHistory(db, name);
  if (newest) return newest;
  const known = (await listViews(db)).map((v) => v.name);
  throw new InvalidInputError(
    `no feature view "${name}" is registered (registered: ${known.join(', ') || 'none'}; keel features apply registers keel.config.json's featureStore)`,
  );
}

/** The dataset version a view reads now: its pinned version, else the newest of its dataset. */
export async function viewSourceVersion(db: Db, view: RegisteredView): Promise<DatasetVersion> {
  if (!('dataset' in view.view.source)) {
    throw new InvalidInputError(
      `feature view "${view.name}": a view over another view ("${view.view.source.view}") can be defined and checked, but not yet computed`,
    );
  }
  return resolveDatasetVersion(db, view.view.source.dataset, view.view.source.version);
}

/**
 * Streams a view's events (its source rows) into columns, optionally only those after `sinceIso`
 * (an ISO timestamp; rows whose timestamp text compares later, as canonical datetimes do).
 */
export async function readViewEvents(
  db: Db,
  view: RegisteredView,
  sourceVersionId: string,
  codes: KeyCodes,
  valueColumns: readonly string[],
  options: { sinceMs?: number; latestUntil?: number } = {},
): Promise<EventColumnsBuilder> {
  const { sinceMs } = options;
  const builder = new EventColumnsBuilder(codes, view.joinKeys, view.view.timestamp, valueColumns);
  if (options.latestUntil !== undefined) builder.latestUntil = options.latestUntil;
  if (sinceMs === undefined || view.view.timestamp === undefined) {
    for await (const chunk of streamDatasetRows(db, sourceVersionId)) builder.add(chunk);
    return builder;
  }
  // Canonical datetimes are ISO text without a zone (UTC): text order is time order.
  const since = new Date(sinceMs).toISOString().slice(0, 19);
  const column = view.view.timestamp;
  let after = -1;
  for (;;) {
    const result = await db.execute(sql`
      select coalesce(json_agg(json_build_object('i', row_index, 'd', data) order by row_index)::text, '[]') as page
      from (select row_index, data from dataset_rows
            where dataset_version_id = ${sourceVersionId} and row_index > ${after} and (data ->> ${column}) > ${since}
            order by row_index limit 50000) rows`);
    const page = JSON.parse(resultRows<{ page: string }>(result)[0].page) as { i: number; d: Record<string, unknown> }[];
    if (page.length === 0) return builder;
    builder.add(page.map((row) => row.d));
    after = page[page.length - 1].i;
  }
}
