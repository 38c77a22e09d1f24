import { describe, expect, it } from 'vitest';
import { rawRecordToJson } from '../../src/data/raw-json';
import { naiveIso } from '../../src/data/dates';
import { flightRowGroupOutsidePeriod, mapFlightRecord } from '../../src/data/flights-recipe';

const january = { from: '2001-01-01', to: '2001-02-01' };

/** A record as hyparquet decodes flights-3m.parquet: naive timestamp as a Date, INT64 as bigint. */
function raw(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    date: new Date(Date.UTC(2001, 0, 1, 0, 1)),
    delay: 33n,
    distance: 2176n,
    origin: 'LAS',
    destination: 'PHL',
    ...overrides,
  };
}

describe('mapFlightRecord', () => {
  it('maps a raw record to a canonical row', () => {
    expect(mapFlightRecord(raw(), january)).toEqual({
      kind: 'row',
      row: {
        date: '2001-01-01T00:01:00',
        hour: 0,
        weekday: 1, // 2001-01-01 was a Monday
        distance: 2176,
        origin: 'LAS',
        destination: 'PHL',
        delay: 33,
        delayed: 1,
      },
    });
  });

  it('reads hour and weekday from the local-naive timestamp', () => {
    const outcome = mapFlightRecord(raw({ date: new Date(Date.UTC(2001, 0, 7, 23, 59)) }), january);
    expect(outcome).toMatchObject({ kind: 'row', row: { date: '2001-01-07T23:59:00', hour: 23, weekday: 0 } });
  });

  it('accepts numbers and naive ISO strings (injected sources)', () => {
    const outcome = mapFlightRecord(raw({ date: '2001-01-15T08:30:00', delay: -3, distance: 300 }), january);
    expect(outcome).toMatchObject({ kind: 'row', row: { date: '2001-01-15T08:30:00', hour: 8, delay: -3, distance: 300 } });
  });

  it('marks delayed strictly above 15 minutes', () => {
    expect(mapFlightRecord(raw({ delay: 15n }), january)).toMatchObject({ row: { delayed: 0 } });
    expect(mapFlightRecord(raw({ delay: 16n }), january)).toMatchObject({ row: { delayed: 1 } });
    expect(mapFlightRecord(raw({ delay: -20n }), january)).toMatchObject({ row: { delayed: 0 } });
  });

  it('filters on the half-open period [from, to)', () => {
    expect(mapFlightRecord(raw({ date: new Date(Date.UTC(2001, 0, 1)) }), january).kind).toBe('row');
    expect(mapFlightRecord(raw({ date: new Date(Date.UTC(2000, 11, 31, 23, 59)) }), january).kind).toBe('outside');
    expect(mapFlightRecord(raw({ date: new Date(Date.UTC(2001, 1, 1)) }), january).kind).toBe('outside');
  });

  it('treats a record outside the period as outside even when otherwise invalid', () => {
    expect(mapFlightRecord(raw({ date: new Date(Date.UTC(2001, 5, 1)), distance: -5n }), january)).toEqual({ kind: 'outside' });
  });

  it('reports every reason of an invalid record, naming field and value', () => {
    const outcome = mapFlightRecord(raw({ distance: -5n, delay: 3000n, origin: 'la', destination: 'PHLX' }), january);
    expect(outcome.kind).toBe('invalid');
    if (outcome.kind !== 'invalid') return;
    // In column order: date, hour, weekday, distance, origin, destination, delay, delayed.
    expect(outcome.reasons).toEqual([
      'distance: must be > 0 (got -5)',
      'origin: must be a 3-letter uppercase code (got "la")',
      'destination: must be a 3-letter uppercase code (got "PHLX")',
      'delay: must be <= 2880 (got 3000)',
    ]);
  });

  it('checks the upper distance bound, delay integrality and lower bound', () => {
    const outcome = mapFlightRecord(raw({ distance: 10_001, delay: -1500.5 }), january);
    expect(outcome).toEqual({
      kind: 'invalid',
      reasons: [
        'distance: must be <= 10000 (got 10001)',
        'delay: must be >= -1440 (got -1500.5)',
        'delay: must be an integer (got -1500.5)',
      ],
    });
  });

  it('quarantines a record whose date cannot be read (it cannot be placed in a period)', () => {
    const outcome = mapFlightRecord(raw({ date: new Date(Number.NaN), origin: undefined }), january);
    expect(outcome).toEqual({
      kind: 'invalid',
      // hour and weekday read the same bad date: it is reported once.
      reasons: ['date: must be a valid timestamp (got an invalid date)', 'origin: is required (got nothing)'],
    });
    expect(mapFlightRecord(raw({ date: 'yesterday' }), january)).toEqual({
      kind: 'invalid',
      reasons: ['date: must be a valid timestamp: expected YYYY-MM-DD or YYYY-MM-DDTHH:mm:ss (got "yesterday")'],
    });
  });

  it('converts bigints safely and rejects ones beyond 2^53', () => {
    const huge = 2n ** 60n;
    expect(mapFlightRecord(raw({ distance: huge }), january)).toEqual({
      kind: 'invalid',
      reasons: [`distance: must be a safe integer (got ${huge})`],
    });
    expect(mapFlightRecord(raw({ delay: 'late' }), january)).toEqual({
      kind: 'invalid',
      reasons: ['delay: must be a number (got "late")'],
    });
  });
});

describe('helpers', () => {
  it('rawRecordToJson makes bigints, dates and non-finite numbers JSON-safe', () => {
    const json = rawRecordToJson({
      a: 5n,
      b: 2n ** 64n,
      c: new Date(Date.UTC(2001, 0, 2, 3, 4, 5)),
      d: new Date(Number.NaN),
      e: Number.NaN,
      f: undefined,
    });
    expect(json).toEqual({ a: 5, b: '18446744073709551616', c: '2001-01-02T03:04:05', d: 'Invalid Date', e: 'NaN', f: null });
    expect(() => JSON.stringify(json)).not.toThrow();
  });

  it('naiveIso keeps milliseconds only when present', () => {
    expect(naiveIso(new Date(Date.UTC(2001, 0, 1, 0, 1)))).toBe('2001-01-01T00:01:00');
    expect(naiveIso(new Date(Date.UTC(2001, 0, 1, 0, 1, 2, 345)))).toBe('2001-01-01T00:01:02.345');
  });

  it('skips row groups whose date statistics lie outside the period, never without statistics', () => {
    const group = (min: unknown, max: unknown) => ({ index: 0, rowStart: 0, rowEnd: 10, statistics: { date: { min, max } } });
    const d = (s: string) => new Date(`${s}Z`);
    expect(flightRowGroupOutsidePeriod(group(d('2001-01-17T15:35:00'), d('2001-02-03T08:40:00')), january)).toBe(false);
    expect(flightRowGroupOutsidePeriod(group(d('2001-02-01T00:00:00'), d('2001-02-19T00:00:00')), january)).toBe(true);
    expect(flightRowGroupOutsidePeriod(group(d('2000-12-01T00:00:00'), d('2000-12-31T23:59:00')), january)).toBe(true);
    expect(flightRowGroupOutsidePeriod(group(undefined, undefined), january)).toBe(false);
    expect(flightRowGroupOutsidePeriod({ index: 0, rowStart: 0, rowEnd: 1, statistics: {} }, january)).toBe(false);
  });
});
