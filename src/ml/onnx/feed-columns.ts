import type { ModelContract } from '../model';
import { readCategory, readNumber, type Row } from '../row';

/** One input's values for a batch of rows, ready to wrap in an [N, 1] onnxruntime tensor. */
export type FeedColumn = Float32Array | string[];

/**
 * Converts raw rows into the model's inputs, reading values exactly as training does: a missing
 * numeric value becomes NaN (imputed by the graph), a missing category '' (the unknown bucket).
 */
export function onnxFeedColumns(inputs: ModelContract['inputs'], rows: readonly Row[]): Record<string, FeedColumn> {
  return Object.fromEntries(
    inputs.map(({ name, type }) => [
      name,
      type === 'float32'
        ? Float32Array.from(rows, (row) => readNumber(row[name]))
        : rows.map((row) => readCategory(row[name]) ?? ''),
    ]),
  );
}
