import type { ColumnSpec, FlightsDatasetSpec, MappedDatasetSpec } from '../shared/dataset-spec';
import { naiveIso } from './dates';
import { compileMapper, type SourceMapper } from './mapping';
import type { RowGroupInfo } from './parquet-source';

/** What became of one raw flight record. */
export type FlightOutcome = { kind: 'row'; row: FlightRow } | { kind: 'outside' } | { kind: 'invalid'; reasons: string[] };

/**
 * The `flights` recipe: a short config for vega-datasets' flights-3m.parquet (date as a local-naive
 * timestamp, delay and distance as INT64, origin and destination codes). It is not code of its
 * own: it expands to an ordinary mapped dataset spec (below), so flights go through the same
 * mapping, row rules, filter pruning and ingest as every other dataset.
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

const DELAYED_THRESHOLD_MINUTES = 15;

const airport = { type: 'string', required: true, pattern: '^[A-Z]{3}$', patternDescription: 'a 3-letter uppercase code' } as const;

/** The canonical columns with their row rules, in the order used for hashing and storage. */
export const flightColumnSpecs: ColumnSpec[] = [
  { name: 'date', type: 'datetime', required: true },
  { name: 'hour', type: 'integer', required: true },
  { name: 'weekday', type: 'integer', required: true },
  { name: 'distance', type: 'number', required: true, gt: 0, max: 10_000 },
  { name: 'origin', ...airport },
  { name: 'destination', ...airport },
  { name: 'delay', type: 'integer', required: true, min: -1440, max: 2880 },
  { name: 'delayed', type: 'integer', required: true },
];

const flightMapping = {
  hour: { from: 'date', part: 'hour' },
  weekday: { from: 'date', part: 'weekday' },
  delayed: { from: 'delay', flag: { gt: DELAYED_THRESHOLD_MINUTES } },
} as const;

/** A half-open period of calendar days, [from, to), as YYYY-MM-DD. */
export interface Period {
  from: string;
  to: string;
}

/** The recipe as a mapped dataset spec. */
export function expandFlightsSpec(spec: FlightsDatasetSpec): MappedDatasetSpec {
  return {
    name: spec.name,
    recipe: 'mapping',
    // Unnamed: the quarantine names the source by its path, as it always did.
    sources: [{ format: 'parquet', path: spec.source.path, mapping: { ...flightMapping } }],
    columns: flightColumnSpecs,
    filter: { column: 'date', from: spec.period.from, to: spec.period.to },
    limit: spec.limit,
  };
}

/** Epoch milliseconds of the period's bounds, read as local-naive days. */
export function periodBounds(period: Period): { fromMs: number; toMs: number } {
  const fromMs = Date.parse(`${period.from}T00:00:00Z`);
  const toMs = Date.parse(`${period.to}T00:00:00Z`);
  if (Number.isNaN(fromMs) || Number.isNaN(toMs)) throw new Error(`invalid period ${JSON.stringify(period)}`);
  return { fromMs, toMs };
}

const mappers = new Map<string, SourceMapper>();

function flightMapper(bounds: Period | { fromMs: number; toMs: number }): SourceMapper {
  const period = 'fromMs' in bounds ? { from: naiveIso(new Date(bounds.fromMs)), to: naiveIso(new Date(bounds.toMs)) } : bounds;
  const key = `${period.from}/${period.to}`;
  let mapper = mappers.get(key);
  if (!mapper) {
    mapper = compileMapper({ columns: flightColumnSpecs, mapping: flightMapping, filter: { column: 'date', ...period } }, 'flights');
    mappers.set(key, mapper);
  }
  return mapper;
}

/**
 * Maps one raw record. A record with a valid date outside the period is `outside` (whatever else
 * is wrong with it); a record in the period, or whose date cannot be read (so it cannot be
 * placed), is validated, and is `invalid` with all its reasons or a `row`.
 */
export function mapFlightRecord(record: Record<string, unknown>, period: Period | { fromMs: number; toMs: number }): FlightOutcome {
  return flightMapper(period).map(record) as FlightOutcome;
}

/**
 * Row-group pruning for a period: true when the group's date statistics prove that no row lies in
 * [from, to). Without usable statistics the group is read.
 */
export function flightRowGroupOutsidePeriod(group: RowGroupInfo, period: Period): boolean {
  const stats = group.statistics.date;
  if (!stats) return false;
  return flightMapper(period).filterField!.outside(stats.min, stats.max);
}
