import type { ModelContract } from './model';
import { onnxFeedColumns, type FeedColumn } from './onnx/feed-columns';
import { DataType, graphInputs } from './onnx/onnx-proto';
import type { Row } from './row';
import { runWorkerTask } from './worker-thread';

/** What the scoring worker receives. */
export interface BatchScoringInput {
  model: Uint8Array;
  rowCount: number;
  inputs: ModelContract['inputs'];
  columns: Record<string, FeedColumn>;
}

/**
 * The `probability` output of an exported model for every row, computed by onnxruntime in a
 * worker thread: session.run is synchronous native work that would otherwise block the event
 * loop for the whole batch. Rows are read as serving reads them (see onnxFeedColumns).
 */
export async function scoreOnnxInWorkerThread(model: Uint8Array, rows: readonly Row[]): Promise<Float64Array> {
  const inputs = graphInputs(model).map(({ name, elemType }): ModelContract['inputs'][number] => {
    if (elemType === DataType.FLOAT) return { name, type: 'float32' };
    if (elemType === DataType.STRING) return { name, type: 'string' };
    throw new Error(`model input "${name}" has element type ${elemType}; only float32 and string inputs are supported`);
  });
  const columns = onnxFeedColumns(inputs, rows);
  const input: BatchScoringInput = { model, rowCount: rows.length, inputs, columns };
  return runWorkerTask<Float64Array>(new URL('./batch-score-worker.ts', import.meta.url), input, {
    transferList: Object.values(columns).flatMap((column) => (column instanceof Float32Array ? [column.buffer as ArrayBuffer] : [])),
  });
}
