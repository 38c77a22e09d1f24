import type { Database } from '../db/database';
import { trainingSets } from '../db/schema';
import type { SourceRecord } from '../data/source-types';
import type { ColumnDef } from '../data/columns';
import { getDatasetVersion, streamDatasetRows } from '../data/dataset-store';
import { ingestDataset, type IngestResult } from '../data/ingest';
import { InvalidInputError } from '../shared/errors';
import { QueryColumnsBuilder } from './columns';
import { pitPlan } from './definitions';
import { KeyCodes } from './point-in-time';
import { runPointInTime } from './run-point-in-time';
import { getView, readViewEvents, viewSourceVersion, type RegisteredView } from './view-store';

export interface TrainingSetView {
  name: string;
  version: string;
  /** The dataset version the view's values were computed from. */
  datasetVersionId: string;
  features: string[];
}

export interface TrainingSetResult {
  datasetVersionId: string;
  contentHash: string;
  rowCount: number;
  created: boolean;
  views: TrainingSetView[];
}

export interface TrainingSetOptions {
  /** Stable across retries (the activity's `<workflowId>/<runId>/<activityId>`). */
  ingestKey?: string;
  onProgress?: (step: string) => void;
}

/**
 * A point-in-time training set: each row of `datasetVersionId` gets every feature of `views` as
 * of its own timestamp minus the view's availability lag (./point-in-time.ts), and the result is
 * stored as an ordinary dataset version (`<name>.features`, content-hashed like any other), so
 * validation, splitting, training and lineage work on it unchanged. `training_sets` records which
 * view versions, computed from which dataset versions, made it.
 *
 * Memory: the rows stream through twice (once for their keys and times, once to write), and the
 * join holds typed columns only; the sort and sweep run in a worker thread.
 */
export async function buildTrainingSet(
  database: Database,
  datasetVersionId: string,
  viewNames: readonly string[],
  options: TrainingSetOptions = {},
): Promise<TrainingSetResult> {
  const { db } = database;
  const base = await getDatasetVersion(db, datasetVersionId);
  if (!base) throw new InvalidInputError(`dataset version ${datasetVersionId} does not exist`);
  const baseColumns = base.columns as ColumnDef[];
  const views = await Promise.all(viewNames.map((name) => getView(db, name)));

  const joined: { view: RegisteredView; sourceId: string; values: Float64Array[] }[] = [];
  for (const view of views) {
    const missing = [...view.joinKeys, view.view.timestamp ?? ''].filter((column) => !baseColumns.some((c) => c.name === column));
    if (missing.length > 0 || view.view.timestamp === undefined) {
      throw new InvalidInputError(
        `feature view "${view.name}": the training rows (dataset ${base.name}) need its join keys and timestamp column, missing: ${missing.filter(Boolean).join(', ') || '(the view has no timestamp)'}`,
      );
    }
    for (const feature of view.view.features) {
      if (baseColumns.some((c) => c.name === feature.name))
        throw new InvalidInputError(`feature view "${view.name}": feature "${feature.name}" is also a column of dataset ${base.name}`);
    }
    const source = await viewSourceVersion(db, view);
    const plan = pitPlan(view.view);
    const codes = new KeyCodes();
    options.onProgress?.(`reading events of ${view.name}`);
    const events = await readViewEvents(db, view, source.id, codes, plan.valueColumns);
    const queries = new QueryColumnsBuilder(codes, view.joinKeys, view.view.timestamp);
    options.onProgress?.(`reading training rows for ${view.name}`);
    for await (const chunk of streamDatasetRows(db, datasetVersionId)) queries.add(chunk);
    options.onProgress?.(`joining ${view.name}`);
    const values = await runPointInTime({ events: events.build(), queries: queries.build(), features: plan.features, lagMs: plan.lagMs });
    joined.push({ view, sourceId: source.id, values });
  }

  const featureColumns = joined.flatMap(({ view }) => view.view.features.map((f) => f.name));
  const columns = [
    ...baseColumns.map(({ name, type }) => ({ name, type })),
    ...featureColumns.map((name) => ({ name, type: 'number' as const })),
  ];
  options.onProgress?.('writing the training set');
  const result: IngestResult = await ingestDataset(
    database,
    {
      name: `${base.name.slice(0, 53)}.features`,
      recipe: 'mapping',
      sources: [{ format: 'jsonl', path: `dataset:${base.id}`, name: 'point-in-time' }],
      columns,
    },
    { records: enrichedRecords(database, datasetVersionId, joined), ingestKey: options.ingestKey },
  );
  const lineage: TrainingSetView[] = joined.map(({ view, sourceId }) => ({
    name: view.name,
    version: view.version,
    datasetVersionId: sourceId,
    features: view.view.features.map((f) => f.name),
  }));
  await db
    .insert(trainingSets)
    .values({ datasetVersionId: result.datasetVersionId, sourceDatasetVersionId: datasetVersionId, views: lineage })
    .onConflictDoNothing();
  return {
    datasetVersionId: result.datasetVersionId,
    contentHash: result.contentHash,
    rowCount: result.rowCount,
    created: result.created,
    views: lineage,
  };
}

async function* enrichedRecords(
  database: Database,
  datasetVersionId: string,
  joined: { view: RegisteredView; values: Float64Array[] }[],
): AsyncGenerator<SourceRecord> {
  let index = 0;
  for await (const chunk of streamDatasetRows(database.db, datasetVersionId)) {
    for (const row of chunk) {
      const record: Record<string, unknown> = { ...row };
      for (const { view, values } of joined) {
        view.view.features.forEach((feature, f) => {
          const value = values[f][index];
          record[feature.name] = Number.isNaN(value) ? null : value;
        });
      }
      yield { recordNumber: index++, record };
    }
  }
}
