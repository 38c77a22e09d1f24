import { describe, expect, it } from 'vitest';
import type { ColumnDef, Row } from '../../src/data/columns';
import { checkDatasetRules, profileDataset, type DatasetProfile } from '../../src/data/profile';
import { DataValidationError } from '../../src/shared/errors';

const columns: ColumnDef[] = [
  { name: 'date', type: 'datetime' },
  { name: 'distance', type: 'number' },
  { name: 'origin', type: 'string' },
];

const rows: Row[] = [
  { date: '2001-01-02T10:00:00', distance: 100, origin: 'SFO' },
  { date: '2001-01-01T09:00:00', distance: 300, origin: 'LAX' },
  { date: '2001-01-03T08:00:00', distance: null, origin: 'SFO' },
  { date: '2001-01-01T07:00:00', distance: 200, origin: null },
  { date: null, distance: 400, origin: 'JFK' },
];

describe('profileDataset', () => {
  const profile = profileDataset(rows, columns);

  it('profiles number columns with a numeric reference', () => {
    const distance = profile.distance;
    expect(distance).toMatchObject({ type: 'number', count: 4, nulls: 1, min: 100, max: 400, mean: 250 });
    if (distance.type !== 'number') throw new Error('expected a number profile');
    expect(distance.std).toBeCloseTo(Math.sqrt(12_500), 10);
    expect(distance.reference).toMatchObject({ kind: 'numeric', missing: 0.2 });
    const { proportions, missing } = distance.reference!;
    expect(proportions.reduce((a, b) => a + b, 0) + missing).toBeCloseTo(1, 12);
  });

  it('profiles string columns with distinct count, top categories and a categorical reference', () => {
    expect(profile.origin).toEqual({
      type: 'string',
      count: 4,
      nulls: 1,
      distinct: 3,
      top: [
        { value: 'SFO', count: 2 },
        { value: 'JFK', count: 1 },
        { value: 'LAX', count: 1 },
      ],
      reference: { kind: 'categorical', categories: ['SFO', 'JFK', 'LAX'], proportions: [0.4, 0.2, 0.2, 0], missing: 0.2 },
    });
  });

  it('profiles datetime columns by their range', () => {
    expect(profile.date).toEqual({ type: 'datetime', count: 4, nulls: 1, min: '2001-01-01T07:00:00', max: '2001-01-03T08:00:00' });
  });

  it('is JSON-safe (stored as jsonb, read back by the monitor)', () => {
    expect(JSON.parse(JSON.stringify(profile))).toEqual(profile);
  });

  it('counts non-finite numbers as nulls', () => {
    const p = profileDataset([{ x: Number.NaN }, { x: 1 }, { x: 'a' }], [{ name: 'x', type: 'number' }]);
    expect(p.x).toMatchObject({ count: 1, nulls: 2, min: 1, max: 1, mean: 1, std: 0 });
  });

  it('handles an empty dataset without reference distributions', () => {
    const p = profileDataset([], columns);
    expect(p.distance).toMatchObject({ count: 0, nulls: 0, min: null, mean: null, reference: null });
    expect(p.origin).toMatchObject({ count: 0, distinct: 0, top: [], reference: null });
  });

  it('computes a stable mean and std on large offsets', () => {
    const big = Array.from({ length: 1000 }, (_, i) => ({ x: 1e9 + (i % 2) }));
    const p = profileDataset(big, [{ name: 'x', type: 'number' }]).x;
    expect(p).toMatchObject({ mean: 1e9 + 0.5 });
    if (p.type === 'number') expect(p.std).toBeCloseTo(0.5, 9);
  });
});

describe('checkDatasetRules', () => {
  const profile: DatasetProfile = profileDataset(rows, columns);

  it('passes when every rule holds', () => {
    expect(() => checkDatasetRules({ rowCount: 5 }, profile, { minRows: 5, maxNullFraction: 0.2 })).not.toThrow();
  });

  it('names the minRows rule and the observed row count', () => {
    let error: unknown;
    try {
      checkDatasetRules({ rowCount: 10 }, profile, { minRows: 1000, maxNullFraction: 1 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DataValidationError);
    expect(error).toMatchObject({
      name: 'DataValidationError',
      rule: 'minRows',
      observed: 10,
      message: 'rule minRows: 10 rows < 1000 required',
    });
  });

  it('names the maxNullFraction rule and every offending column', () => {
    let error: unknown;
    try {
      checkDatasetRules({ rowCount: 5 }, profile, { minRows: 1, maxNullFraction: 0.1 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DataValidationError);
    expect(error).toMatchObject({
      rule: 'maxNullFraction',
      observed: { date: 0.2, distance: 0.2, origin: 0.2 },
      message: 'rule maxNullFraction: date 20% null, distance 20% null, origin 20% null > 10% allowed',
    });
  });
});
