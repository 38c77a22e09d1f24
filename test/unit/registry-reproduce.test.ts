import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetVersions, trainingRuns } from '../../src/db/schema';
import { exportLogisticOnnx } from '../../src/ml/onnx/export-logistic';
import { modelContract } from '../../src/ml/model';
import { partitionRows } from '../../src/ml/split';
import { withValidatedThreshold } from '../../src/ml/threshold';
import { trainInWorkerThread } from '../../src/ml/train';
import { trainForTask } from '../../src/ml/train-for-task';
import { contractOf, exportOnnx } from '../../src/ml/trained-model';
import { gbdtTrainerSchema } from '../../src/shared/pipeline-input';
import { learningCurveOf } from '../../src/ml/trained-model';
import { type ModelVersion, registerModelVersion } from '../../src/registry/model-registry';
import { datasetContentHash, reproduceVersion } from '../../src/registry/reproduce';
import type { Row } from '../../src/data/columns';
import { openTestRegistry, type TestRegistry } from './registry-fixtures';
import { flightFeatures, syntheticFlights } from './support/synthetic';

const columns = [
  { name: 'hour', type: 'number' },
  { name: 'weekday', type: 'number' },
  { name: 'distance', type: 'number' },
  { name: 'origin', type: 'string' },
  { name: 'destination', type: 'string' },
  { name: 'delayed', type: 'number' },
] as const;
const trainer = { kind: 'logistic-regression' as const, l2: 1, maxIterations: 100, tolerance: 1e-6, maxCategories: 50 };
const split = { seed: 7, train: 0.7, validation: 0.15, test: 0.15 };
const code = { gitCommit: 'c'.repeat(40), gitDirty: false };

/**
 * Reproduce on a small synthetic dataset, registered the way the pipeline does it (train in a
 * worker thread, threshold on the validation split, export). The integration test does the same
 * through the real trainingPipeline.
 */
