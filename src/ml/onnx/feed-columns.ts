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
  const columns = emptyFeedColumns(inputs, rows.length);
  fillFeedColumns(inputs, rows, columns, 0, rows.length);
  return columns;
}

/** Columns for `rowCount` rows, to fill block by block with fillFeedColumns. */
export function emptyFeedColumns(
  inputs: readonly { name: string; type: ContractInputType }[],
  rowCount: number,
): Record<string, FeedColumn> {
  return Object.fromEntries(inputs.map(({ name, type }) => [name, emptyColumn(type, rowCount)]));
}

/** Rows [start, end) read into their places in `columns` (onnxFeedColumns, block by block). */
export function fillFeedColumns(
  inputs: readonly { name: string; type: ContractInputType }[],
  rows: readonly Row[],
  columns: Record<string, FeedColumn>,
  start: number,
  end: number,
): void {
  for (const { name, type } of inputs) {
    const column = columns[name];
    if (type === 'string') {
      const strings = column as string[];
      for (let i = start; i < end; i++) strings[i] = readCategory(rows[i][name]) ?? '';
    } else {
      const read = type === 'float64' ? readTimestamp : readNumber;
      const values = column as Float32Array | Float64Array;
      for (let i = start; i < end; i++) values[i] = read(rows[i][name]);
    }
  }
}

function emptyColumn(type: ContractInputType, rowCount: number): FeedColumn {
  switch (type) {
    case 'float32':
      return new Float32Array(rowCount);
    case 'float64':
      return new Float64Array(rowCount);
    case 'string':
      return new Array<string>(rowCount).fill('');
  }
}
