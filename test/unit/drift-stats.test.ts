import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chiSquareTest, jensenShannonDistance, ksAndWasserstein, wassersteinDistance } from '../../src/monitoring/distances';
import { evaluateDrift } from '../../src/monitoring/drift';
import { kolmogorovSf, ksStatistic, ksTwoSample, smirnovSf } from '../../src/monitoring/kolmogorov';
import { sortFloat64 } from '../../src/monitoring/sort';
import { categoricalDriftReference, driftReferenceSchema, numericDriftReference } from '../../src/monitoring/reference';
import { chiSquaredSf, logGamma, normalTwoSidedP, regularizedGammaP, regularizedGammaQ } from '../../src/monitoring/special';
import { mulberry32, numbers, sample, strings, type SampleSpec } from '../fixtures/drift/samples';

/**
 * keel's drift statistics against SciPy 1.17 / NumPy 2 on the same samples. The reference values
 * were computed once by bench/drift/make_fixtures.py; the samples are regenerated bit for bit from
 * their specs (test/fixtures/drift/samples.ts mirrors bench/drift/samples.py).
 */

interface Check {
  n: number;
  first: number | string;
  last: number | string;
  sum?: number;
}
interface Pair {
  name: string;
  reference: SampleSpec;
  current: SampleSpec;
  referenceCheck: Check;
  currentCheck: Check;
}
const fixtures = JSON.parse(readFileSync(new URL('../fixtures/drift/scipy-reference.json', import.meta.url), 'utf8')) as {
  versions: Record<string, string>;
  ks: (Pair & { method: 'exact' | 'asymp'; statistic: number; pValue: number })[];
  kstwo: { n: number; d: number; sf: number }[];
  smirnov: { n: number; d: number; sf: number }[];
  chi2sf: { df: number; x: number; sf: number }[];
  chisquare: { name: string; observed: number[]; expected: number[] | null; statistic: number; pValue: number }[];
  chisquareSamples: (Pair & { statistic: number; pValue: number })[];
  jensenshannon: { name: string; p: number[]; q: number[]; base2: number; baseE: number }[];
  jensenshannonSamples: (Pair & { numeric: boolean; bins: number; base2: number })[];
  wasserstein: (Partial<Pair> & {
    name: string;
    referenceValues?: number[];
    currentValues?: number[];
    distance: number;
    referenceStd: number;
    normed: number;
  })[];
  ztest: (Pair & { z: number; pValue: number })[];
};

/** |actual − expected| within rtol·|expected| + atol. */
function close(actual: number, expected: number, rtol: number, atol = 0): void {
  if (actual === expected) return;
  const tolerance = rtol * Math.abs(expected) + atol;
  if (!(Math.abs(actual - expected) <= tolerance)) {
    throw new Error(`expected ${expected}, got ${actual} (difference ${Math.abs(actual - expected)} > ${tolerance})`);
  }
}

function sortedSample(spec: SampleSpec, check: Check): Float64Array {
  const values = numbers(spec);
  expect({ n: values.length, first: values[0], last: values.at(-1) }).toEqual({ n: check.n, first: check.first, last: check.last });
  return Float64Array.from(values).sort();
}

describe('samples', () => {
  it('regenerates the fixture samples bit for bit', () => {
    for (const c of [...fixtures.ks, ...fixtures.chisquareSamples, ...fixtures.jensenshannonSamples, ...fixtures.ztest]) {
      for (const [spec, check] of [
        [c.reference, c.referenceCheck],
        [c.current, c.currentCheck],
      ] as const) {
        const values = sample(spec);
        expect(values.length).toBe(check.n);
        expect(values[0]).toBe(check.first);
        expect(values.at(-1)).toBe(check.last);
        if (check.sum !== undefined)
          close(
            (values as number[]).reduce((a, b) => a + b, 0),
            check.sum,
            1e-12,
          );
      }
    }
  });
});

describe('two-sample Kolmogorov–Smirnov (scipy.stats.ks_2samp, method auto)', () => {
  for (const c of fixtures.ks) {
    it(`${c.name}: ${c.method}`, () => {
      const result = ksTwoSample(sortedSample(c.reference, c.referenceCheck), sortedSample(c.current, c.currentCheck));
      expect(result.method).toBe(c.method);
      close(result.statistic, c.statistic, 1e-14);
      close(result.pValue, c.pValue, 1e-9, 1e-15);
    });
  }

  it('is symmetric in its samples and 0 / 1 for identical samples', () => {
    const a = Float64Array.from(numbers({ dist: 'normalish', n: 300, seed: 1 })).sort();
    const b = Float64Array.from(numbers({ dist: 'normalish', n: 200, seed: 2, loc: 0.2 })).sort();
    expect(ksTwoSample(a, b).pValue).toBe(ksTwoSample(b, a).pValue);
    expect(ksTwoSample(a, a)).toMatchObject({ statistic: 0, pValue: 1 });
  });
});

