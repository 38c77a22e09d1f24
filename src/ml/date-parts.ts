import type { DatePartName } from '../shared/feature-spec';

/**
 * The calendar parts of a timestamp (ms since 1970-01-01T00:00:00Z, see readTimestamp), in UTC:
 * hour 0–23, weekday 0 = Sunday … 6 = Saturday (as the data module's `weekday` part and
 * Date.getUTCDay), month 1–12, dayOfMonth 1–31, year (proleptic Gregorian, e.g. 1969). A missing
 * timestamp (NaN) has missing parts (NaN).
 *
 * This is the reference; the ONNX graph computes the same parts with double arithmetic
 * (onnx/date-part-nodes.ts), and the tests compare the two over the whole range of a Date.
 */
export function datePart(ms: number, part: DatePartName): number {
  if (Number.isNaN(ms)) return Number.NaN;
  const date = new Date(ms);
  switch (part) {
    case 'hour':
      return date.getUTCHours();
    case 'weekday':
      return date.getUTCDay();
    case 'month':
      return date.getUTCMonth() + 1;
    case 'dayOfMonth':
      return date.getUTCDate();
    case 'year':
      return date.getUTCFullYear();
  }
}

/** One part for a whole column of timestamps. */
export function datePartColumn(timestamps: Float64Array, part: DatePartName): Float64Array {
  const out = new Float64Array(timestamps.length);
  for (let i = 0; i < timestamps.length; i++) out[i] = datePart(timestamps[i], part);
  return out;
}
