import { describe, expect, it } from 'vitest';
import { booleanSpellings, readBoolean, readCategory, readNumber, readTimestamp } from '../../src/ml/row';

/** row.ts is the one definition of "missing" for training, in-process inference and serving feeds. */
describe('row readers', () => {
  it('readNumber: non-finite numbers and numbers beyond float32 are missing', () => {
    expect(readNumber(3.5)).toBe(3.5);
    expect(readNumber(' 42 ')).toBe(42);
    expect(readNumber(-3.4e38)).toBe(-3.4e38);
    for (const missing of [
      null,
      undefined,
      '',
      ' ',
      'n/a',
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      1e39,
      -1e300,
      '1e300',
      true,
    ]) {
      expect(readNumber(missing), String(missing)).toBeNaN();
    }
  });

  it('readBoolean: true/false, yes/no in any case, 1/0 as numbers or text; anything else is missing', () => {
    for (const value of [true, 1, '1', 'true', 'TRUE', 'True', 'tRuE', 'yes', 'YES', 'yEs'])
      expect(readBoolean(value), String(value)).toBe(1);
    for (const value of [false, 0, -0, '0', 'false', 'FALSE', 'no', 'No', 'nO']) expect(readBoolean(value), String(value)).toBe(0);
    for (const value of [null, undefined, '', ' true', 'y', 'n', 'maybe', 2, 0.5, Number.NaN, '1.0', 'ｔrue'])
      expect(readBoolean(value), String(value)).toBeNaN();
    // The graph reads the text serving feeds (readCategory) with the same table.
    for (const value of [true, false, 1, 0, 'Yes', 'no']) expect(booleanSpellings.get(readCategory(value) ?? '')).toBe(readBoolean(value));
    expect(booleanSpellings.size).toBe(16 + 32 + 8 + 4 + 1 + 1);
  });

  it('readTimestamp: ISO 8601 (zone-less = UTC), milliseconds (floored) or a Date; anything else is missing', () => {
    expect(readTimestamp('2024-03-01T14:30:00Z')).toBe(Date.UTC(2024, 2, 1, 14, 30));
    expect(readTimestamp('2024-03-01T14:30:00')).toBe(Date.UTC(2024, 2, 1, 14, 30));
    expect(readTimestamp('2024-03-01 14:30')).toBe(Date.UTC(2024, 2, 1, 14, 30));
    expect(readTimestamp('2024-03-01T14:30:00.250+02:00')).toBe(Date.UTC(2024, 2, 1, 12, 30, 0, 250));
    expect(readTimestamp('2024-03-01')).toBe(Date.UTC(2024, 2, 1));
    expect(readTimestamp('1901-12-13T20:45:52Z')).toBe(-2_147_483_648_000);
    expect(readTimestamp(1_700_000_000_000.9)).toBe(1_700_000_000_000);
    expect(readTimestamp(-0.5)).toBe(-1);
    expect(readTimestamp(new Date(Date.UTC(1969, 6, 20, 20, 17)))).toBe(Date.UTC(1969, 6, 20, 20, 17));
    expect(readTimestamp(8.64e15)).toBe(8.64e15);
    for (const missing of [
      null,
      undefined,
      '',
      'yesterday',
      '2021-02-30',
      '1700000000000',
      '03/01/2024',
      Number.NaN,
      Number.POSITIVE_INFINITY,
      8.64e15 + 1,
      new Date(Number.NaN),
      true,
    ]) {
      expect(readTimestamp(missing), String(missing)).toBeNaN();
    }
  });
});