describe('Kolmogorov distribution (scipy.stats.kstwo.sf) across its computation regions', () => {
  it(`matches ${fixtures.kstwo.length} values for n from 1 to 2e6`, () => {
    for (const c of fixtures.kstwo) {
      try {
        close(kolmogorovSf(c.n, c.d), c.sf, 1e-9, 1e-14);
      } catch (error) {
        throw new Error(`kstwo.sf(${c.d}, ${c.n}): ${(error as Error).message}`);
      }
    }
  });

  it(`matches scipy.special.smirnov on ${fixtures.smirnov.length} values`, () => {
    for (const c of fixtures.smirnov) {
      try {
        close(smirnovSf(c.n, c.d), c.sf, 1e-10, 1e-300);
      } catch (error) {
        throw new Error(`smirnov(${c.n}, ${c.d}): ${(error as Error).message}`);
      }
    }
  });
});

describe('chi-squared', () => {
  it(`survival function matches scipy.special.chdtrc on ${fixtures.chi2sf.length} values (df 1 to 5000)`, () => {
    for (const c of fixtures.chi2sf) {
      try {
        close(chiSquaredSf(c.x, c.df), c.sf, 1e-11, 1e-300);
      } catch (error) {
        throw new Error(`chdtrc(${c.df}, ${c.x}): ${(error as Error).message}`);
      }
    }
  });

  it('incomplete gamma functions are complementary and match known values', () => {
    close(logGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-15);
    close(logGamma(10), Math.log(362880), 1e-15);
    close(logGamma(171.5), 709.1431630309282, 1e-14); // Python's math.lgamma
    close(logGamma(3.7), 1.4280723266653883, 1e-14);
    close(logGamma(0.1), 2.2527126517342055, 1e-14);
    close(regularizedGammaP(1, 2), 1 - Math.exp(-2), 1e-15);
    for (const [a, x] of [
      [0.5, 0.1],
      [3, 2.5],
      [40, 45],
      [2500, 2400],
    ]) {
      close(regularizedGammaP(a, x) + regularizedGammaQ(a, x), 1, 1e-14);
    }
    close(normalTwoSidedP(1.959963984540054), 0.05, 1e-12);
    expect(normalTwoSidedP(0)).toBe(1);
  });

  for (const c of fixtures.chisquare) {
    it(`scipy.stats.chisquare: ${c.name}`, () => {
      const result = chiSquareTest(c.observed, c.expected ?? undefined);
      close(result.statistic, c.statistic, 1e-13);
      close(result.pValue, c.pValue, 1e-11, 1e-300);
    });
  }

  it('an observation where nothing was expected gives an infinite statistic and p = 0', () => {
    expect(chiSquareTest([5, 5, 1], [5.5, 5.5, 0])).toMatchObject({ statistic: Infinity, pValue: 0 });
  });

  for (const c of fixtures.chisquareSamples) {
    it(`Evidently's chi-squared drift test, small categorical reference: ${c.name}`, () => {
      const reference = categoricalDriftReference(strings(c.reference));
      const result = evaluateDrift({
        reference: { airport: reference },
        current: { columns: { airport: strings(c.current) }, rowCount: c.current.n },
        features: ['airport'],
      });
      const column = result.columns[0];
      expect(column.method).toBe('chisquare');
      expect(column.exact).toBe(true);
      close(column.statistics.chisquare!.statistic, c.statistic, 1e-12);
      close(column.score!, c.pValue, 1e-10, 1e-300);
    });
  }
});

describe('Jensen–Shannon distance (scipy.spatial.distance.jensenshannon)', () => {
  for (const c of fixtures.jensenshannon) {
    it(`${c.name}: base 2 and base e`, () => {
      close(jensenShannonDistance(c.p, c.q), c.base2, 1e-12, 1e-15);
      close(jensenShannonDistance(c.p, c.q, Math.E), c.baseE, 1e-12, 1e-15);
    });
  }

  for (const c of fixtures.jensenshannonSamples) {
    it(`Evidently's binning (${c.numeric ? 'Sturges bins or values' : 'categories'}): ${c.name}`, () => {
      const referenceValues = sample(c.reference);
      const reference = c.numeric
        ? numericDriftReference(referenceValues, { sampleSize: Infinity })
        : categoricalDriftReference(referenceValues);
      const result = evaluateDrift({
        reference: { x: reference },
        current: { columns: { x: sample(c.current) }, rowCount: c.current.n },
        features: ['x'],
        config: { columns: { x: { method: 'jensenshannon' } } },
      });
      expect(result.columns[0].exact).toBe(true);
      close(result.columns[0].statistics.jensenshannon!, c.base2, 1e-12, 1e-15);
    });
  }
});

