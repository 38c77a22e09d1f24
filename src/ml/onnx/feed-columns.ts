import type { ContractInputType } from '../../shared/model-contract';
import { readCategory, readNumber, readTimestamp, type Row } from '../row';

/** One input's values for a batch of rows, ready to wrap in an [N, 1] onnxruntime tensor. */
export type FeedColumn = Float32Array | Float64Array | string[];

/**
 * Converts raw rows into the model's inputs, reading values exactly as training does: a missing
 * numeric value or timestamp becomes NaN (imputed by the graph), a missing category '' (the
 * unknown bucket).
 */
export function onnxFeedColumns(
  inputs: readonly { name: string; type: ContractInputType }[],
  rows: readonly Row[],
): Record<string, FeedColumn> {
  return Object.fromEntries(inputs.map(({ name, type }) => [name, feedColumn(type, name, rows)]));
}

function feedColumn(type: ContractInputType, name: string, rows: readonly Row[]): FeedColumn {
  switch (type) {
    case 'float32':
      return Float32Array.from(rows, (row) => readNumber(row[name]));
    case 'float64':
      return Float64Array.from(rows, (row) => readTimestamp(row[name]));
    case 'string':
      return rows.map((row) => readCategory(row[name]) ?? '');
  }
}
