import { resolve } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { featureMaterializations, modelVersions, onlineFeatures, predictionLog, trainingSets } from '../../src/db/schema';
import { readDatasetRows } from '../../src/data/dataset-store';
import { flightColumnSpecs } from '../../src/data/flights-recipe';
import { ingestDataset } from '../../src/data/ingest';
import { EventColumnsBuilder } from '../../src/features/columns';
import { pitPlan } from '../../src/features/definitions';
import { entityKey, KeyCodes, pointInTime } from '../../src/features/point-in-time';
import { getView, registerViews } from '../../src/features/view-store';
import { startModelServer } from '../../src/serving/http-server';
import { createUiApp } from '../../src/ui/server';
import { viewFreshness } from '../../src/features/freshness';
import { featureStoreDefinitionsSchema } from '../../src/shared/feature-store';
import type { MappedDatasetSpec } from '../../src/shared/dataset-spec';
import { modelContractSchema } from '../../src/shared/model-contract';
import type { TrainingPipelineResult } from '../../src/shared/pipeline-result';
import { taskQueues } from '../../src/shared/task-queues';
import { createHarness, type Harness } from './harness';

/**
 * The flights scenario, small: 3,010 real flights from Omaha and Richmond, January–March 2001
 * (test/fixtures). Per-origin and per-route delay rates and mean delay over 7 and 28 days with a
 * one-day availability lag; a pipeline trains on January–February through a point-in-time join;
 * materializeFeatures fills the online store as of 10 March; the model server fills a March
 * request from it, and the values it used equal the offline store's for that entity and time.
 */
const fixture = resolve('test/fixtures/flights-oma-ric-2001q1.csv');
const suffix = Date.now().toString(36);
const model = `features-it-${suffix}`;
const flightMapping = {
  hour: { from: 'date', part: 'hour' },
  weekday: { from: 'date', part: 'weekday' },
  delayed: { from: 'delay', flag: { gt: 15 } },
} as const;
const flights = (name: string, to?: string): MappedDatasetSpec => ({
  name,
  recipe: 'mapping',
  sources: [{ format: 'csv', path: fixture, mapping: { ...flightMapping } }],
  columns: flightColumnSpecs,
  ...(to ? { filter: { column: 'date', to } } : {}),
});

const eventsName = `flight-events-${suffix}`;
const defs = featureStoreDefinitionsSchema.parse({
  entities: [
    { name: 'origin', joinKeys: ['origin'] },
    { name: 'route', joinKeys: ['origin', 'destination'] },
  ],
  views: [
    {
      name: `origin_${suffix}`,
      entities: ['origin'],
      source: { dataset: eventsName },
      timestamp: 'date',
      availabilityLag: '1d',
      onMissing: 'default',
      staleAfter: '1d',
      defaults: { [`origin_rate_7d_${suffix}`]: 0.2 },
      features: [
        { name: `origin_rate_7d_${suffix}`, column: 'delay', aggregation: 'rate', window: '7d', threshold: 15 },
        { name: `origin_mean_28d_${suffix}`, column: 'delay', aggregation: 'mean', window: '28d' },
      ],
    },
    {
      name: `route_${suffix}`,
      entities: ['route'],
      source: { dataset: eventsName },
      timestamp: 'date',
      availabilityLag: '1d',
      onMissing: 'reject',
      features: [{ name: `route_rate_28d_${suffix}`, column: 'delay', aggregation: 'rate', window: '28d', threshold: 15 }],
    },
  ],
});
const [originView, routeView] = defs.views as [(typeof defs.views)[0], (typeof defs.views)[0]];
const viewFeatures = [...originView.features, ...routeView.features].map((f) => f.name);

let harness: Harness;

