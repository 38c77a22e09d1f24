import { describe, expect, it } from 'vitest';
import { profileDataset } from '../../src/data/profile';
import { driftAlerts } from '../../src/monitoring/alerts';
import { evaluateDrift } from '../../src/monitoring/drift';
import { interpolatedWasserstein } from '../../src/monitoring/numeric-computer';
import { driftConfigSchema } from '../../src/shared/monitoring';
import { computeDriftReport } from '../../src/monitoring/drift-report';
import { numericReference } from '../../src/monitoring/psi';
import {
  categoricalDriftReference,
  DriftReferenceBuilder,
  driftReferencesFromProfile,
  numericDriftReference,
  ReferenceSchemaError,
  type DriftReferenceSet,
} from '../../src/monitoring/reference';
import { DataValidationError } from '../../src/shared/errors';
import { mulberry32, numbers, strings } from '../fixtures/drift/samples';

const normal = (n: number, seed: number, loc = 0, scale = 1) => numbers({ dist: 'normalish', n, seed, loc, scale });
const airports = ['ATL', 'ORD', 'DFW', 'LAX', 'DEN', 'JFK'];
const categorical = (n: number, seed: number, weights = [5, 4, 3, 2, 1, 1], categories = airports) =>
  strings({ dist: 'categorical', n, seed, categories, weights });
const integers = (n: number, seed: number, values: number[]) => {
  const random = mulberry32(seed);
  return Array.from({ length: n }, () => values[Math.floor(random() * values.length)]);
};

function columns(data: Record<string, unknown[]>) {
  const rowCount = Object.values(data)[0]?.length ?? 0;
  return { columns: data, rowCount };
}

