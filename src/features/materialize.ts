import { and, desc, eq, sql } from 'drizzle-orm';
import type { Database, Db } from '../db/database';
import { featureMaterializations } from '../db/schema';
import { pitPlan } from './definitions';
import { KeyCodes } from './point-in-time';
import { runPointInTime } from './run-point-in-time';
import { getView, readViewEvents, viewSourceVersion } from './view-store';

export interface MaterializeOptions {
  /** The materialisation's id, stable across retries (`<workflowId>/<runId>`). */
  id: string;
  /** Values as of this time (ISO or ms); default now. */
  asOf?: string | number;
  /** Recompute every entity from all events, not only those the events since the last run touch. */
  backfill?: boolean;
}

export interface MaterializeResult {
  id: string;
  view: string;
  version: string;
  datasetVersionId: string;
  asOf: string;
  since: string | null;
  entities: number;
  latestEventTime: string | null;
  /** False when this id had been materialised already (a retry after the swap committed). */
  written: boolean;
}

export type Materialization = typeof featureMaterializations.$inferSelect;

/** The newest materialisation of a view, if any. */
export async function lastMaterialization(db: Db, viewName: string): Promise<Materialization | undefined> {
  const [last] = await db
    .select()
    .from(featureMaterializations)
    .where(eq(featureMaterializations.viewName, viewName))
    .orderBy(desc(featureMaterializations.asOf))
    .limit(1);
  return last;
}

/**
 * Writes each entity's feature values as of `asOf` into the online store.
 *
 * Incremental: after a run of the same view version, only events later than that run's as-of
 * time minus the lag and the longest window are read; they are all that can change an entity's
 * windows since then, so the entities they touch are recomputed and the others keep their values.
 * A backfill (or a new view version) reads every event.
 *
 * Crash-safe and idempotent: values go to a staging table under the run's id (a retry first
 * deletes what a crashed attempt staged), then one transaction upserts them into
 * `online_features`, deletes the staging rows and records the run. Readers see the old values or
 * the new ones, never a half-written set; a retry after the commit finds the run and writes nothing.
 */
export async function materializeView(database: Database, viewName: string, options: MaterializeOptions): Promise<MaterializeResult> {
  const { db } = database;
  const [done] = await db.select().from(featureMaterializations).where(eq(featureMaterializations.id, options.id));
  if (done) return resultOf(done, false);

  const view = await getView(db, viewName);
  const source = await viewSourceVersion(db, view);
  const asOfMs = options.asOf === undefined ? Date.now() : typeof options.asOf === 'number' ? options.asOf : Date.parse(options.asOf);
  const plan = pitPlan(view.view);
  const longestWindow = Math.max(0, ...plan.features.map((f) => f.windowMs ?? 0));
  const [previous] = await db
    .select()
    .from(featureMaterializations)
    .where(and(eq(featureMaterializations.viewName, viewName), eq(featureMaterializations.viewVersion, view.version)))
    .orderBy(desc(featureMaterializations.asOf))
    .limit(1);
  const sinceMs = options.backfill || !previous ? undefined : previous.asOf.getTime() - plan.lagMs - longestWindow;

  const codes = new KeyCodes();
  const events = await readViewEvents(db, view, source.id, codes, plan.valueColumns, { sinceMs, latestUntil: asOfMs - plan.lagMs });
  const entityCodes = [...codes.keys().keys()].filter((code) => events.latest[code] !== undefined);
  const values = await runPointInTime({
    events: events.build(),
    queries: { keys: Int32Array.from(entityCodes), times: new Float64Array(entityCodes.length).fill(asOfMs) },
    features: plan.features,
    lagMs: plan.lagMs,
  });
  const keys = codes.keys();
  const rows = entityCodes.map((code, i) => [
    options.id,
    keys[code],
    Object.fromEntries(plan.features.map((feature, f) => [feature.name, Number.isNaN(values[f][i]) ? null : values[f][i]])),
    new Date(events.latest[code]).toISOString(),
  ]);
  let newest = Number.NEGATIVE_INFINITY;
  for (const code of entityCodes) newest = Math.max(newest, events.latest[code]);
  const latestEventTime = entityCodes.length === 0 ? null : new Date(newest).toISOString();

  await db.execute(sql`delete from online_features_staging where materialization_id = ${options.id}`);
  await database.copyRows('online_features_staging', ['materialization_id', 'entity_key', 'values', 'event_time'], rows);
  const asOf = new Date(asOfMs);
  await db.transaction(async (tx) => {
    await tx.execute(sql`
      insert into online_features (view_name, entity_key, view_version, values, event_time, as_of, materialization_id)
      select ${viewName}, entity_key, ${view.version}, values, event_time, ${asOf.toISOString()}::timestamptz, materialization_id
      from online_features_staging where materialization_id = ${options.id}
      on conflict (view_name, entity_key) do update set
        view_version = excluded.view_version, values = excluded.values, event_time = excluded.event_time,
        as_of = excluded.as_of, materialization_id = excluded.materialization_id`);
    await tx.execute(sql`delete from online_features_staging where materialization_id = ${options.id}`);
    await tx.insert(featureMaterializations).values({
      id: options.id,
      viewName,
      viewVersion: view.version,
      datasetVersionId: source.id,
      asOf,
      since: sinceMs === undefined ? null : new Date(sinceMs),
      latestEventTime: latestEventTime === null ? null : new Date(latestEventTime),
      entities: rows.length,
    });
  });
  return {
    id: options.id,
    view: viewName,
    version: view.version,
    datasetVersionId: source.id,
    asOf: asOf.toISOString(),
    since: sinceMs === undefined ? null : new Date(sinceMs).toISOString(),
    entities: rows.length,
    latestEventTime,
    written: true,
  };
}

function resultOf(row: Materialization, written: boolean): MaterializeResult {
  return {
    id: row.id,
    view: row.viewName,
    version: row.viewVersion,
    datasetVersionId: row.datasetVersionId,
    asOf: row.asOf.toISOString(),
    since: row.since?.toISOString() ?? null,
    entities: row.entities,
    latestEventTime: row.latestEventTime?.toISOString() ?? null,
    written,
  };
}

/** Staleness of a view: now minus the newest materialised event time (ms), or null if never materialised. */
export function staleness(last: Materialization | undefined, now: number): number | null {
  return last?.latestEventTime ? now - last.latestEventTime.getTime() : null;
}
