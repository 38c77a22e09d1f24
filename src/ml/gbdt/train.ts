import { columnBuffers, toFeatureColumns, trainingColumnsInTurns, type FeatureColumn } from '../feature-columns';
import type { FeatureSpec } from '../../shared/feature-spec';
import type { Row } from '../row';
import { runWorkerTask } from '../worker-thread';
import {
  boost,
  fitGbdt,
  prepareGbdt,
  trainingArrays,
  type GbdtCheckpoint,
  type GbdtFitOptions,
  type GbdtProgress,
  type GbdtTable,
} from './booster';
import type { GbdtModel } from './model';
import { ParallelExecutor } from './parallel';
import { checkLabels } from './objective';
import { parseGbdtParams, type GbdtParamsInput } from './params';
import { progressDecoder, type GbdtProgressMessage } from './progress-messages';

export interface GbdtTrainOptions extends GbdtFitOptions {
  /**
   * Threads working on the rows (default 1): this one plus threads - 1 helper worker threads. The
   * model is byte-identical whatever the count.
   */
  threads?: number;
  /** Rows per chunk of parallel work (tuning and tests; the model does not depend on it). */
  chunkRows?: number;
}

/** A training request over rows (as the pipeline reads them), converted to columns by toGbdtTable. */
export interface GbdtTrainingRequest {
  features: FeatureSpec[];
  target: string;
  params: GbdtParamsInput;
  train: readonly Row[];
  validation?: readonly Row[];
}

/**
 * Rows → feature columns and label arrays (a missing label becomes NaN and is reported by
 * training). `columns`: the rows' feature columns when already read (in turns, by
 * trainGbdtInWorkerThread).
 */
export function toGbdtTable(
  { features, target, params, train, validation }: GbdtTrainingRequest,
  columns?: { train: FeatureColumn[]; validation?: FeatureColumn[] },
): GbdtTable {
  if (features.some((feature) => feature.name === target)) throw new Error(`the target "${target}" is also listed as a feature`);
  const labels = (rows: readonly Row[]) => rows.map((row) => row[target]);
  return {
    target,
    params,
    columns: columns?.train ?? toFeatureColumns(train, features),
    labels: labels(train),
    ...(validation && {
      validation: { columns: columns?.validation ?? toFeatureColumns(validation, features), labels: labels(validation) },
    }),
  };
}

/**
 * Trains on this thread, with threads - 1 helper threads for the per-row work. Synchronous
 * between the helpers' start and their shutdown (the boosting loop blocks this thread): call it
 * from a worker thread (trainGbdtInWorkerThread) when the event loop must stay free.
 */
export async function trainGbdt(table: GbdtTable, options: GbdtTrainOptions = {}): Promise<GbdtModel> {
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 32) throw new Error(`threads must be an integer in 1..32, got ${threads}`);
  if (threads === 1) return fitGbdt(table, options);
  // The helpers load while this thread bins the data.
  const launched = ParallelExecutor.launchHelpers(threads - 1);
  let prepared: ReturnType<typeof prepareGbdt>;
  try {
    prepared = prepareGbdt(table, { shared: true });
  } catch (error) {
    await launched.cancel();
    throw error;
  }
  const arrays = trainingArrays(prepared, true);
  const executor = await ParallelExecutor.start(arrays, launched, prepared.params.maxLeaves, options.chunkRows);
  try {
    return boost(prepared, arrays, executor, options);
  } finally {
    await executor.close();
  }
}

/** What the GBDT training worker receives. */
export interface GbdtWorkerInput {
  table: GbdtTable;
  threads: number;
  checkpointEvery: number;
  resumeFrom?: GbdtCheckpoint;
}

export interface GbdtWorkerOptions {
  threads?: number;
  /** Called after every iteration; every `checkpointEvery` iterations it carries a checkpoint. */
  onProgress?: (progress: GbdtProgress) => void;
  checkpointEvery?: number;
  resumeFrom?: GbdtCheckpoint;
  /** Aborting terminates the training thread (and its helpers) and rejects with the reason. */
  signal?: AbortSignal;
}

/**
 * Trains in a worker thread (plus threads - 1 helpers), so the caller's event loop stays free
 * for activity heartbeats. Progress and checkpoints arrive through `onProgress` (a checkpoint's
 * trees are shared with the earlier checkpoints': see progress-messages.ts). The feature
 * columns' buffers are moved to the worker (the table's columns are unusable afterwards).
 */
export async function trainGbdtInWorkerThread(input: GbdtTable | GbdtTrainingRequest, options: GbdtWorkerOptions = {}): Promise<GbdtModel> {
  const table = 'columns' in input ? input : toGbdtTable(input, await trainingColumnsInTurns(input));
  // Cheap checks first, on this thread: errors keep their class (InvalidInputError for bad
  // parameters) and no worker starts for a request that cannot train.
  const params = parseGbdtParams(table.params);
  checkLabels(params.objective, table.labels, `target "${table.target}"`);
  if (table.validation) checkLabels(params.objective, table.validation.labels, `target "${table.target}" (validation)`);
  const workerInput: GbdtWorkerInput = {
    table,
    threads: options.threads ?? 1,
    checkpointEvery: options.checkpointEvery ?? 0,
    resumeFrom: options.resumeFrom,
  };
  const transferList = [...columnBuffers(table.columns), ...(table.validation ? columnBuffers(table.validation.columns) : [])];
  const { onProgress } = options;
  const decode = progressDecoder();
  return await runWorkerTask<GbdtModel, GbdtProgressMessage>(new URL('./train-worker.ts', import.meta.url), workerInput, {
    // Each buffer once (columns may share one); SharedArrayBuffers are shared, not transferred.
    transferList: [...new Set(transferList)].filter((buffer) => buffer instanceof ArrayBuffer),
    onProgress: onProgress && ((message) => onProgress(decode(message))),
    signal: options.signal,
  });
}
