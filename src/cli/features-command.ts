import { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { and, desc, eq } from 'drizzle-orm';
import { featureMaterializations, onlineFeatures } from '../db/schema';
import { loadFeatureDefinitions } from '../features/definitions';
import { lastMaterialization, staleness, type MaterializeResult } from '../features/materialize';
import { entityKey } from '../features/point-in-time';
import { getView, listViews, registerViews, viewHistory } from '../features/view-store';
import { loadProjectConfig } from '../runtime/project-config';
import { ensureScheduleOptions, featureScheduleFor } from '../runtime/schedules';
import { InvalidInputError } from '../shared/errors';
import { materializeFeaturesInputSchema } from '../shared/feature-store';
import { taskQueues, workflowIds } from '../shared/task-queues';
import { parseOrThrow } from '../shared/validation';
import type { WithDb } from './database';
import { printResult } from './output';
import { table } from './text-table';

type WithClient = <T>(work: (client: Client) => Promise<T>) => Promise<T>;

const short = (version: string) => version.slice(0, 12);
const age = (ms: number | null) =>
  ms === null
    ? 'never'
    : ms < 3_600_000
      ? `${Math.round(ms / 60_000)}m`
      : ms < 172_800_000
        ? `${(ms / 3_600_000).toFixed(1)}h`
        : `${(ms / 86_400_000).toFixed(1)}d`;

/** `keel features apply|list|show|materialize|get`: the feature store (docs/features.md, "Feature store"). */
export function featuresCommand(withDb: WithDb, withClient: WithClient, configPath: string): Command {
  const command = new Command('features').description(
    'feature views: register, list, show, materialise into the online store, read online values',
  );

  command
    .command('apply')
    .description("register keel.config.json's featureStore (a changed view is a new version) and its materialisation schedule")
    .option('--no-schedule', 'register the views only')
    .option('--json', 'machine-readable output')
    .action(async (opts: { schedule: boolean; json?: boolean }) => {
      const config = await loadProjectConfig(configPath);
      if (!config.featureStore) throw new InvalidInputError(`${configPath} has no featureStore section`);
      const defs = await loadFeatureDefinitions(config.featureStore, configPath);
      const registered = await withDb((db) => registerViews(db, defs));
      const schedule = opts.schedule ? featureScheduleFor(defs) : undefined;
      if (schedule) await withClient((client) => ensureScheduleOptions(client, [schedule]));
      printResult(opts.json, { views: registered, schedule: schedule?.scheduleId ?? null }, () =>
        [
          ...registered.map((v) => `${v.name}  ${short(v.version)}  ${v.created ? 'new version' : 'unchanged'}`),
          ...(schedule ? [`schedule ${schedule.scheduleId} every ${defs.materializeEvery}`] : []),
        ].join('\n'),
      );
    });

  command
    .command('list')
    .description('views with their version, entities, features and freshness')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const rows = await withDb(async (db) => {
        const views = await listViews(db);
        const now = Date.now();
        return Promise.all(
          views.map(async (view) => {
            const last = await lastMaterialization(db, view.name);
            return {
              name: view.name,
              version: view.version,
              entities: view.view.entities,
              features: view.view.features.map((f) => f.name),
              lastAsOf: last?.asOf.toISOString() ?? null,
              latestEventTime: last?.latestEventTime?.toISOString() ?? null,
              stalenessMs: staleness(last, now),
            };
          }),
        );
      });
      printResult(opts.json, rows, () =>
        table(
          ['view', 'version', 'entities', 'features', 'materialised as of', 'staleness'],
          rows.map((r) => [
            r.name,
            short(r.version),
            r.entities.join(','),
            String(r.features.length),
            r.lastAsOf ?? 'never',
            age(r.stalenessMs),
          ]),
        ).join('\n'),
      );
    });

  command
    .command('show <view>')
    .description("a view's definition, its versions and its last materialisations")
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts: { json?: boolean }) => {
      const shown = await withDb(async (db) => {
        const view = await getView(db, name);
        const versions = (await viewHistory(db, name)).map((v) => ({ version: v.version, registered: v.createdAt.toISOString() }));
        const runs = await db
          .select()
          .from(featureMaterializations)
          .where(eq(featureMaterializations.viewName, name))
          .orderBy(desc(featureMaterializations.asOf))
          .limit(5);
        return { ...view, versions, materializations: runs };
      });
      printResult(opts.json, shown, () =>
        [
          `${shown.name}  version ${short(shown.version)}  join keys ${shown.joinKeys.join(', ')}  lag ${shown.view.availabilityLag}${shown.view.ttl ? `  ttl ${shown.view.ttl}` : ''}  on missing: ${shown.view.onMissing}`,
          `source: ${JSON.stringify(shown.view.source)}  timestamp: ${shown.view.timestamp ?? '-'}`,
          ...table(
            ['feature', 'column', 'aggregation', 'window'],
            shown.view.features.map((f) => [f.name, f.column ?? '-', f.aggregation ?? '(latest value)', f.window ?? '-']),
          ),
          `versions: ${shown.versions.map((v) => `${short(v.version)} (${v.registered})`).join(', ')}`,
          ...shown.materializations.map(
            (m) =>
              `materialised as of ${m.asOf.toISOString()}: ${m.entities} entities${m.since ? ` (events since ${m.since.toISOString()})` : ' (all events)'}, ${m.id}`,
          ),
        ].join('\n'),
      );
    });

  command
    .command('materialize [views...]')
    .description('run the materializeFeatures workflow (default: every registered view)')
    .option('--as-of <time>', 'values as of this ISO 8601 time (default: now)')
    .option('--backfill', 'recompute every entity from all events')
    .option('--no-wait', 'start it and return')
    .option('--json', 'machine-readable output')
    .action(async (views: string[], opts: { asOf?: string; backfill?: boolean; wait: boolean; json?: boolean }) => {
      const names = views.length > 0 ? views : (await withDb(listViews)).map((v) => v.name);
      const input = parseOrThrow(
        materializeFeaturesInputSchema,
        { views: names, asOf: opts.asOf, backfill: opts.backfill ?? false },
        'features materialize',
        (m) => new InvalidInputError(m),
      );
      const workflowId = workflowIds.materialize(names.join('+'), `cli-${Date.now()}`);
      const result = await withClient(async (client) => {
        const handle = await client.workflow.start('materializeFeatures', { taskQueue: taskQueues.control, workflowId, args: [input] });
        return opts.wait ? ((await handle.result()) as { views: MaterializeResult[] }) : undefined;
      });
      printResult(opts.json, result ?? { workflowId }, () =>
        result
          ? result.views
              .map(
                (v) =>
                  `${v.view}  as of ${v.asOf}: ${v.entities} entities written${v.since ? ` (events since ${v.since})` : ' (all events)'}`,
              )
              .join('\n')
          : `started ${workflowId}`,
      );
    });

  command
    .command('get <view> <key...>')
    .description("an entity's online values, by its join key values in order (a route: get route_delays ORD LGA)")
    .option('--json', 'machine-readable output')
    .action(async (name: string, key: string[], opts: { json?: boolean }) => {
      const row = await withDb(async (db) => {
        const view = await getView(db, name);
        if (key.length !== view.joinKeys.length)
          throw new InvalidInputError(
            `view "${name}" is keyed by ${view.joinKeys.join(', ')}: give ${view.joinKeys.length} value(s), got ${key.length}`,
          );
        const [found] = await db
          .select()
          .from(onlineFeatures)
          .where(and(eq(onlineFeatures.viewName, name), eq(onlineFeatures.entityKey, entityKey(key))));
        if (!found)
          throw new InvalidInputError(
            `no online values for ${view.joinKeys.map((k, i) => `${k}=${key[i]}`).join(', ')} in view "${name}" (not materialised, or no events)`,
          );
        return found;
      });
      printResult(opts.json, row, () =>
        [
          ...Object.entries(row.values as Record<string, number | null>).map(([feature, value]) => `${feature}  ${value ?? 'null'}`),
          `as of ${row.asOf.toISOString()}, newest event ${row.eventTime?.toISOString() ?? '-'}, view version ${short(row.viewVersion)}`,
        ].join('\n'),
      );
    });

  return command;
}