describe('reproducing a version', () => {
  let registry: TestRegistry;
  let version: ModelVersion;

  beforeAll(async () => {
    registry = await openTestRegistry('pglite');
    const rows = syntheticFlights(3000, 11) as Row[];
    const contentHash = datasetContentHash(columns, rows);
    await registry.database.db.insert(datasetVersions).values({
      id: 'ds-repro',
      name: 'synthetic',
      contentHash,
      spec: {},
      columns,
      rowsRead: rows.length,
      rowCount: rows.length,
      quarantinedCount: 0,
    });
    await registry.database.copyRows(
      'dataset_rows',
      ['dataset_version_id', 'row_index', 'data'],
      rows.map((row, i) => ['ds-repro', i, row]),
    );
    const { train, validation } = partitionRows(rows, split);
    const features = [...flightFeatures];
    const trained = await trainInWorkerThread({
      features,
      target: 'delayed',
      params: { l2: trainer.l2, maxIterations: trainer.maxIterations, tolerance: trainer.tolerance, maxCategories: trainer.maxCategories },
      train,
      // As the pipeline (trainForTask): the validation curve is part of the model JSON.
      validation,
    });
    const model = withValidatedThreshold(trained, validation);
    const modelJson = await registry.artifacts.putJson(model);
    const onnx = exportLogisticOnnx(model);
    const onnxSha = await registry.artifacts.put(onnx);
    await registry.database.db.insert(trainingRuns).values({
      id: 'train/repro/r1',
      modelName: 'repro',
      workflowId: 'train/repro',
      runId: 'r1',
      datasetVersionId: 'ds-repro',
      trainer,
      modelArtifactSha256: modelJson,
      learningCurve: learningCurveOf(model),
      trainSeconds: 1,
    });
    version = await registerModelVersion(registry.database.db, {
      modelName: 'repro',
      idempotencyKey: 'train/repro/r1/register',
      artifactSha256: onnxSha,
      artifactBytes: onnx.byteLength,
      contract: modelContract(model),
      params: { trainer, features, target: 'delayed', split },
      metrics: {},
      datasetVersionId: 'ds-repro',
      datasetHash: contentHash,
      trainingRunId: 'train/repro/r1',
      workflowId: 'train/repro',
      runId: 'r1',
      gitCommit: code.gitCommit,
      gitDirty: false,
    });
  });
  afterAll(() => registry?.close());

  it('re-trains from the recorded dataset, config and seed and gets the same ONNX bytes', async () => {
    const report = await reproduceVersion(registry.database.db, version, { codeVersion: code });
    expect(report).toMatchObject({ match: true, datasetIntact: true, modelJsonMatch: true, sameCode: true });
    expect(report.reproduced.onnxSha256).toBe(version.artifactSha256);
    expect(report.explanation).toMatch(/^reproduced/);
  });

  it('re-trains a GBDT recorded before native categorical splits as it was trained: ordinal, no early stopping', async () => {
    const rows: unknown = await registry.database.db.execute(
      sql`select data from dataset_rows where dataset_version_id = 'ds-repro' order by row_index`,
    );
    const data = ((rows as { rows?: { data: Row }[] }).rows ?? (rows as { data: Row }[])).map((r) => r.data);
    const { train, validation } = partitionRows(data, split);
    const features = [...flightFeatures];
    const then = gbdtTrainerSchema.parse({
      kind: 'gbdt',
      params: { objective: 'binary', numTrees: 15, categoricalSplits: 'ordinal', earlyStoppingRounds: 0 },
      threads: 1,
    });
    const model = await trainForTask({ task: 'binary', features, target: 'delayed', trainer: then, train, validation });
    const onnx = exportOnnx(model);
    // What a record of that time holds: every parameter of its day, none of those added since.
    const {
      categoricalSplits: _c,
      earlyStoppingRounds: _e,
      maxCatThreshold: _m,
      catSmooth: _s,
      catL2: _l,
      minDataPerGroup: _g,
      maxCatToOnehot: _o,
      ...recorded
    } = then.params;
    const old = await registerModelVersion(registry.database.db, {
      modelName: 'repro-gbdt',
      idempotencyKey: 'train/repro-gbdt/r1/register',
      artifactSha256: await registry.artifacts.put(onnx),
      artifactBytes: onnx.byteLength,
      contract: contractOf(model),
      params: { trainer: { ...then, params: recorded }, features, target: 'delayed', split },
      metrics: {},
      datasetVersionId: 'ds-repro',
      datasetHash: version.datasetHash,
      trainingRunId: '',
      workflowId: 'train/repro-gbdt',
      runId: 'r1',
      gitCommit: code.gitCommit,
      gitDirty: false,
    });
    const report = await reproduceVersion(registry.database.db, old, { codeVersion: code });
    expect(report.reproduced.onnxSha256).toBe(old.artifactSha256);
    expect(report.match).toBe(true);
  });

  it('reports a mismatch when the recorded config is not what made the artifact', async () => {
    const tampered = { ...version, params: { ...(version.params as object), trainer: { ...trainer, l2: 5 } } };
    const report = await reproduceVersion(registry.database.db, tampered, { codeVersion: code });
    expect(report).toMatchObject({ match: false, datasetIntact: true, modelJsonMatch: false });
    expect(report.explanation).toMatch(/NOT reproduced with the same code and data/);
  });

  it('detects that the dataset rows changed since training', async () => {
    await registry.database.db.execute(
      sql`update dataset_rows set data = jsonb_set(data, '{distance}', '99999') where dataset_version_id = 'ds-repro' and row_index = 0`,
    );
    const report = await reproduceVersion(registry.database.db, version, { codeVersion: code });
    expect(report.datasetIntact).toBe(false);
    expect(report.match).toBe(false);
    expect(report.explanation).toMatch(/dataset rows no longer hash/);
  });

  it('refuses what it cannot reproduce, saying why', async () => {
    await expect(reproduceVersion(registry.database.db, { ...version, source: 'import' }, { codeVersion: code })).rejects.toThrow(
      /was imported/,
    );
    await expect(reproduceVersion(registry.database.db, { ...version, params: {} }, { codeVersion: code })).rejects.toThrow(
      /does not record the training parameters/,
    );
    await expect(reproduceVersion(registry.database.db, { ...version, datasetVersionId: 'gone' }, { codeVersion: code })).rejects.toThrow(
      /dataset version gone, which is no longer in the database/,
    );
  });
});