describe('automatic choice of the statistic (as Evidently)', () => {
  const cases: [string, () => { reference: DriftReferenceSet; current: Record<string, unknown[]> }, string][] = [
    [
      'numeric, small reference → KS',
      () => ({ reference: { x: numericDriftReference(normal(800, 1)) }, current: { x: normal(500, 2) } }),
      'ks',
    ],
    [
      'numeric, large reference → Wasserstein',
      () => ({ reference: { x: numericDriftReference(normal(5000, 3)) }, current: { x: normal(500, 4) } }),
      'wasserstein',
    ],
    [
      'numeric with 3 values, small → chi-squared',
      () => ({ reference: { x: numericDriftReference(integers(600, 5, [1, 2, 3])) }, current: { x: integers(300, 6, [1, 2, 3]) } }),
      'chisquare',
    ],
    [
      'numeric flag, small → z-test',
      () => ({ reference: { x: numericDriftReference(integers(600, 7, [0, 1])) }, current: { x: integers(300, 8, [0, 1]) } }),
      'z',
    ],
    [
      'numeric with 4 values, large → Jensen–Shannon',
      () => ({ reference: { x: numericDriftReference(integers(5000, 9, [0, 1, 2, 3])) }, current: { x: integers(300, 10, [0, 1, 2, 3]) } }),
      'jensenshannon',
    ],
    [
      'categorical, small → chi-squared',
      () => ({ reference: { x: categoricalDriftReference(categorical(900, 11)) }, current: { x: categorical(300, 12) } }),
      'chisquare',
    ],
    [
      'categorical binary, small → z-test',
      () => ({
        reference: { x: categoricalDriftReference(categorical(900, 13, [3, 1], ['no', 'yes'])) },
        current: { x: categorical(300, 14, [3, 1], ['no', 'yes']) },
      }),
      'z',
    ],
    [
      'categorical, large → Jensen–Shannon',
      () => ({ reference: { x: categoricalDriftReference(categorical(5000, 15)) }, current: { x: categorical(300, 16) } }),
      'jensenshannon',
    ],
  ];
  for (const [name, make, method] of cases) {
    it(name, () => {
      const { reference, current } = make();
      const result = evaluateDrift({ reference, current: columns(current), features: ['x'] });
      expect(result.columns[0].method).toBe(method);
      expect(result.columns[0].choice).toMatch(/^auto: /);
      expect(result.columns[0].status).toBe('ok');
    });
  }

  it('detects a shifted numeric column and a re-weighted categorical one, and not the same distribution', () => {
    const reference = {
      a: numericDriftReference(normal(5000, 20)),
      b: categoricalDriftReference(categorical(5000, 21)),
      c: numericDriftReference(normal(5000, 22)),
    };
    const result = evaluateDrift({
      reference,
      current: columns({ a: normal(2000, 23, 0.3), b: categorical(2000, 24, [1, 1, 1, 2, 4, 5]), c: normal(2000, 25) }),
      features: ['a', 'b', 'c'],
    });
    expect(result.columns.map((c) => [c.column, c.method, c.drifted])).toEqual([
      ['a', 'wasserstein', true],
      ['b', 'jensenshannon', true],
      ['c', 'wasserstein', false],
    ]);
    expect(result.dataset).toMatchObject({ drifted: true, driftedColumns: ['a', 'b'], comparedColumns: 3 });
    expect(result.status).toBe('drift');
    // 'all' statistics: every applicable one is reported next to the deciding one.
    expect(Object.keys(result.columns[0].statistics).sort()).toEqual(['jensenshannon', 'ks', 'psi', 'wasserstein']);
    expect(Object.keys(result.columns[1].statistics).sort()).toEqual(['chisquare', 'jensenshannon', 'psi']);
  });

  it('per-column overrides: method, threshold, kind, ignore', () => {
    const reference = {
      a: numericDriftReference(normal(5000, 30)),
      hour: numericDriftReference(integers(5000, 31, [...Array(24).keys()])),
      c: categoricalDriftReference(categorical(5000, 32)),
    };
    const current = columns({ a: normal(1000, 33, 0.05), hour: integers(1000, 34, [...Array(24).keys()]), c: categorical(1000, 35) });
    const result = evaluateDrift({
      reference,
      current,
      features: ['a', 'hour', 'c'],
      config: {
        statistics: 'selected',
        columns: { a: { method: 'ks', threshold: 0.5 }, hour: { kind: 'categorical' }, c: { ignore: true } },
      },
    });
    const [a, hour, c] = result.columns;
    expect(a).toMatchObject({ method: 'ks', choice: 'config', threshold: 0.5 });
    expect(Object.keys(a.statistics)).toEqual(['ks']);
    expect(hour).toMatchObject({ kind: 'categorical', method: 'jensenshannon', exact: true });
    expect(c.status).toBe('ignored');
    expect(result.dataset.comparedColumns).toBe(2);
  });

  it('dataset drift when the configured share of compared features drift', () => {
    const reference: DriftReferenceSet = {};
    const current: Record<string, number[]> = {};
    for (let i = 0; i < 5; i++) {
      reference[`f${i}`] = numericDriftReference(normal(3000, 40 + i));
      current[`f${i}`] = normal(1000, 50 + i, i < 2 ? 0.5 : 0);
    }
    const features = Object.keys(reference);
    const half = evaluateDrift({ reference, current: columns(current), features });
    expect(half.dataset).toMatchObject({ drifted: false, share: 0.4, driftedColumns: ['f0', 'f1'] });
    expect(half.status).toBe('ok');
    expect(half.message).toMatch(/no dataset drift: 2 of 5 features drifted/);
    const lower = evaluateDrift({ reference, current: columns(current), features, config: { datasetDriftShare: 0.4 } });
    expect(lower.dataset.drifted).toBe(true);
    expect(lower.status).toBe('drift');
  });

  it('reads rows and columns alike; numeric strings count as numbers', () => {
    const reference = { x: numericDriftReference(normal(3000, 60)), y: categoricalDriftReference(categorical(3000, 61)) };
    const x = normal(400, 62);
    const y = categorical(400, 63);
    const byColumns = evaluateDrift({ reference, current: columns({ x, y }), features: ['x', 'y'] });
    const byRows = evaluateDrift({ reference, current: { rows: x.map((v, i) => ({ x: String(v), y: y[i] })) }, features: ['x', 'y'] });
    expect(byRows.columns.map((c) => c.score)).toEqual(byColumns.columns.map((c) => c.score));
  });
});

