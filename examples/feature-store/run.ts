/**
 * `npm run example:feature-store`: the flights scenario of docs/features.md, "Feature store".
 *
 * Real flights of January–March 2001 (vega-datasets' flights-3m.parquet) from a set of mid-size
 * airports (FEATURE_STORE_ORIGINS, default 12). Per-origin and per-route delay rates and mean
 * delays over 7 and 28 days, known one day after the flight (availability lag 1d). Three logistic
 * models on the same rows: row columns only; with the point-in-time features; with leaky features
 * (windows that include the flight's own day). Trained on 1 January–14 February, judged offline
 * on 15–28 February, then March is served day by day through the online store: each day the views
 * are materialised as of midnight, and the flights' inputs are filled by the model server's own
 * enrichment code (src/serving/feature-enrichment.ts) from the online table.
 *
 * Runs on an embedded PGlite database in a temporary directory; prints a JSON summary last.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFlightColumns } from '../../bench/features/flights-columns';
import type { Row } from '../../src/data/columns';
import { readDatasetRows } from '../../src/data/dataset-store';
import { flightColumnSpecs } from '../../src/data/flights-recipe';
import { ingestDataset } from '../../src/data/ingest';
import { openDatabase } from '../../src/db/database';
import { pitPlan } from '../../src/features/definitions';
import { materializeView } from '../../src/features/materialize';
import { entityKey, KeyCodes, pointInTime } from '../../src/features/point-in-time';
import { buildTrainingSet } from '../../src/features/training-set';
import { getView, readViewEvents, registerViews, viewSourceVersion } from '../../src/features/view-store';
import { rocAuc } from '../../src/ml/metrics-common';
import { predictProba } from '../../src/ml/model';
import { trainLogisticModel } from '../../src/ml/train';
import { FeatureEnricher } from '../../src/serving/feature-enrichment';
import type { FeatureSpec } from '../../src/shared/feature-spec';
import { featureStoreDefinitionsSchema } from '../../src/shared/feature-store';
import { intervalMs } from '../../src/shared/interval';
import { modelContractSchema, type ContractFeatureView } from '../../src/shared/model-contract';

const DAY = 86_400_000;
const originCount = Number(process.env.FEATURE_STORE_ORIGINS ?? 12);
const log = (message: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);

const defs = featureStoreDefinitionsSchema.parse({
  entities: [
    { name: 'origin', joinKeys: ['origin'] },
    { name: 'route', joinKeys: ['origin', 'destination'] },
  ],
  views: [
    {
      name: 'origin_delays',
      entities: ['origin'],
      source: { dataset: 'flight-events' },
      timestamp: 'date',
      availabilityLag: '1d',
      features: [
        { name: 'origin_delay_rate_7d', column: 'delay', aggregation: 'rate', window: '7d', threshold: 15 },
        { name: 'origin_delay_rate_28d', column: 'delay', aggregation: 'rate', window: '28d', threshold: 15 },
        { name: 'origin_mean_delay_7d', column: 'delay', aggregation: 'mean', window: '7d' },
        { name: 'origin_mean_delay_28d', column: 'delay', aggregation: 'mean', window: '28d' },
      ],
    },
    {
      name: 'route_delays',
      entities: ['route'],
      source: { dataset: 'flight-events' },
      timestamp: 'date',
      availabilityLag: '1d',
      features: [
        { name: 'route_delay_rate_7d', column: 'delay', aggregation: 'rate', window: '7d', threshold: 15 },
        { name: 'route_delay_rate_28d', column: 'delay', aggregation: 'rate', window: '28d', threshold: 15 },
        { name: 'route_mean_delay_28d', column: 'delay', aggregation: 'mean', window: '28d' },
      ],
    },
  ],
});
const viewFeatureNames = defs.views.flatMap((v) => v.features.map((f) => f.name));
const rowFeatures: FeatureSpec[] = [
  { name: 'hour', kind: 'categorical' },
  { name: 'weekday', kind: 'categorical' },
  { name: 'distance', kind: 'numeric' },
  { name: 'origin', kind: 'categorical' },
  { name: 'destination', kind: 'categorical' },
];
const withViews: FeatureSpec[] = [...rowFeatures, ...viewFeatureNames.map((name): FeatureSpec => ({ name, kind: 'numeric' }))];
const params = { l2: 1e-4, maxIterations: 200, tolerance: 1e-6, maxCategories: 400 };

/** ROC AUC with its standard error (Hanley & McNeil 1982). */
function auc(labels: number[], scores: Float64Array): { auc: number; se: number; n: number } {
  const value = rocAuc(labels, scores);
  const pos = labels.filter((y) => y === 1).length;
  const neg = labels.length - pos;
  const q1 = value / (2 - value);
  const q2 = (2 * value * value) / (1 + value);
  const se = Math.sqrt((value * (1 - value) + (pos - 1) * (q1 - value * value) + (neg - 1) * (q2 - value * value)) / (pos * neg));
  return { auc: round(value), se: round(se), n: labels.length };
}
const round = (x: number) => Math.round(x * 1e4) / 1e4;
const timeOf = (row: Row) => Date.parse(`${String(row.date)}Z`);

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'keel-feature-store-'));
  const database = await openDatabase({ dataDir: dir });
  try {
    log('reading flights of January–March 2001');
    const flights = await readFlightColumns(Date.UTC(2001, 0, 1), Date.UTC(2001, 3, 1));
    const counts = new Map<string, number>();
    const airport = (code: number) => flights.airports[code];
    for (const code of flights.origin) counts.set(airport(code), (counts.get(airport(code)) ?? 0) + 1);
    const origins = new Set(
      [...counts]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(30, 30 + originCount)
        .map(([o]) => o),
    );
    const lines = ['date,delay,distance,origin,destination'];
    for (let i = 0; i < flights.rows; i++) {
      const origin = airport(flights.origin[i]);
      if (origins.has(origin))
        lines.push(
          `${new Date(flights.time[i]).toISOString().slice(0, 19)},${flights.delay[i]},${flights.distance[i]},${origin},${airport(flights.destination[i])}`,
        );
    }
    const csv = join(dir, 'flights.csv');
    await writeFile(csv, `${lines.join('\n')}\n`);
    log(`${lines.length - 1} flights from ${[...origins].join(', ')}`);

    const spec = (name: string, to?: string) => ({
      name,
      recipe: 'mapping' as const,
      sources: [
        {
          format: 'csv' as const,
          path: csv,
          mapping: {
            hour: { from: 'date', part: 'hour' as const },
            weekday: { from: 'date', part: 'weekday' as const },
            delayed: { from: 'delay', flag: { gt: 15 } },
          },
        },
      ],
      columns: flightColumnSpecs,
      ...(to ? { filter: { column: 'date', to } } : {}),
    });
    log('ingesting the events (all three months) and the training rows (January–February)');
    await ingestDataset(database, spec('flight-events'));
    const trainRowsVersion = await ingestDataset(database, spec('flights-jan-feb', '2001-03-01'));
    await registerViews(database.db, defs);

    log('building the point-in-time training set');
    const started = performance.now();
    const set = await buildTrainingSet(
      database,
      trainRowsVersion.datasetVersionId,
      defs.views.map((v) => v.name),
    );
    const pitSeconds = (performance.now() - started) / 1000;
    const rows = await readDatasetRows(database.db, set.datasetVersionId);

    log("the leaky build: the same windows, ending at the end of each flight's own day");
    const leaky = await leakyValues(database, rows);
    const leakyRows = rows.map((row, i) => ({
      ...row,
      ...Object.fromEntries(viewFeatureNames.map((name) => [name, leaky.get(name)![i]])),
    }));

    const split = Date.UTC(2001, 1, 15);
    const train = rows.filter((r) => timeOf(r) < split);
    const heldOut = rows.filter((r) => timeOf(r) >= split);
    const leakyTrain = leakyRows.filter((r) => timeOf(r) < split);
    const leakyHeldOut = leakyRows.filter((r) => timeOf(r) >= split);
    const labels = (list: Row[]) => list.map((r) => Number(r.delayed));

    log(`training three logistic models on ${train.length} flights`);
    const rowOnly = trainLogisticModel({ features: rowFeatures, target: 'delayed', params, train });
    const pit = trainLogisticModel({ features: withViews, target: 'delayed', params, train });
    const leakyModel = trainLogisticModel({ features: withViews, target: 'delayed', params, train: leakyTrain });
    const offline = {
      rowOnly: auc(labels(heldOut), predictProba(rowOnly, heldOut)),
      pointInTime: auc(labels(heldOut), predictProba(pit, heldOut)),
      leaky: auc(labels(leakyHeldOut), predictProba(leakyModel, leakyHeldOut)),
    };
    log(`offline ROC AUC on 15–28 February: ${JSON.stringify(offline)}`);

    log('serving March through the online store, materialised each midnight');
    const march = (await ingestDataset(database, { ...spec('flights-march'), filter: { column: 'date', from: '2001-03-01' } }))
      .datasetVersionId;
    const marchRows = await readDatasetRows(database.db, march);
    const contract = modelContractSchema.parse({
      task: 'binary',
      inputs: withViews.map((f) => ({ name: f.name, type: f.kind === 'numeric' ? 'float32' : 'string' })),
      outputs: [
        { name: 'probability', type: 'float32', shape: [-1, 1] },
        { name: 'label', type: 'int64', shape: [-1, 1] },
      ],
      featureViews: await contractViews(database),
    });
    const enricher = new FeatureEnricher(database.db, 0);
    const served: Row[] = [];
    const servedAt: number[] = [];
    let materializeSeconds = 0;
    for (let day = Date.UTC(2001, 2, 1); day < Date.UTC(2001, 3, 1); day += DAY) {
      const t0 = performance.now();
      for (const view of defs.views) await materializeView(database, view.name, { id: `example/${view.name}/${day}`, asOf: day });
      materializeSeconds += (performance.now() - t0) / 1000;
      const today = marchRows.filter((r) => timeOf(r) >= day && timeOf(r) < day + DAY);
      const requests = today.map((r) => Object.fromEntries(rowFeatures.map((f) => [f.name, r[f.name]])));
      const filled = (await enricher.enrich(contract, requests)) as Row[];
      filled.forEach((row, i) => {
        served.push({ ...row, delayed: today[i].delayed, date: today[i].date });
        servedAt.push(day);
      });
    }
    const online = {
      pointInTime: auc(labels(served), predictProba(pit, served)),
      rowOnly: auc(labels(served), predictProba(rowOnly, served)),
      leaky: auc(labels(served), predictProba(leakyModel, served)),
    };
    log(`online ROC AUC on March (${served.length} logged predictions): ${JSON.stringify(online)}`);
    // The same March flights with the offline store's values at each flight's own time: what the
    // online AUC should match if serving is faithful (February → March also drifts, see rowOnly).
    const offlineMarch = await offlineValues(database, marchRows);
    const marchOfflineRows = marchRows.map((row, i) => ({
      ...row,
      ...Object.fromEntries(viewFeatureNames.map((name) => [name, offlineMarch.get(name)![i]])),
    }));
    const marchOffline = auc(labels(marchOfflineRows), predictProba(pit, marchOfflineRows));
    log(`the point-in-time model on March with offline values at each flight's time: ${JSON.stringify(marchOffline)}`);

    log('checking that the served values equal the offline store at the same entity and time');
    const maxDiff = await compareWithOffline(database, served, servedAt);

    const summary = {
      origins: [...origins],
      flights: lines.length - 1,
      trainRows: train.length,
      heldOutRows: heldOut.length,
      marchPredictions: served.length,
      pitBuildSeconds: round(pitSeconds),
      materializeSecondsPerDay: round(materializeSeconds / 31),
      offline,
      online,
      // (a) leakage measured: the leaky model looks better offline and loses it on March.
      leakyOfflineGain: round(offline.leaky.auc - offline.pointInTime.auc),
      leakyMarchDrop: round(offline.leaky.auc - online.leaky.auc),
      // (b) offline and online agree: the difference in standard errors of the difference.
      pitOfflineMinusOnline: round(offline.pointInTime.auc - online.pointInTime.auc),
      pitAgreementZ: round((offline.pointInTime.auc - online.pointInTime.auc) / Math.hypot(offline.pointInTime.se, online.pointInTime.se)),
      // The drift from February to March, as the row-only model sees it (no feature store involved).
      rowOnlyFebruaryMinusMarch: round(offline.rowOnly.auc - online.rowOnly.auc),
      // Serving against the offline store on the same March flights (values at each flight's own time).
      pitMarchOffline: marchOffline,
      pitMarchOfflineMinusOnline: round(marchOffline.auc - online.pointInTime.auc),
      // (c) the served values against the offline store's.
      servedVsOfflineMaxAbsDiff: maxDiff,
      // The honest gain of the store's features over the row columns.
      gainOverRowOnlyOffline: round(offline.pointInTime.auc - offline.rowOnly.auc),
      gainOverRowOnlyMarch: round(online.pointInTime.auc - online.rowOnly.auc),
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Each view's values with windows that end at the end of the flight's own day: they see its outcome. */
function leakyValues(database: Awaited<ReturnType<typeof openDatabase>>, rows: Row[]): Promise<Map<string, Float64Array>> {
  return valuesAt(database, rows, (r) => Math.floor(timeOf(r) / DAY) * DAY + DAY - 1, false);
}

/** The offline store's values for each row as of its own time minus the lag. */
function offlineValues(database: Awaited<ReturnType<typeof openDatabase>>, rows: Row[]): Promise<Map<string, Float64Array>> {
  return valuesAt(database, rows, timeOf, true);
}

async function valuesAt(
  database: Awaited<ReturnType<typeof openDatabase>>,
  rows: Row[],
  at: (row: Row) => number,
  lagged: boolean,
): Promise<Map<string, Float64Array>> {
  const out = new Map<string, Float64Array>();
  for (const def of defs.views) {
    const view = await getView(database.db, def.name);
    const plan = pitPlan(view.view);
    const codes = new KeyCodes();
    const events = await readViewEvents(database.db, view, (await viewSourceVersion(database.db, view)).id, codes, plan.valueColumns);
    const keys = Int32Array.from(rows, (r) => codes.code(entityKey(view.joinKeys.map((k) => r[k]))));
    const times = Float64Array.from(rows, at);
    const values = pointInTime(events.build(), { keys, times }, plan.features, lagged ? plan.lagMs : 0);
    plan.features.forEach((f, i) => out.set(f.name, values[i]));
  }
  return out;
}

async function contractViews(database: Awaited<ReturnType<typeof openDatabase>>): Promise<ContractFeatureView[]> {
  return Promise.all(
    defs.views.map(async (def) => {
      const view = await getView(database.db, def.name);
      return {
        view: view.name,
        version: view.version,
        joinKeys: view.joinKeys,
        features: def.features.map((f) => f.name),
        onMissing: view.view.onMissing,
        defaults: {},
        ttlMs: view.view.ttl ? intervalMs(view.view.ttl) : undefined,
      };
    }),
  );
}

/** The largest difference between a served value and the offline point-in-time value for its entity at its materialisation time. */
async function compareWithOffline(database: Awaited<ReturnType<typeof openDatabase>>, served: Row[], servedAt: number[]): Promise<number> {
  let max = 0;
  for (const def of defs.views) {
    const view = await getView(database.db, def.name);
    const plan = pitPlan(view.view);
    const codes = new KeyCodes();
    const events = await readViewEvents(database.db, view, (await viewSourceVersion(database.db, view)).id, codes, plan.valueColumns);
    const keys = Int32Array.from(served, (r) => codes.code(entityKey(view.joinKeys.map((k) => r[k]))));
    const values = pointInTime(events.build(), { keys, times: Float64Array.from(servedAt) }, plan.features, plan.lagMs);
    plan.features.forEach((f, i) => {
      served.forEach((row, r) => {
        const offline = values[i][r];
        const used = row[f.name];
        const diff = Number.isNaN(offline) ? (used === null ? 0 : Number.POSITIVE_INFINITY) : Math.abs(Number(used) - offline);
        if (diff > max) max = diff;
      });
    });
  }
  return max;
}

await main();
