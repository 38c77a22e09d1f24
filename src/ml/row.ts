import { parseIsoDate } from '../data/dates';

/**
 * How raw feature values are read. Training, in-process inference, ONNX feeds and the drift
 * monitor all read rows through these functions, so "missing" means the same everywhere.
 */

/** One example as it comes from a dataset or a prediction request. */
export type Row = Record<string, number | string | null | undefined>;

/**
 * A numeric feature value, or NaN when it is missing. Numeric strings are accepted because some
 * drivers return numeric columns as text. Non-finite numbers count as missing: an infinite input
 * carries no usable magnitude, and the ONNX graph maps it to NaN before imputing as well. So does
 * a finite number beyond float32's range (|x| > 3.4e38): the graph's inputs are float32, where it
 * would arrive as ±Infinity.
 */
export function readNumber(value: unknown): number {
  if (typeof value === 'number') return fitsFloat32(value) ? value : Number.NaN;
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    return fitsFloat32(parsed) ? parsed : Number.NaN;
  }
  return Number.NaN;
}

/** Finite, also once rounded to float32 (NaN fails too). */
function fitsFloat32(value: number): boolean {
  const rounded = Math.fround(value);
  return rounded - rounded === 0;
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

/**
 * The spellings a boolean feature accepts, each with its value: "true"/"false", "yes"/"no" in any
 * ASCII letter case, and "1"/"0". Every case variant is listed (62 strings) because the ONNX graph
 * matches exact strings (LabelEncoder); the same table decides here, so both agree on every input.
 */
export const booleanSpellings: ReadonlyMap<string, 1 | 0> = new Map(
  (
    [
      ['true', 1],
      ['false', 0],
      ['yes', 1],
      ['no', 0],
      ['1', 1],
      ['0', 0],
    ] as const
  ).flatMap(([word, bit]) => caseVariants(word).map((spelling) => [spelling, bit] as const)),
);

function caseVariants(word: string): string[] {
  let variants = [''];
  for (const letter of word) {
    const cases = letter.toUpperCase() === letter ? [letter] : [letter, letter.toUpperCase()];
    variants = variants.flatMap((prefix) => cases.map((c) => prefix + c));
  }
  return variants;
}

/**
 * A boolean feature value: 1 (true, 1, "true", "yes", any letter case), 0 (false, 0, "false",
 * "no"), NaN for anything else (missing). Serving feeds booleans to the graph as text
 * (readCategory: true → "true", 1 → "1"), which the graph reads with the same table.
 */
export function readBoolean(value: unknown): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value === 1 ? 1 : value === 0 ? 0 : Number.NaN;
  if (typeof value === 'string') return booleanSpellings.get(value) ?? Number.NaN;
  return Number.NaN;
}

/** ±8.64e15 ms (±100 million days around 1970): the range of a JavaScript Date. */
export const MAX_TIMESTAMP_MS = 8.64e15;

/**
 * A timestamp as milliseconds since 1970-01-01T00:00:00Z, or NaN when missing or unreadable:
 * - a number: milliseconds, floored to a whole millisecond;
 * - a string: ISO 8601 as the data module reads it (`YYYY-MM-DD`, `YYYY-MM-DD[T ]HH:mm[:ss[.SSS]]`,
 *   optional `Z` or `±HH:mm`); without a zone it is UTC, as canonical datetime columns are;
 * - a Date: its time.
 * Anything else, or a time outside a Date's range (±8.64e15 ms), is missing.
 */
export function readTimestamp(value: unknown): number {
  let ms = Number.NaN;
  if (typeof value === 'number') ms = Math.floor(value);
  else if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'string') {
    const parsed = parseIsoDate(value);
    if (typeof parsed !== 'string') ms = parsed.getTime();
  }
  return Math.abs(ms) <= MAX_TIMESTAMP_MS ? ms : Number.NaN;
}