describe('bad input', () => {
  const reference = {
    distance: numericDriftReference(normal(3000, 70, 800, 300)),
    origin: categoricalDriftReference(categorical(3000, 71)),
  };

  it('an empty window is "not enough data": nothing compared, no alert', () => {
    const result = evaluateDrift({ reference, current: { rows: [] }, features: ['distance', 'origin'] });
    expect(result).toMatchObject({ status: 'insufficient_data', rowCount: 0, columns: [], prediction: null });
    expect(result.message).toBe('not enough data: 0 rows in the window, 100 needed');
    expect(result.dataset.drifted).toBe(false);
    expect(driftAlerts(result, { model: 'm', version: 1, windowEnd: '2001-02-01T00:00:00Z' })).toEqual([]);
  });

  it('fewer rows than minRows is "not enough data" too', () => {
    const rows = normal(50, 72).map((d) => ({ distance: d, origin: 'ATL' }));
    expect(evaluateDrift({ reference, current: { rows }, features: ['distance', 'origin'], config: { minRows: 51 } }).status).toBe(
      'insufficient_data',
    );
    expect(evaluateDrift({ reference, current: { rows }, features: ['distance', 'origin'], config: { minRows: 50 } }).status).not.toBe(
      'insufficient_data',
    );
  });

  it('a feature missing from the logged inputs is reported per feature, the others are compared', () => {
    const rows = normal(500, 73, 800, 300).map((d) => ({ distance: d }));
    const result = evaluateDrift({ reference, current: { rows }, features: ['distance', 'origin'] });
    const origin = result.columns[1];
    expect(origin).toMatchObject({ column: 'origin', status: 'absent', score: null, drifted: false });
    expect(result.columns[0].status).toBe('ok');
    expect(result.problems).toEqual({ absent: ['origin'], empty: [] });
    expect(result.dataset.comparedColumns).toBe(1);
    expect(result.message).toMatch(/absent from the window: origin/);
    const alerts = driftAlerts(result, { model: 'm', version: 2, windowEnd: '2001-02-01T10:00:00Z' });
    expect(alerts.map((a) => [a.kind, a.severity])).toEqual([['schema', 'critical']]);
  });

  it('a feature with only missing values is "empty"', () => {
    const rows = normal(500, 74, 800, 300).map((d) => ({ distance: d, origin: null }));
    const result = evaluateDrift({ reference, current: { rows }, features: ['distance', 'origin'] });
    expect(result.columns[1]).toMatchObject({ status: 'empty', current: { present: 0, missingShare: 1 } });
    expect(result.problems.empty).toEqual(['origin']);
  });

  it('a reference from another schema throws, naming every column', () => {
    const run = () => evaluateDrift({ reference, current: { rows: [] }, features: ['distance', 'hour', 'carrier'] });
    expect(run).toThrow(ReferenceSchemaError);
    expect(run).toThrow('the drift reference does not match the monitored columns: no reference for "hour", "carrier"');
    try {
      run();
    } catch (error) {
      // Non-retryable in activities: it is a DataValidationError.
      expect(error).toBeInstanceOf(DataValidationError);
      expect(error).toMatchObject({ name: 'DataValidationError', rule: 'referenceSchema', missing: ['hour', 'carrier'] });
    }
  });

  it('a column whose reference has another type, or a method that does not fit, is named', () => {
    // chi-squared on a numeric column is allowed (by value or by its quantile bins).
    expect(
      evaluateDrift({
        reference,
        current: { rows: [] },
        features: ['distance'],
        config: { columns: { distance: { method: 'chisquare' } } },
      }).status,
    ).toBe('insufficient_data');
    expect(() => evaluateDrift({ reference, current: { rows: [] }, features: [{ name: 'origin', kind: 'numeric' }] })).toThrow(
      '"origin" is numeric in the monitored columns but categorical (text) in the reference',
    );
    expect(() =>
      evaluateDrift({ reference, current: { rows: [] }, features: ['origin'], config: { columns: { origin: { method: 'wasserstein' } } } }),
    ).toThrow('"origin" cannot use wasserstein as a categorical column');
  });

  it('a dataset profile of another schema: missing, date and empty columns are all named', () => {
    const profile = profileDataset(
      [
        { when: '2001-01-01', distance: 100, origin: null },
        { when: '2001-01-02', distance: 200, origin: null },
      ],
      [
        { name: 'when', type: 'date' },
        { name: 'distance', type: 'number' },
        { name: 'origin', type: 'string' },
      ],
    );
    expect(() => driftReferencesFromProfile(profile, ['distance', 'when', 'origin', 'hour'])).toThrow(
      'the drift reference does not match the monitored columns: no reference for "hour"; "when" is a date column in the reference (no drift reference for dates); "origin" has no value in the reference data',
    );
    expect(() => driftReferencesFromProfile(null, ['distance'])).toThrow(ReferenceSchemaError);
  });

  it('invalid configuration is rejected with the path', () => {
    expect(() => driftConfigSchema.parse({ thresholds: { ks: 1.5 } })).toThrow(/p-value threshold must be below 1/);
    expect(() => driftConfigSchema.parse({ columns: { x: { method: 'anderson' } } })).toThrow();
    expect(() => driftConfigSchema.parse({ datasetDriftShare: 0 })).toThrow();
    expect(() => driftConfigSchema.parse({ minrows: 5 })).toThrow(/minrows/);
  });

  it('the PSI report of the foundation names every feature without a reference', () => {
    expect(() =>
      computeDriftReport({
        references: { distance: numericReference([1, 2, 3]) },
        features: ['distance', 'hour', 'origin'],
        inputs: [],
        minRows: 1,
        psiThreshold: 0.2,
      }),
    ).toThrow('no reference for "hour", "origin"');
  });
});

