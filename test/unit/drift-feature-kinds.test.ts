import { describe, expect, it } from 'vitest';
import { evaluateDrift } from '../../src/monitoring/drift';
import {
  columnSpecsForWindow,
  featureSpecsOf,
  monitoredColumns,
  monitoredRows,
  readColumn,
  type MonitoredColumn,
} from '../../src/monitoring/monitored-columns';
import { DriftReferenceBuilder, ReferenceSchemaError } from '../../src/monitoring/reference';
import type { FeatureSpec } from '../../src/shared/feature-spec';
import { mulberry32 } from '../../src/shared/prng';

/**
 * Drift of boolean and datetime features: the reference is built from dataset rows (ISO strings,
 * JS booleans), the window from logged request inputs (epoch milliseconds, "yes"/"NO" strings);
 * both go through the same plan, so equal traffic compares equal and a shift is found in the
 * part the model sees.
 */

const specs: FeatureSpec[] = [
  { name: 'distance', kind: 'numeric' },
  { name: 'holiday', kind: 'boolean' },
  { name: 'departure', kind: 'datetime', parts: ['hour', 'weekday', 'year'] },
];
const types = new Map([
  ['distance', 'number'],
  ['holiday', 'boolean'],
  ['departure', 'datetime'],
]);
const DAY = 86_400_000;
const START = Date.UTC(2024, 0, 1);

/** Flights over `days` days: daytime departures (6–21 h), 10 % holidays, unless shifted. */
function flights(n: number, seed: number, options: { days: number; night?: boolean; holidayShare?: number; start?: number }) {
  const random = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const day = Math.floor(random() * options.days);
    const hour = options.night ? Math.floor(random() * 5) : 6 + Math.floor(random() * 16);
    const ms = (options.start ?? START) + day * DAY + hour * 3_600_000 + Math.floor(random() * 3_600_000);
    return { distance: 200 + random() * 1500, holiday: random() < (options.holidayShare ?? 0.1), departure: ms };
  });
}

/** Dataset rows as the dataset store returns them: datetimes as ISO strings, booleans as booleans. */
const asDatasetRow = (row: ReturnType<typeof flights>[number]) => ({ ...row, departure: new Date(row.departure).toISOString() });
/** Logged request inputs: epoch ms and boolean words in any case. */
const asRequest = (row: ReturnType<typeof flights>[number], i: number) => ({
  ...row,
  holiday: (i % 2 ? ['yes', 'no'] : ['TRUE', 'False'])[row.holiday ? 0 : 1],
});

function reference(columns: MonitoredColumn[], rows: Record<string, unknown>[]) {
  const builder = new DriftReferenceBuilder(columns, { seed: 7 });
  for (const row of monitoredRows(columns, rows)) builder.add(row);
  return builder.finish();
}

