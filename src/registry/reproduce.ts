import { canonicalCategoriesSchema } from '../shared/category-spellings';
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { ColumnDef, Row } from '../data/columns';
import { getDatasetVersion, readDatasetRows } from '../data/dataset-store';
import type { Db } from '../db/database';
import { partitionRows } from '../ml/split';
import { trainForTask } from '../ml/train-for-task';
import { exportOnnx } from '../ml/trained-model';
import { findTrainingRun } from './training-runs';
import type { CodeVersion } from '../runtime/code-version';
import { modelTaskSchema } from '../shared/model-contract';
import { featureSpecSchema } from '../shared/feature-spec';
import { gbdtTrainerSchema, linearRegressionTrainerSchema, logisticTrainerSchema, splitSpecSchema } from '../shared/pipeline-input';
import { sha256Hex } from './artifact-store';
import type { ModelVersion } from './model-registry';
import { RegistryError } from './names';

/** What the training pipeline records in `model_versions.params`: enough to train again. */
const recordedParamsSchema = z.object({
  trainer: z.looseObject({ kind: z.string() }),
  features: z.array(featureSpecSchema).min(1),
  target: z.string().min(1),
  /** Absent in versions registered before tasks existed: binary. */
  task: modelTaskSchema.default('binary'),
  split: splitSpecSchema,
  /** Absent in versions registered before serving canonicalised categories, or without any to canonicalise. */
  canonicalCategories: canonicalCategoriesSchema.optional(),
});

/** The trainers keel runs itself; a `command` trainer's program is not keel's to re-run. */
const keelTrainerSchema = z.discriminatedUnion('kind', [logisticTrainerSchema, linearRegressionTrainerSchema, gbdtTrainerSchema]);

export interface ReproduceReport {
  model: string;
  version: number;
  /** The re-trained ONNX bytes hash to the registered artifact's sha256. */
  match: boolean;
  recorded: { onnxSha256: string; modelJsonSha256: string | null; datasetHash: string; gitCommit: string | null; gitDirty: boolean | null };
  reproduced: { onnxSha256: string; modelJsonSha256: string; datasetHash: string; onnxBytes: number };
  /** The dataset rows still hash to the recorded content hash. */
  datasetIntact: boolean;
  /** The re-trained model (JSON) equals the recorded training run's; null when the run is unknown. */
  modelJsonMatch: boolean | null;
  codeNow: CodeVersion;
  /** The code now is the recorded commit and neither is dirty: a mismatch is then a bug. */
  sameCode: boolean;
  trainRows: number;
  iterations: number;
  seconds: number;
  explanation: string;
}

/**
 * Re-trains a version from what the registry recorded — dataset version, features, target, split
 * (with its seed), task and trainer parameters — running the same library code the pipeline's
 * train and export activities run (read rows → split → trainForTask in a worker thread → ONNX), and compares the sha256 of the new ONNX bytes with the registered artifact's.
 * Nothing is written. With unchanged code the bytes must be identical: training and export are
 * deterministic.
 */
