import { describe, expect, it } from 'vitest';
import {
  categoricalReference,
  featureReferenceSchema,
  numericReference,
  populationStabilityIndex,
  psiSeverity,
} from '../../src/monitoring/psi';
import { seededNormal, seededRandom } from './support/synthetic';

const normals = (count: number, seed: number, shift = 0) => {
  const normal = seededNormal(seed);
  return Array.from({ length: count }, () => normal() + shift);
};

describe('numericReference', () => {
  it('cuts at quantiles and records shares of all values, missing ones apart', () => {
    const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, null, Number.NaN];
    const reference = numericReference(values, 4);
    // Present values 1..10; cut where 1/4, 2/4, 3/4 of them lie at or below.
    expect(reference.edges).toEqual([3, 5, 8]);
    expect(reference.proportions).toEqual([3 / 12, 2 / 12, 3 / 12, 2 / 12]);
    expect(reference.missing).toBe(2 / 12);
  });

  it('merges the cut points of heavily repeated values', () => {
    const reference = numericReference([...Array(90).fill(0), ...Array(10).fill(1)], 10);
    expect(reference.edges).toEqual([0]);
    expect(reference.proportions).toEqual([0.9, 0.1]);
  });
});

describe('categoricalReference', () => {
  it('keeps the most frequent categories and puts the rest in a last "other" share', () => {
    const reference = categoricalReference(['a', 'b', 'b', 'c', 'c', 'c', 'd', null, ''], 2);
    expect(reference.categories).toEqual(['c', 'b']);
    expect(reference.proportions).toEqual([3 / 9, 2 / 9, 2 / 9]);
    expect(reference.missing).toBe(2 / 9);
  });
});

describe('populationStabilityIndex', () => {
  const reference = numericReference(normals(20_000, 1));

  it('is about 0 for a sample of the same distribution', () => {
    const { psi, n } = populationStabilityIndex(reference, normals(20_000, 2));
    expect(n).toBe(20_000);
    expect(psi).toBeLessThan(0.01);
    expect(psiSeverity(psi)).toBe('none');
  });

  it('is above 0.25 for a shifted distribution', () => {
    const { psi } = populationStabilityIndex(reference, normals(20_000, 3, 1));
    expect(psi).toBeGreaterThan(0.25);
    expect(psiSeverity(psi)).toBe('major');
  });

  it('counts missing values in a bin of their own', () => {
    const withNulls = [...normals(5_000, 4), ...Array<null>(5_000).fill(null)];
    const { psi, bins } = populationStabilityIndex(reference, withNulls);
    expect(bins.at(-1)).toEqual({ label: '(missing)', expected: 0, actual: 0.5 });
    expect(psi).toBeGreaterThan(0.25);
  });

  it('puts categories unseen in the reference in "other"', () => {
    const random = seededRandom(5);
    const airports = ['ATL', 'ORD', 'LAX', 'JFK'];
    const categorical = categoricalReference(
      Array.from({ length: 4_000 }, () => airports[Math.floor(random() * 4)]),
      3,
    );
    const current = Array.from({ length: 4_000 }, (_, i) => (i % 2 ? 'NEW' : airports[Math.floor(random() * 3)]));
    const { psi, bins } = populationStabilityIndex(categorical, current);
    const other = bins.find((bin) => bin.label === '(other)');
    expect(other?.expected).toBeCloseTo(0.25, 1);
    expect(other?.actual).toBe(0.5);
    expect(Number.isFinite(psi)).toBe(true);
  });

  it('stays finite when a bin is empty on one side', () => {
    const { psi } = populationStabilityIndex(reference, Array(100).fill(1e9));
    expect(Number.isFinite(psi)).toBe(true);
    expect(psi).toBeGreaterThan(1);
  });

  it('returns n = 0 and psi NaN without current values; severity refuses NaN', () => {
    const { psi, n, bins } = populationStabilityIndex(reference, []);
    expect(n).toBe(0);
    expect(psi).toBeNaN();
    expect(bins.every((bin) => bin.actual === 0)).toBe(true);
    expect(() => psiSeverity(psi)).toThrow(/NaN/);
  });
});

describe('psiSeverity', () => {
  it('reads PSI with the usual thresholds', () => {
    expect(psiSeverity(0.099)).toBe('none');
    expect(psiSeverity(0.1)).toBe('moderate');
    expect(psiSeverity(0.249)).toBe('moderate');
    expect(psiSeverity(0.25)).toBe('major');
  });
});

describe('featureReferenceSchema', () => {
  it('reads references back from JSON and rejects inconsistent ones', () => {
    const numeric = numericReference(normals(1_000, 6));
    const categorical = categoricalReference(['x', 'y', 'y']);
    expect(featureReferenceSchema.parse(JSON.parse(JSON.stringify(numeric)))).toEqual(numeric);
    expect(featureReferenceSchema.parse(JSON.parse(JSON.stringify(categorical)))).toEqual(categorical);
    expect(() => featureReferenceSchema.parse({ ...numeric, proportions: numeric.proportions.slice(1) })).toThrow();
    expect(() => featureReferenceSchema.parse({ ...categorical, kind: 'numeric' })).toThrow();
  });
});
