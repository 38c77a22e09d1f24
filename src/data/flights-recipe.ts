import { z } from 'zod';
import type { ColumnDef } from './dataset-store';
import type { RowGroupInfo } from './parquet-source';

/**
 * The `flights` recipe: a raw record of vega-datasets' flights-3m.parquet (date as a local-naive
 * timestamp, delay and distance as INT64 bigints, origin and destination codes) becomes a
 * canonical row. Invalid records are not dropped silently: they come back with every reason.
 */

export interface FlightRow {
  /** Local-naive timestamp, ISO without zone: `2001-01-01T00:01:00`. */
  date: string;
  /** 0-23, from the local-naive timestamp. */
  hour: number;
  /** 0-6, 0 = Sunday, from the local-naive timestamp. */
  weekday: number;
  /** Miles. */
  distance: number;
  origin: string;
  destination: string;
  /** Arrival delay in minutes; negative is early. */
  delay: number;
  /** 1 when delay > 15 minutes (the usual definition of a delayed flight), else 0. */
  delayed: 0 | 1;
}

/** The canonical columns, in the order used for hashing and storage. */
export const flightColumns: readonly ColumnDef[] = [
  { name: 'date', type: 'datetime' },
  { name: 'hour', type: 'number' },
  { name: 'weekday', type: 'number' },
  { name: 'distance', type: 'number' },
  { name: 'origin', type: 'string' },
  { name: 'destination', type: 'string' },
  { name: 'delay', type: 'number' },
  { name: 'delayed', type: 'number' },
];

export const DELAYED_THRESHOLD_MINUTES = 15;

/** A half-open period of calendar days, [from, to), as YYYY-MM-DD. */
export interface Period {
  from: string;
  to: string;
}

/** What became of one raw record. */
export type MapOutcome<R> =
  | { kind: 'row'; row: R }
  /** Valid date outside the period: not part of this dataset, not counted. */
  | { kind: 'outside' }
  | { kind: 'invalid'; reasons: string[] };

/**
 * A local-naive timestamp is held as a Date whose UTC fields are the wall-clock fields (that is
 * how hyparquet decodes TIMESTAMP with isAdjustedToUTC=false), so only getUTC* is meaningful.
 * Strings (from injected sources) are read the same way: `2001-01-01T00:01:00`, no zone.
 */
function toNaiveDate(value: unknown): unknown {
  if (typeof value === 'string' && NAIVE_ISO.test(value)) return new Date(`${value}Z`);
  return value;
}
const NAIVE_ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?)?$/;

/** Bigints become numbers only when exact; otherwise they are left for the schema to reject. */
function toSafeNumber(value: unknown): unknown {
  if (typeof value === 'bigint' && value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) {
    return Number(value);
  }
  return value;
}

const numberError = (issue: { input?: unknown }) =>
  typeof issue.input === 'bigint' ? 'must be a safe integer' : 'must be a number';
const code = z.string({ error: 'must be a string' }).regex(/^[A-Z]{3}$/, { error: 'must be a 3-letter uppercase code' });

/** Validation of a raw flight record. Every failing field is reported, not just the first. */
export const rawFlightSchema = z.object({
  date: z.preprocess(toNaiveDate, z.date({ error: 'must be a valid timestamp' })),
  distance: z.preprocess(
    toSafeNumber,
    z.number({ error: numberError }).gt(0, { error: 'must be > 0' }).lte(10_000, { error: 'must be <= 10000' }),
  ),
  delay: z.preprocess(
    toSafeNumber,
    z
      .number({ error: numberError })
      .gte(-1440, { error: 'must be >= -1440' })
      .lte(2880, { error: 'must be <= 2880' })
      // Last: zod's int check aborts the checks after it, and every reason should be reported.
      .int({ error: 'must be an integer' }),
  ),
  origin: code,
  destination: code,
});

/** Epoch milliseconds of the period's bounds, read as local-naive days. */
export function periodBounds(period: Period): { fromMs: number; toMs: number } {
  const fromMs = Date.parse(`${period.from}T00:00:00Z`);
  const toMs = Date.parse(`${period.to}T00:00:00Z`);
  if (Number.isNaN(fromMs) || Number.isNaN(toMs)) throw new Error(`invalid period ${JSON.stringify(period)}`);
  return { fromMs, toMs };
}

/**
 * Maps one raw record. Order of decisions: a record with a valid date outside the period is
 * `outside` (whatever else is wrong with it); a record in the period, or whose date cannot be
 * read (so it cannot be placed), is validated, and is `invalid` with all its reasons or a `row`.
 */
export function mapFlightRecord(record: Record<string, unknown>, period: Period | { fromMs: number; toMs: number }): MapOutcome<FlightRow> {
  const { fromMs, toMs } = 'fromMs' in period ? period : periodBounds(period);
  const date = toNaiveDate(record.date);
  if (date instanceof Date) {
    const ms = date.getTime();
    if (!Number.isNaN(ms) && (ms < fromMs || ms >= toMs)) return { kind: 'outside' };
  }
  const parsed = rawFlightSchema.safeParse(record);
  if (!parsed.success) return { kind: 'invalid', reasons: describeIssues(parsed.error.issues, record) };
  const { date: d, distance, delay, origin, destination } = parsed.data;
  return {
    kind: 'row',
    row: {
      date: naiveIso(d),
      hour: d.getUTCHours(),
      weekday: d.getUTCDay(),
      distance,
      origin,
      destination,
      delay,
      delayed: delay > DELAYED_THRESHOLD_MINUTES ? 1 : 0,
    },
  };
}

/**
 * Row-group pruning for a period: true when the group's date statistics prove that no row lies in
 * [from, to). Without usable statistics the group is read. Correctness never depends on this (every
 * record is still filtered), nor on the file being sorted.
 */
export function flightRowGroupOutsidePeriod(group: RowGroupInfo, period: Period): boolean {
  const { fromMs, toMs } = periodBounds(period);
  const stats = group.statistics.date;
  if (!(stats?.min instanceof Date) || !(stats.max instanceof Date)) return false;
  const min = stats.min.getTime();
  const max = stats.max.getTime();
  if (Number.isNaN(min) || Number.isNaN(max)) return false;
  return max < fromMs || min >= toMs;
}

/** `2001-01-01T00:01:00` (milliseconds kept only when not zero). */
export function naiveIso(date: Date): string {
  const iso = date.toISOString();
  return date.getUTCMilliseconds() === 0 ? iso.slice(0, 19) : iso.slice(0, 23);
}

/** A raw record as JSON-safe values, for the quarantine table (bigints, Dates, NaN handled). */
export function rawRecordToJson(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) out[key] = toJsonValue(value);
  return out;
}

function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return toSafeNumber(value) === value ? value.toString() : Number(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : naiveIso(value);
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonValue(v)]));
  }
  return value;
}

/** `field: message (got value)` for each issue; the value is the raw one, before conversion. */
function describeIssues(issues: z.core.$ZodIssue[], record: Record<string, unknown>): string[] {
  return issues.map((issue) => {
    const field = issue.path.length ? issue.path.join('.') : '(record)';
    const value = issue.path.length ? record[issue.path[0] as string] : record;
    return `${field}: ${issue.message} (got ${formatValue(value)})`;
  });
}

function formatValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid date' : naiveIso(value);
  if (typeof value === 'number') return String(value);
  const text = JSON.stringify(toJsonValue(value)) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
