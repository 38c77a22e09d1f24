import { and, eq } from 'drizzle-orm';
import type { Row } from '../data/columns';
import { getDatasetVersion, streamDatasetRows } from '../data/dataset-store';
import type { Db } from '../db/database';
import { driftReferences } from '../db/schema';
import { type BatchScores, scoreOnnxInWorkerThread } from '../ml/batch-score';
import { assignSplit } from '../ml/split';
import type { ArtifactStore } from '../registry/artifact-store';
import type { ModelVersion } from '../registry/model-registry';
import { DataValidationError } from '../shared/errors';
import type { PerformanceReference } from './live-performance';
import { featureSpecsOf, legacyColumns, monitoredColumns, monitoredRows, type MonitoredColumn } from './monitored-columns';
import { DriftReferenceBuilder, numericDriftReference, type DriftReference, type DriftReferenceSet } from './reference';

/** The part of a version's contract the references read: its raw inputs. */
export interface ContractInputs {
  inputs: { name: string; type: string }[];
}

interface ReferenceSummary {
  /** Dataset rows the feature references were built from. */
  rows: number;
  /** Test-split rows scored for the prediction reference, and positive labels among them. */
  testRows: number;
  positives: number;
  target: string;
  /** The version's registered test-split metrics. */
  metrics: PerformanceReference;
}

export interface StoredReference {
  datasetVersionId: string;
  /** How the compared columns read raw values (absent in references stored before datetime and boolean features). */
  columns: MonitoredColumn[];
  features: DriftReferenceSet;
  prediction: DriftReference | null;
  summary: ReferenceSummary;
}

/** Whether the drift references of the version are stored. */
export async function hasReference(db: Db, model: string, version: number): Promise<boolean> {
  const [existing] = await db
    .select({ version: driftReferences.version })
    .from(driftReferences)
    .where(and(eq(driftReferences.modelName, model), eq(driftReferences.version, version)));
  return existing !== undefined;
}

/** Stores the version's references; a concurrent builder's row wins (the same data). */
export async function storeReference(db: Db, model: string, version: number, reference: StoredReference): Promise<void> {
  await db
    .insert(driftReferences)
    .values({
      modelName: model,
      version,
      datasetVersionId: reference.datasetVersionId,
      references: { columns: reference.columns, features: reference.features, prediction: reference.prediction },
      summary: reference.summary,
    })
    .onConflictDoNothing();
}

/**
 * The version's drift references, built from its training data (features, exact up to a
 * 2 000-value reservoir sample) and its test-split scores (the prediction reference).
 * `onProgress` is told the dataset rows read so far, once per chunk.
 */
export async function buildReference(
  db: Db,
  artifacts: Pick<ArtifactStore, 'get'>,
  version: ModelVersion,
  onProgress: (rows: number) => void,
): Promise<StoredReference> {
  const name = `${version.modelName} v${version.version}`;
  if (!version.datasetVersionId) {
    throw new DataValidationError(
      `${name} was imported without training data: there is no drift reference to compare with`,
      'referenceData',
      null,
    );
  }
  const dataset = await getDatasetVersion(db, version.datasetVersionId);
  if (!dataset)
    throw new DataValidationError(`${name}: its dataset version ${version.datasetVersionId} does not exist`, 'referenceData', null);
  const contract = version.contract as ContractInputs;
  const columnTypes = new Map((dataset.columns as { name: string; type: string }[]).map((c) => [c.name, c.type]));
  // The columns compared and how each reads a raw value; stored with the reference, so every
  // window is read the same way.
  const columns = monitoredColumns(featureSpecsOf(version.params, contract.inputs), columnTypes);

  const params = version.params as { split?: { seed: number; train: number; validation: number; test: number }; target?: string };
  const split = params.split;
  const target = params.target;
  const builder = new DriftReferenceBuilder(columns, { seed: 7 });
  const test: Row[] = [];
  let positives = 0;
  let index = 0;
  for await (const chunk of streamDatasetRows(db, dataset.id)) {
    const monitored = monitoredRows(columns, chunk);
    for (let i = 0; i < chunk.length; i++) {
      const row = chunk[i];
      builder.add(monitored[i]);
      if (split && assignSplit(String(index), split.seed, split) === 'test') {
        test.push(row);
        if (target && Number(row[target]) === 1) positives++;
      }
      index++;
    }
    onProgress(index);
  }
  const featureReferences = builder.finish();
  let prediction: DriftReference | null = null;
  if (test.length) {
    const onnx = await artifacts.get(version.artifactSha256);
    prediction = numericDriftReference(driftScores(await scoreOnnxInWorkerThread(onnx, test)));
  }
  const m = version.metrics as Partial<PerformanceReference>;
  return {
    datasetVersionId: dataset.id,
    columns,
    features: featureReferences,
    prediction,
    summary: {
      rows: index,
      testRows: test.length,
      positives,
      target: target ?? '',
      metrics: {
        rocAuc: m.rocAuc ?? Number.NaN,
        accuracy: m.accuracy ?? Number.NaN,
        f1: m.f1 ?? Number.NaN,
        n: m.n ?? test.length,
        positives: m.positives ?? positives,
      },
    },
  };
}

export async function loadReference(db: Db, model: string, version: number, inputs: ContractInputs['inputs']): Promise<StoredReference> {
  const [row] = await db
    .select()
    .from(driftReferences)
    .where(and(eq(driftReferences.modelName, model), eq(driftReferences.version, version)));
  if (!row) throw new Error(`no drift reference for ${model} v${version} (prepareDriftReference builds it)`);
  const stored = row.references as { columns?: MonitoredColumn[]; features: DriftReferenceSet; prediction: DriftReference | null };
  return {
    datasetVersionId: row.datasetVersionId,
    // Stored before plans existed: the version's inputs, one raw column each (a reference that
    // lacks one fails the report with a ReferenceSchemaError naming it, as before).
    columns:
      stored.columns ??
      legacyColumns(
        stored.features,
        inputs.map((i) => i.name),
      ),
    features: stored.features,
    prediction: stored.prediction,
    summary: row.summary as ReferenceSummary,
  };
}

/** The test-split metrics stored with the version's reference, if it has one. */
export async function referenceMetrics(db: Db, model: string, version: number): Promise<PerformanceReference | undefined> {
  const [row] = await db
    .select({ summary: driftReferences.summary })
    .from(driftReferences)
    .where(and(eq(driftReferences.modelName, model), eq(driftReferences.version, version)));
  return (row?.summary as ReferenceSummary | undefined)?.metrics;
}

/** The prediction-drift score of each scored row: its only column, or its top class probability. */
function driftScores({ width, values }: BatchScores): Float64Array {
  if (width === 1) return values;
  const top = new Float64Array(values.length / width);
  for (let row = 0; row < top.length; row++) top[row] = Math.max(...values.subarray(row * width, row * width + width));
  return top;
}