describe('drift of boolean and datetime features', () => {
  const columns = monitoredColumns(specs, types);
  const references = reference(columns, flights(20_000, 1, { days: 365 }).map(asDatasetRow));

  it('plans one column per boolean and per date part, categorical except the year', () => {
    expect(columns.map((c) => [c.name, c.kind, c.read])).toEqual([
      ['distance', 'numeric', 'number'],
      ['holiday', 'categorical', 'boolean'],
      ['departure.hour', 'categorical', 'datePart'],
      ['departure.weekday', 'categorical', 'datePart'],
      ['departure.year', 'numeric', 'datePart'],
    ]);
    expect(references['holiday']).toMatchObject({ kind: 'categorical', missing: 0 });
    expect((references['holiday'] as { counts: { value: string }[] }).counts.map((c) => c.value).sort()).toEqual(['false', 'true']);
    expect((references['departure.hour'] as { counts: unknown[] }).counts).toHaveLength(16);
  });

  it('reads ISO strings and epoch milliseconds, booleans and their words, alike', () => {
    const [, holiday, hour] = columns;
    expect(readColumn(hour, '2024-03-05T14:30:00Z')).toBe('14');
    expect(readColumn(hour, Date.UTC(2024, 2, 5, 14, 30))).toBe('14');
    expect(readColumn(hour, '2024-03-05T14:30:00+02:00')).toBe('12');
    expect(readColumn(hour, 'not a time')).toBeNull();
    expect([true, 'yes', 'TRUE', 1, '1'].map((v) => readColumn(holiday, v))).toEqual(['true', 'true', 'true', 'true', 'true']);
    expect([false, 'no', 'False', 0].map((v) => readColumn(holiday, v))).toEqual(['false', 'false', 'false', 'false']);
    expect(['maybe', null, undefined, ''].map((v) => readColumn(holiday, v))).toEqual([null, null, null, null]);
  });

  it('the same traffic, logged as requests, shows no drift', () => {
    const window = flights(3000, 2, { days: 30 }).map(asRequest);
    const result = evaluateDrift({
      reference: references,
      current: { rows: monitoredRows(columns, window) },
      features: columnSpecsForWindow(columns, window),
    });
    const byName = Object.fromEntries(result.columns.map((c) => [c.column, c]));
    expect(result.status).toBe('ok');
    expect(byName['holiday'].status).toBe('ok');
    expect(byName['departure.hour'].status).toBe('ok');
    expect(byName['departure.weekday'].status).toBe('ok');
  });

  it('night departures and a holiday surge drift in the hour and the boolean, not in distance', () => {
    const window = flights(3000, 3, { days: 30, night: true, holidayShare: 0.6 }).map(asRequest);
    const result = evaluateDrift({
      reference: references,
      current: { rows: monitoredRows(columns, window) },
      features: columnSpecsForWindow(columns, window),
    });
    expect(result.dataset.driftedColumns.sort()).toEqual(['departure.hour', 'holiday']);
    // Each date part counts as a column in the dataset share: 2 of 5 is below the default 0.5.
    expect(result.dataset).toMatchObject({ comparedColumns: 5, share: 0.4, drifted: false });
  });

  it('a window shorter than a part’s cycle does not compare that part: three days hold three weekdays', () => {
    const window = flights(2000, 4, { days: 3 }).map(asRequest);
    const result = evaluateDrift({
      reference: references,
      current: { rows: monitoredRows(columns, window) },
      features: columnSpecsForWindow(columns, window),
    });
    const weekday = result.columns.find((c) => c.column === 'departure.weekday')!;
    expect(weekday).toMatchObject({ status: 'ignored', drifted: false });
    expect(weekday.choice).toMatch(
      /not compared: the window's departure values span 2\.\d+ days, less than one cycle of weekday \(7 days\)/,
    );
    expect(result.columns.find((c) => c.column === 'departure.hour')!.status).toBe('ok');
    expect(result.status).toBe('ok');
  });

  it('a year the model never saw drifts by distance', () => {
    const window = flights(2000, 5, { days: 30, start: Date.UTC(2026, 0, 1) }).map(asRequest);
    const result = evaluateDrift({
      reference: references,
      current: { rows: monitoredRows(columns, window) },
      features: columnSpecsForWindow(columns, window),
    });
    expect(result.columns.find((c) => c.column === 'departure.year')).toMatchObject({ status: 'drift', method: 'jensenshannon' });
  });

  it('a datetime feature missing from the requests is absent in every part (a schema problem)', () => {
    const window = flights(500, 6, { days: 30 }).map(({ departure: _, ...rest }) => rest);
    const result = evaluateDrift({
      reference: references,
      current: { rows: monitoredRows(columns, window) },
      features: columnSpecsForWindow(columns, window),
    });
    expect(result.problems.absent).toEqual(['departure.hour', 'departure.weekday', 'departure.year']);
  });

  it('a datetime column declared numeric, or a feature the data lacks, is refused naming it', () => {
    expect(() =>
      monitoredColumns(
        [
          { name: 'departure', kind: 'numeric' },
          { name: 'gate', kind: 'boolean' },
        ],
        types,
      ),
    ).toThrow(ReferenceSchemaError);
    expect(() =>
      monitoredColumns(
        [
          { name: 'departure', kind: 'numeric' },
          { name: 'gate', kind: 'boolean' },
        ],
        types,
      ),
    ).toThrow(/no reference for "gate"; "departure" is a datetime column in the reference but a numeric feature of the model/);
  });

  it('takes the specs from the version params, else from the contract (float64 = datetime with default parts)', () => {
    expect(featureSpecsOf({ features: specs }, [])).toEqual(specs);
    expect(
      featureSpecsOf({}, [
        { name: 'a', type: 'float32' },
        { name: 'b', type: 'string' },
        { name: 'c', type: 'float64' },
      ]),
    ).toEqual([
      { name: 'a', kind: 'numeric' },
      { name: 'b', kind: 'categorical' },
      { name: 'c', kind: 'datetime' },
    ]);
    expect(monitoredColumns([{ name: 'departure', kind: 'datetime' }], types).map((c) => c.name)).toEqual([
      'departure.hour',
      'departure.weekday',
      'departure.month',
    ]);
  });
});