export async function reproduceVersion(
  db: Db,
  row: ModelVersion,
  options: { codeVersion: CodeVersion; onProgress?: (message: string) => void },
): Promise<ReproduceReport> {
  const ref = `${row.modelName}@${row.version}`;
  const started = performance.now();
  const say = options.onProgress ?? (() => {});
  if (row.source !== 'pipeline')
    throw new RegistryError(`${ref} was imported (${row.source}); keel has no training recipe to reproduce it`);
  const parsed = recordedParamsSchema.safeParse(row.params);
  if (!parsed.success) {
    throw new RegistryError(`${ref} does not record the training parameters needed to reproduce it: ${z.prettifyError(parsed.error)}`);
  }
  const params = parsed.data;
  const recordedTrainer = keelTrainerSchema.safeParse(withDefaultsOfItsTime(params.trainer));
  if (!recordedTrainer.success) {
    throw new RegistryError(
      params.trainer.kind === 'command'
        ? `${ref} was trained by an external program ("command" trainer); keel cannot re-run it`
        : `${ref} records a trainer keel cannot read: ${z.prettifyError(recordedTrainer.error)}`,
    );
  }
  const trainer = recordedTrainer.data;
  const dataset = await getDatasetVersion(db, row.datasetVersionId);
  if (!dataset)
    throw new RegistryError(`${ref} was trained on dataset version ${row.datasetVersionId}, which is no longer in the database`);

  say(`reading dataset version ${dataset.id.slice(0, 12)} (${dataset.rowCount} rows)`);
  const rows = await readDatasetRows(db, dataset.id);
  const datasetHash = datasetContentHash(dataset.columns as ColumnDef[], rows);
  const { train, validation } = partitionRows(rows, params.split);
  say(`training ${trainer.kind} on ${train.length} rows (seed ${params.split.seed})`);
  const trained = await trainForTask({ task: params.task, features: params.features, target: params.target, trainer, train, validation });
  const model = params.canonicalCategories ? { ...trained, canonicalCategories: params.canonicalCategories } : trained;
  const modelJsonSha256 = sha256Hex(JSON.stringify(model));
  const onnx = exportOnnx(model);
  const onnxSha256 = sha256Hex(onnx);

  const run = row.trainingRunId ? await findTrainingRun(db, row.trainingRunId) : undefined;
  const recordedModelJson = run?.modelArtifactSha256 ?? null;
  const sameCode =
    row.gitCommit !== null &&
    row.gitCommit === options.codeVersion.gitCommit &&
    row.gitDirty === false &&
    options.codeVersion.gitDirty === false;
  const match = onnxSha256 === row.artifactSha256;
  const datasetIntact = datasetHash === row.datasetHash;
  const modelJsonMatch = recordedModelJson === null ? null : recordedModelJson === modelJsonSha256;
  return {
    model: row.modelName,
    version: row.version,
    match,
    recorded: {
      onnxSha256: row.artifactSha256,
      modelJsonSha256: recordedModelJson,
      datasetHash: row.datasetHash,
      gitCommit: row.gitCommit,
      gitDirty: row.gitDirty,
    },
    reproduced: { onnxSha256, modelJsonSha256, datasetHash, onnxBytes: onnx.byteLength },
    datasetIntact,
    modelJsonMatch,
    codeNow: options.codeVersion,
    sameCode,
    trainRows: train.length,
    iterations: model.training.iterations,
    seconds: (performance.now() - started) / 1000,
    explanation: explain({ match, datasetIntact, modelJsonMatch, sameCode }),
  };
}

function explain(r: { match: boolean; datasetIntact: boolean; modelJsonMatch: boolean | null; sameCode: boolean }): string {
  if (r.match) return 'reproduced: the re-trained ONNX model is byte-identical to the registered artifact';
  if (!r.datasetIntact) return 'NOT reproduced: the dataset rows no longer hash to the recorded content hash (the data changed)';
  if (r.modelJsonMatch === true) return 'NOT reproduced: training gives the same model, but the ONNX export differs (export code changed?)';
  if (!r.sameCode)
    return 'NOT reproduced: the code differs from the recorded commit (or either work tree was dirty); training or export changed';
  return 'NOT reproduced with the same code and data: non-determinism in training or export (a bug)';
}

/**
 * The dataset content hash as ingest defines it (src/data/ingest.ts): a header line with the
 * columns, then one JSON line per row in row_index order.
 */
export function datasetContentHash(columns: readonly ColumnDef[], rows: readonly Row[]): string {
  const hash = createHash('sha256');
  const names = columns.map((c) => c.name);
  let buffer = JSON.stringify(columns.map((c) => [c.name, c.type])) + '\n';
  for (const row of rows) {
    buffer += JSON.stringify(names.map((name) => row[name])) + '\n';
    if (buffer.length > 1 << 20) {
      hash.update(buffer);
      buffer = '';
    }
  }
  hash.update(buffer);
  return hash.digest('hex');
}

/**
 * A GBDT recorded before native categorical splits existed trained with ordinal codes and without
 * early stopping, whose defaults have changed since (a record holds every default of its time,
 * but not the parameters that did not exist yet): it is re-trained as it was, not as a new run
 * would be.
 */
function withDefaultsOfItsTime(trainer: { kind: string; params?: unknown }): unknown {
  if (trainer.kind !== 'gbdt' || typeof trainer.params !== 'object' || trainer.params === null || 'categoricalSplits' in trainer.params)
    return trainer;
  const params = trainer.params as { earlyStoppingRounds?: number };
  return { ...trainer, params: { ...params, categoricalSplits: 'ordinal', earlyStoppingRounds: params.earlyStoppingRounds ?? 0 } };
}
