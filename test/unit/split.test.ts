import { describe, expect, it } from 'vitest';
import { assignSplit, countSplits, partitionRows } from '../../src/ml/split';

const keys = Array.from({ length: 100_000 }, (_, i) => `row-${i}`);

describe('assignSplit', () => {
  it('gives the same split for the same key and seed', () => {
    const first = keys.slice(0, 1000).map((key) => assignSplit(key, 42));
    const second = keys.slice(0, 1000).map((key) => assignSplit(key, 42));
    expect(second).toEqual(first);
  });

  it('respects the fractions within 1% over 100k keys', () => {
    const fractions = { train: 0.6, validation: 0.1, test: 0.3 };
    const counts = { train: 0, validation: 0, test: 0 };
    for (const key of keys) counts[assignSplit(key, 7, fractions)]++;
    for (const name of ['train', 'validation', 'test'] as const) {
      expect(Math.abs(counts[name] / keys.length - fractions[name])).toBeLessThan(0.01);
    }
  });

  it('balances sequential numeric keys, as used for row indexes', () => {
    const { train, validation, test } = countSplits(100_000, { seed: 1, train: 0.7, validation: 0.15, test: 0.15 });
    expect(Math.abs(train / 100_000 - 0.7)).toBeLessThan(0.01);
    expect(Math.abs(validation / 100_000 - 0.15)).toBeLessThan(0.01);
    expect(Math.abs(test / 100_000 - 0.15)).toBeLessThan(0.01);
  });

  it('assigns differently under another seed', () => {
    const changed = keys.slice(0, 10_000).filter((key) => assignSplit(key, 1) !== assignSplit(key, 2)).length;
    // Independent assignments with 70/15/15 differ for 1 - (0.49 + 0.0225 + 0.0225) ≈ 46.5% of keys.
    expect(changed / 10_000).toBeGreaterThan(0.4);
    expect(changed / 10_000).toBeLessThan(0.53);
  });

  it('rejects fractions that do not sum to 1 or are negative', () => {
    expect(() => assignSplit('a', 1, { train: 0.7, validation: 0.2, test: 0.2 })).toThrow(/must sum to 1, got 1.1/);
    expect(() => assignSplit('a', 1, { train: 1.2, validation: -0.1, test: -0.1 })).toThrow(/must be numbers >= 0/);
    expect(() => countSplits(10, { seed: 1, train: 0.5, validation: 0.1, test: 0.1 })).toThrow(/must sum to 1/);
  });
});

describe('partitionRows', () => {
  it('splits rows by index, consistently with countSplits', () => {
    const rows = Array.from({ length: 5_000 }, (_, i) => ({ i }));
    const split = { seed: 3, train: 0.7, validation: 0.15, test: 0.15 };
    const parts = partitionRows(rows, split);
    const counts = countSplits(rows.length, split);
    expect({ train: parts.train.length, validation: parts.validation.length, test: parts.test.length }).toEqual(counts);
    expect(parts.test.every(({ i }) => assignSplit(String(i), 3, split) === 'test')).toBe(true);
    expect([...parts.train, ...parts.validation, ...parts.test].map(({ i }) => i).sort((a, b) => a - b)).toEqual(rows.map(({ i }) => i));
  });
});