describe('missing values and predictions', () => {
  it('a rise of the missing share drifts when configured', () => {
    const reference = { x: numericDriftReference(normal(3000, 80)) };
    const x: (number | null)[] = normal(1000, 81);
    for (let i = 0; i < 300; i++) x[i] = null;
    const plain = evaluateDrift({ reference, current: columns({ x }), features: ['x'] });
    expect(plain.columns[0]).toMatchObject({ drifted: false, current: { missingShare: 0.3 } });
    const strict = evaluateDrift({ reference, current: columns({ x }), features: ['x'], config: { maxMissingShareIncrease: 0.1 } });
    expect(strict.columns[0]).toMatchObject({ drifted: true, status: 'drift', missingDrift: true });
  });

  it('prediction drift is reported apart from the features', () => {
    const reference = {
      x: numericDriftReference(normal(3000, 82)),
      score: numericDriftReference(numbers({ dist: 'product', n: 3000, seed: 83 })),
    };
    const result = evaluateDrift({
      reference,
      current: columns({ x: normal(1000, 84), score: numbers({ dist: 'product', n: 1000, seed: 85, scale: 1.6 }) }),
      features: ['x'],
      prediction: 'score',
    });
    expect(result.dataset.drifted).toBe(false);
    expect(result.prediction).toMatchObject({ column: 'score', role: 'prediction', drifted: true, method: 'wasserstein' });
    expect(result.status).toBe('drift');
    const alerts = driftAlerts(result, { model: 'm', version: 3, windowEnd: new Date('2001-03-01T12:00:00Z') });
    expect(alerts.map((a) => a.kind)).toEqual(['prediction_drift']);
  });
});