describe('Wasserstein distance (scipy.stats.wasserstein_distance), normalised as Evidently', () => {
  for (const c of fixtures.wasserstein) {
    it(c.name, () => {
      const u = c.referenceValues ?? numbers(c.reference!);
      const v = c.currentValues ?? numbers(c.current!);
      close(wassersteinDistance(Float64Array.from(u).sort(), Float64Array.from(v).sort()), c.distance, 1e-12);
      const result = evaluateDrift({
        reference: { x: numericDriftReference(u, { sampleSize: Infinity }) },
        current: { columns: { x: v }, rowCount: v.length },
        features: ['x'],
        config: { minRows: 1, columns: { x: { method: 'wasserstein' } } },
      });
      const column = result.columns[0];
      expect(column.exact).toBe(true);
      close(column.statistics.wasserstein!.distance, c.distance, 1e-12);
      close(column.score!, c.normed, 1e-12);
    });
  }

  it('weights: a reference given as distinct values with counts equals the repeated values', () => {
    const values = Float64Array.from([1, 1, 1, 2, 5, 5]);
    const current = Float64Array.from([0, 2, 2, 7]);
    expect(wassersteinDistance(Float64Array.from([1, 2, 5]), current, Float64Array.from([3, 1, 2]))).toBeCloseTo(
      wassersteinDistance(values, current),
      14,
    );
  });
});

describe("Evidently's two-proportion z-test (binary categorical, small reference)", () => {
  for (const c of fixtures.ztest) {
    it(c.name, () => {
      const result = evaluateDrift({
        reference: { flag: categoricalDriftReference(strings(c.reference)) },
        current: { columns: { flag: strings(c.current) }, rowCount: c.current.n },
        features: ['flag'],
      });
      const column = result.columns[0];
      expect(column.method).toBe('z');
      close(column.statistics.z!.z, c.z, 1e-12);
      close(column.score!, c.pValue, 1e-10, 1e-15);
    });
  }
});

describe('building blocks', () => {
  it('sortFloat64 (radix) orders like Float64Array.prototype.sort, −0 before +0, infinities, subnormals, ties', () => {
    for (const n of [10, 5000, 50_000]) {
      const random = mulberry32(n);
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const u = random();
        values[i] = u < 0.1 ? Math.floor(random() * 5) - 2 : u < 0.2 ? -0 : (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20);
      }
      values.set([Infinity, -Infinity, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, 0, -0], 0);
      const expected = values.slice().sort();
      const actual = sortFloat64(values.slice());
      for (let i = 0; i < n; i++)
        if (!Object.is(actual[i], expected[i])) throw new Error(`n=${n}: index ${i}: ${actual[i]} vs ${expected[i]}`);
    }
  });

  it('the KS/Wasserstein walk over a reference of distinct values with counts equals the walk over the repeated values', () => {
    const a = sortFloat64(Float64Array.from(numbers({ dist: 'rounded', n: 3000, seed: 5 })));
    const b = sortFloat64(Float64Array.from(numbers({ dist: 'rounded', n: 2000, seed: 6, loc: 0.1 })));
    const distinct = Float64Array.from(new Set(a));
    const counts = Float64Array.from(distinct, (value) => a.filter((x) => x === value).length);
    expect(distinct.length).toBeLessThan(a.length / 2);
    const weighted = ksAndWasserstein(distinct, b, counts);
    const repeated = ksAndWasserstein(a, b);
    expect(weighted).toMatchObject({ statistic: repeated.statistic, location: repeated.location, sign: repeated.sign });
    expect(weighted.statistic).toBe(ksStatistic(a, b).statistic);
    expect(weighted.wasserstein).toBeCloseTo(repeated.wasserstein, 14);
  });

  it('references survive JSON (as stored) and give the same results', () => {
    const reference = {
      x: numericDriftReference(numbers({ dist: 'normalish', n: 3000, seed: 7 })),
      y: categoricalDriftReference(strings({ dist: 'categorical', n: 3000, seed: 8, categories: ['a', 'b', 'c'], weights: [1, 2, 3] })),
    };
    const stored = JSON.parse(JSON.stringify(reference)) as Record<string, unknown>;
    expect(Array.isArray((stored.x as { sample: { values: unknown } }).sample.values)).toBe(true);
    const parsed = { x: driftReferenceSchema.parse(stored.x), y: driftReferenceSchema.parse(stored.y) };
    const current = {
      columns: {
        x: numbers({ dist: 'normalish', n: 500, seed: 9, loc: 0.1 }),
        y: strings({ dist: 'categorical', n: 500, seed: 10, categories: ['a', 'b', 'c'], weights: [1, 2, 3] }),
      },
      rowCount: 500,
    };
    const before = evaluateDrift({ reference, current, features: ['x', 'y'] });
    const after = evaluateDrift({ reference: parsed, current, features: ['x', 'y'] });
    expect(after.columns).toEqual(before.columns);
  });
});