describe('feature store on real Temporal and the database', () => {
  beforeAll(async () => {
    harness = await createHarness();
    await ingestDataset(harness.database, flights(eventsName));
    await registerViews(harness.database.db, defs);
  });
  afterAll(() => harness?.close());

  it('trains on a point-in-time join, materialises, and serves the same values', async () => {
    const { database, artifacts, client } = harness;
    const db = database.db;
    const server = await startModelServer({ database, artifacts, port: 0, refreshMs: 60_000 });
    harness.setOnDeployed(async () => void (await server.pool.refresh()));
    try {
      const pipeline = {
        model,
        dataset: flights(`flights-train-${suffix}`, '2001-03-01'),
        featureViews: [originView.name, routeView.name],
        features: [
          { name: 'hour', kind: 'numeric' },
          { name: 'distance', kind: 'numeric' },
          { name: 'origin', kind: 'categorical' },
          { name: 'destination', kind: 'categorical' },
          ...viewFeatures.map((name) => ({ name, kind: 'numeric' })),
        ],
        target: 'delayed',
        trainer: { kind: 'logistic-regression', maxIterations: 50, tolerance: 1e-5 },
        gate: {},
        deploy: true,
      };
      const { result, materialized } = await harness.withWorkers(async () => {
        const trained = (await client.workflow.execute('trainingPipeline', {
          taskQueue: taskQueues.control,
          workflowId: `train/${model}/it`,
          args: [pipeline],
        })) as TrainingPipelineResult;
        const run = (asOf: string, id: string) =>
          client.workflow.execute('materializeFeatures', {
            taskQueue: taskQueues.control,
            workflowId: `features/${suffix}/${id}`,
            args: [{ views: [originView.name, routeView.name], asOf }],
          });
        const first = (await run('2001-03-10T00:00:00Z', 'first')) as { views: { since: string | null; entities: number }[] };
        const second = (await run('2001-03-11T00:00:00Z', 'second')) as { views: { since: string | null; entities: number }[] };
        return { result: trained, materialized: [first, second] };
      });
      expect(result.status).toBe('registered');
      if (result.status !== 'registered') return;

      // Lineage: the training set is a dataset version of its own, made from the ingested one by these view versions.
      const [set] = await db.select().from(trainingSets).where(eq(trainingSets.datasetVersionId, result.datasetVersionId));
      const originRegistered = await getView(db, originView.name);
      expect(set.views).toEqual([
        expect.objectContaining({
          name: originView.name,
          version: originRegistered.version,
          features: originView.features.map((f) => f.name),
        }),
        expect.objectContaining({ name: routeView.name }),
      ]);
      const trainingRows = await readDatasetRows(db, result.datasetVersionId);
      expect(trainingRows.every((row) => String(row.date) < '2001-03-01')).toBe(true);

      // The point-in-time rule on the stored rows: each value uses events up to its own day minus one, never later.
      const events = await readDatasetRows(db, (set.views as { datasetVersionId: string }[])[0].datasetVersionId);
      const row = trainingRows.find((r) => String(r.date) >= '2001-02-20' && r.origin === 'OMA')!;
      const asOf = Date.parse(`${String(row.date)}Z`) - 86_400_000;
      const window = events.filter(
        (e) => e.origin === 'OMA' && Date.parse(`${String(e.date)}Z`) <= asOf && Date.parse(`${String(e.date)}Z`) > asOf - 7 * 86_400_000,
      );
      expect(row[`origin_rate_7d_${suffix}`]).toBeCloseTo(window.filter((e) => Number(e.delay) > 15).length / window.length, 12);

      // The model's contract says which inputs come from which view.
      const [version] = await db.select().from(modelVersions).where(eq(modelVersions.modelName, model));
      const contract = modelContractSchema.parse(version.contract);
      expect(contract.featureViews?.map((v) => [v.view, v.joinKeys, v.onMissing])).toEqual([
        [originView.name, ['origin'], 'default'],
        [routeView.name, ['origin', 'destination'], 'reject'],
      ]);

      // Materialisation: the second run is incremental, and both leave one row per entity.
      expect(materialized[0].views[0].since).toBeNull();
      expect(materialized[1].views[0].since).not.toBeNull();
      const runs = await db.select().from(featureMaterializations).where(eq(featureMaterializations.viewName, originView.name));
      expect(runs).toHaveLength(2);
      const online = await db.select().from(onlineFeatures).where(eq(onlineFeatures.viewName, originView.name));
      expect(online.map((o) => o.entityKey).sort()).toEqual(['OMA', 'RIC']);
      expect(online.every((o) => o.asOf.toISOString() === '2001-03-11T00:00:00.000Z')).toBe(true);
      // Nothing newer than the as-of time minus the lag was known to it.
      expect(online.every((o) => o.eventTime! <= new Date('2001-03-10T00:00:00Z'))).toBe(true);

      // The dashboard lists the views with their freshness; the monitor's check finds them stale against today.
      const ui = createUiApp({ database, links: { ui: 'http://127.0.0.1:8233', namespace: 'default' }, adminKeys: [], host: '127.0.0.1' });
      const page = await (await ui.request('/features')).text();
      expect(page).toContain(originView.name);
      expect(page).toContain('2001-03-11T00:00:00.000Z');
      const freshness = await viewFreshness(db, Date.parse('2001-03-12T00:00:00Z'), [originView.name]);
      expect(freshness).toEqual([expect.objectContaining({ view: originView.name, stale: true, staleAfterMs: 86_400_000 })]);
      expect(freshness[0].stalenessMs).toBeGreaterThan(86_400_000);

      // Serving: the server fills the view inputs by the request's entity keys.
      const url = `http://127.0.0.1:${server.port}/v1/models/${model}:predict`;
      const post = (instances: unknown[]) =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances }) });
      const march = { hour: 9, distance: 500, origin: 'OMA', destination: 'DEN' };
      const ok = await post([march]);
      expect(ok.status).toBe(200);
      const overridden = await post([{ ...march, [`origin_rate_7d_${suffix}`]: 0.9 }]);
      expect(overridden.status).toBe(200);
      const noKey = await post([{ hour: 9, distance: 500, destination: 'DEN' }]);
      expect(noKey.status).toBe(400);
      expect(((await noKey.json()) as { error: string }).error).toMatch(
        /instances\[0\]\.origin is missing: it is the entity key of feature view "origin_/,
      );
      const unknownRoute = await post([{ ...march, destination: 'XXX' }]);
      expect(unknownRoute.status).toBe(422);
      expect(((await unknownRoute.json()) as { error: string }).error).toBe(
        `instances[0]: entity "OMA/XXX" has no values in feature view "${routeView.name}"`,
      );
      const unknownOrigin = await post([{ ...march, origin: 'ZZZ', [`route_rate_28d_${suffix}`]: 0.1 }]);
      expect(unknownOrigin.status).toBe(200);

      await server.close();
      const logged = await db.select().from(predictionLog).where(eq(predictionLog.modelName, model));
      const inputs = logged.map((l) => l.inputs as Record<string, unknown>);
      const used = inputs.find((i) => i.origin === 'OMA' && i[`origin_rate_7d_${suffix}`] !== 0.9)!;
      expect(inputs.find((i) => i[`origin_rate_7d_${suffix}`] === 0.9)).toBeTruthy();
      // The default policy of the origin view: the feature's default, else 0.
      expect(inputs.find((i) => i.origin === 'ZZZ')).toMatchObject({ [`origin_rate_7d_${suffix}`]: 0.2, [`origin_mean_28d_${suffix}`]: 0 });

      // (c) The values the server used equal the offline store's for the same entity and time.
      const codes = new KeyCodes();
      const plan = pitPlan(originView);
      const builder = new EventColumnsBuilder(codes, ['origin'], 'date', plan.valueColumns);
      builder.add(events);
      const offline = pointInTime(
        builder.build(),
        { keys: Int32Array.from([codes.code(entityKey(['OMA']))]), times: Float64Array.from([Date.parse('2001-03-11T00:00:00Z')]) },
        plan.features,
        plan.lagMs,
      );
      expect(used[`origin_rate_7d_${suffix}`]).toBeCloseTo(offline[0][0], 12);
      expect(used[`origin_mean_28d_${suffix}`]).toBeCloseTo(offline[1][0], 12);
    } finally {
      await server.close().catch(() => {});
    }
  });
});