describe('references', () => {
  it('keep every value of a small column (exact) and a deterministic reservoir sample of a large one', () => {
    const small = numericDriftReference(normal(1500, 90));
    expect(small.sample!.values.length).toBe(1500);
    expect(small.sample!.of).toBe(1500);
    const values = normal(50_000, 91);
    const a = numericDriftReference(values, { sampleSize: 2000 });
    const b = numericDriftReference(values, { sampleSize: 2000 });
    expect(a.sample!.values).toEqual(b.sample!.values);
    expect(a.sample!.values.length).toBe(2000);
    expect(a.sample!.of).toBe(50_000);
    expect([...a.sample!.values]).toEqual([...a.sample!.values].sort((x, y) => x - y));
    // Exact summary statistics whatever the sample.
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    expect(a.mean).toBeCloseTo(mean, 12);
    expect(a.rows).toBe(50_000);
    // The sampled reference is flagged and still close to the exact result.
    const current = columns({ x: normal(2000, 92, 0.05) });
    const exact = evaluateDrift({ reference: { x: numericDriftReference(values, { sampleSize: Infinity }) }, current, features: ['x'] })
      .columns[0];
    const sampled = evaluateDrift({ reference: { x: a }, current, features: ['x'] }).columns[0];
    expect(exact.exact).toBe(true);
    expect(sampled.exact).toBe(false);
    expect(sampled.approximation).toMatch(/uniform sample of 2000 of the 50000/);
    expect(Math.abs(sampled.score! - exact.score!)).toBeLessThan(0.03);
  });

  it('count the values of a low-cardinality number exactly, whatever the sample', () => {
    const reference = numericDriftReference(integers(20_000, 93, [0, 1, 2, 3, 4, 5, 6]), { sampleSize: 100 });
    expect(reference.values!.map((v) => v.value)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const column = evaluateDrift({
      reference: { weekday: reference },
      current: columns({ weekday: integers(500, 94, [0, 1, 2, 3, 4, 5, 6]) }),
      features: ['weekday'],
    }).columns[0];
    expect(column).toMatchObject({ method: 'wasserstein', exact: true });
  });

  it('are built per column from rows; a column without any value is named', () => {
    const builder = new DriftReferenceBuilder([
      { name: 'x', kind: 'numeric' },
      { name: 'y', kind: 'categorical' },
      { name: 'z', kind: 'numeric' },
    ]);
    for (let i = 0; i < 10; i++) builder.add({ x: i, y: i % 2 ? 'a' : 'b', z: null });
    expect(() => builder.finish()).toThrow('"z" has no value in the reference data');
  });
});

describe('references from a dataset profile (approximations)', () => {
  // A profile as src/data/profile.ts stores it: no sample, quantiles + decile bins + histogram.
  const rows = normal(20_000, 100, 800, 300).map((distance, i) => ({
    distance,
    skewed: numbers({ dist: 'product', n: 1, seed: 101 + i })[0] * 1000,
    origin: airports[i % airports.length],
  }));
  const columnDefs = [
    { name: 'distance', type: 'number' as const },
    { name: 'skewed', type: 'number' as const },
    { name: 'origin', type: 'string' as const },
  ];
  const profile = profileDataset(rows, columnDefs);
  const fromProfile = driftReferencesFromProfile(JSON.parse(JSON.stringify(profile)), ['distance', 'skewed', 'origin']);
  const exact: DriftReferenceSet = {
    distance: numericDriftReference(
      rows.map((r) => r.distance),
      { sampleSize: Infinity },
    ),
    skewed: numericDriftReference(
      rows.map((r) => r.skewed),
      { sampleSize: Infinity },
    ),
    origin: categoricalDriftReference(rows.map((r) => r.origin)),
  };

  for (const shift of [0, 0.1, 0.5]) {
    it(`Wasserstein within its bound and KS a lower bound (shift ${shift} std)`, () => {
      const current = columns({
        distance: normal(3000, 102, 800 + shift * 300, 300),
        skewed: numbers({ dist: 'product', n: 3000, seed: 103, scale: 1000 * (1 + shift) }),
        origin: categorical(3000, 104, [1, 1, 1, 1, 1, 1 + shift * 4]),
      });
      const config = { columns: { distance: { method: 'wasserstein' as const }, skewed: { method: 'wasserstein' as const } } };
      const approximate = evaluateDrift({ reference: fromProfile, current, features: ['distance', 'skewed', 'origin'], config });
      const truth = evaluateDrift({ reference: exact, current, features: ['distance', 'skewed', 'origin'], config });
      for (const i of [0, 1]) {
        const a = approximate.columns[i];
        const t = truth.columns[i];
        expect(a.exact).toBe(false);
        expect(t.exact).toBe(true);
        expect(Math.abs(a.score! - t.score!)).toBeLessThanOrEqual(a.errorBound! + 1e-12);
        expect(a.statistics.ks!.statistic).toBeLessThanOrEqual(t.statistics.ks!.statistic + 1e-12);
        // PSI is defined on the profile's own bins: identical.
        expect(a.statistics.psi).toBeCloseTo(t.statistics.psi!, 12);
      }
      // Six categories: the profile lists them all, so chi², JS and PSI are exact.
      expect(approximate.columns[2].exact).toBe(true);
      expect(approximate.columns[2].score).toBeCloseTo(truth.columns[2].score!, 12);
      expect(approximate.columns[2].statistics.chisquare!.pValue).toBeCloseTo(truth.columns[2].statistics.chisquare!.pValue, 10);
    });
  }

  it('an approximate distance drifts only when it exceeds the threshold by more than its error bound', () => {
    const current = columns({ distance: normal(3000, 105, 800, 300) });
    const column = evaluateDrift({
      reference: fromProfile,
      current,
      features: ['distance'],
      config: { thresholds: { wasserstein: 0.0001 } },
    }).columns[0];
    expect(column.score!).toBeGreaterThan(0.0001);
    expect(column.drifted).toBe(column.score! - column.errorBound! >= 0.0001);
  });

  it('interpolates a quantile function exactly when the reference is linear between the points', () => {
    // Uniform on [0, 1]: Q(u) = u; a window equal to 0.5 everywhere is 0.25 away.
    const { distance, bound } = interpolatedWasserstein(
      [
        { q: 0, value: 0 },
        { q: 1, value: 1 },
      ],
      Float64Array.from([0.5, 0.5]),
    );
    expect(distance).toBeCloseTo(0.25, 15);
    expect(bound).toBe(0.5);
  });
});
