import type { ContractInputType, ModelTask } from '../shared/model-contract';
import { forEachBlockInTurns, ROWS_PER_TURN } from './in-turns';
import { emptyFeedColumns, fillFeedColumns, type FeedColumn } from './onnx/feed-columns';
import { DataType, graphSignature } from './onnx/onnx-proto';
import type { Row } from './row';
import { runWorkerTask } from './worker-thread';

/** What the scoring worker receives. */
export interface BatchScoringInput {
  model: Uint8Array;
  rowCount: number;
  inputs: { name: string; type: ContractInputType }[];
  columns: Record<string, FeedColumn>;
  /** The outputs to read, e.g. probability and label (binary). */
  outputs: string[];
}

/** One output's values for every row, row-major ([N, K] for multiclass probabilities). */
export type OutputValues = Float32Array | BigInt64Array;

/** A model's main output for every row: what its metrics are computed from. */
export interface BatchScores {
  task: ModelTask;
  /** Values per row: 1, or K class probabilities (multiclass). */
  width: number;
  /** Row-major: P(1) (binary), K probabilities (multiclass), the prediction (regression). */
  values: Float64Array;
}

const taskOfOutput: Record<string, ModelTask> = { probability: 'binary', probabilities: 'multiclass', prediction: 'regression' };
const inputTypes: Record<number, ContractInputType> = {
  [DataType.FLOAT]: 'float32',
  [DataType.STRING]: 'string',
  [DataType.DOUBLE]: 'float64',
};

/**
 * Scores rows with an exported model, computed by onnxruntime in a worker thread: session.run is
 * synchronous native work that would otherwise block the event loop for the whole batch. Rows are
 * read as serving reads them (see src/ml/onnx/feed-columns.ts). The task follows from the graph's outputs.
 */
export async function scoreOnnxInWorkerThread(model: Uint8Array, rows: readonly Row[]): Promise<BatchScores> {
  const signature = graphSignature(model);
  const inputs = modelInputs(model);
  const output = signature.outputs.find((o) => taskOfOutput[o.name])?.name;
  if (!output) {
    throw new Error(
      `the model has none of the outputs probability, probabilities or prediction (it has ${signature.outputs.map((o) => o.name).join(', ')})`,
    );
  }
  const values = Float64Array.from((await scoreOnnxOutputsInWorkerThread(model, rows, [output], inputs))[output] as Float32Array);
  const width = rows.length > 0 ? values.length / rows.length : 1;
  return { task: taskOfOutput[output], width, values };
}

/** The named outputs of an ONNX model for every row, computed by onnxruntime in a worker thread. */
export async function scoreOnnxOutputsInWorkerThread(
  model: Uint8Array,
  rows: readonly Row[],
  outputs: string[],
  inputs = modelInputs(model),
): Promise<Record<string, OutputValues>> {
  // A block of rows per event-loop turn: a test split of 76,000 rows is tens of milliseconds.
  const columns = emptyFeedColumns(inputs, rows.length);
  await forEachBlockInTurns(rows.length, ROWS_PER_TURN, (start, end) => fillFeedColumns(inputs, rows, columns, start, end));
  const input: BatchScoringInput = { model, rowCount: rows.length, inputs, columns, outputs };
  return runWorkerTask<Record<string, OutputValues>>(new URL('./batch-score-worker.ts', import.meta.url), input, {
    transferList: Object.values(columns).flatMap((column) => (Array.isArray(column) ? [] : [column.buffer as ArrayBuffer])),
  });
}

function modelInputs(model: Uint8Array): { name: string; type: ContractInputType }[] {
  return graphSignature(model).inputs.map(({ name, elemType }) => {
    const type = inputTypes[elemType];
    if (!type) throw new Error(`model input "${name}" has element type ${elemType}; only float32, float64 and string inputs are supported`);
    return { name, type };
  });
}
