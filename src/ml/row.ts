/**
 * How raw feature values are read. Training, in-process inference, ONNX feeds and the drift
 * monitor all read rows through these two functions, so "missing" means the same everywhere.
 */

/** One example as it comes from a dataset or a prediction request. */
export type Row = Record<string, number | string | null | undefined>;

/**
 * A numeric feature value, or NaN when it is missing. Numeric strings are accepted because some
 * drivers return numeric columns as text. Non-finite numbers count as missing: an infinite input
 * carries no usable magnitude, and the ONNX graph maps it to NaN before imputing as well.
 */
export function readNumber(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value : Number.NaN;
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : Number.NaN;
  }
  return Number.NaN;
}

/**
 * A categorical feature value as a string (hour 14 is the category "14"), or null when missing.
 * The empty string is missing too: ONNX string tensors cannot hold null, so callers feed '' for
 * a missing category and it must mean the same thing in training.
 */
export function readCategory(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const category = String(value);
  return category === '' ? null : category;
}
