import { describe, expect, it } from 'vitest';
import { toFeatureColumns } from '../../src/ml/feature-columns';
import { featureSpecSchema, type FeatureSpec } from '../../src/shared/feature-spec';
import { encodeRows, fitFeaturePipeline, type FittedFeature } from '../../src/ml/features';
import { encodeTreeRows, fitTreePipeline, treeColumnNames } from '../../src/ml/gbdt/tree-pipeline';
import type { Row } from '../../src/ml/row';
import { trainingPipelineInputSchema } from '../../src/shared/pipeline-input';

const fitOne = (rows: Row[], spec: FeatureSpec, options = {}): FittedFeature => fitFeaturePipeline(rows, [spec], options).features[0];
const column = (rows: Row[], spec: FeatureSpec) => Array.from(encodeRows(fitFeaturePipeline(rows, [spec]), rows).dense[0].values);
const numbers = (values: (number | string | null)[]) => values.map((x) => ({ x }));

describe('numeric options', () => {
  const rows = numbers([5, 1, null, 4, Number.POSITIVE_INFINITY, 2, 100]);

  it('imputes with the exact median (odd and even counts) or a constant, the mean by default', () => {
    expect(fitOne(rows, { name: 'x', kind: 'numeric', impute: 'median' })).toMatchObject({ fill: 4 }); // 1 2 4 5 100
    expect(fitOne(numbers([4, 1, 3, 10]), { name: 'x', kind: 'numeric', impute: 'median' })).toMatchObject({ mean: 4.5, fill: 3.5 });
    expect(fitOne(rows, { name: 'x', kind: 'numeric', impute: { constant: -7 } })).toMatchObject({ fill: -7 });
    // The default keeps the fitted shape of before options existed: no fill, no scale.
    expect(fitOne(rows, { name: 'x', kind: 'numeric' })).toEqual({ name: 'x', kind: 'numeric', mean: 112 / 5, std: expect.any(Number) });
    expect(column(rows, { name: 'x', kind: 'numeric', impute: { constant: -7 }, scale: 'none' })).toEqual([5, 1, -7, 4, -7, 2, 100]);
  });

  it('clips raw values before imputing: the mean and median are of clipped values, a constant fill is not clipped', () => {
    const clip = { min: 2, max: 10 };
    expect(fitOne(rows, { name: 'x', kind: 'numeric', clip })).toMatchObject({ mean: (5 + 2 + 4 + 2 + 10) / 5, clip });
    expect(column(rows, { name: 'x', kind: 'numeric', clip, impute: 'median', scale: 'none' })).toEqual([5, 2, 4, 4, 4, 2, 10]);
    expect(column(rows, { name: 'x', kind: 'numeric', clip, impute: { constant: 50 }, scale: 'none' })).toEqual([5, 2, 50, 4, 50, 2, 10]);
    expect(column(rows, { name: 'x', kind: 'numeric', clip: { max: 3 }, scale: 'none' })).toEqual([3, 1, 2.4, 3, 2.4, 2, 3]);
  });

  it('scales min-max to [0, 1] on the training range; a constant feature (max = min) encodes as x - min', () => {
    expect(fitOne(rows, { name: 'x', kind: 'numeric', scale: 'minmax' })).toMatchObject({ scale: 'minmax', min: 1, max: 100 });
    expect(column(numbers([1, 3, 5]), { name: 'x', kind: 'numeric', scale: 'minmax' })).toEqual([0, 0.5, 1]);
    const constant = fitFeaturePipeline(numbers([7, 7, null]), [{ name: 'x', kind: 'numeric', scale: 'minmax' }]);
    expect(Array.from(encodeRows(constant, numbers([7, null, 9])).dense[0].values)).toEqual([0, 0, 2]);
  });

  it('treats NaN, ±Infinity and values beyond float32 as missing', () => {
    expect(
      column(numbers([1, 3, Number.NaN, Number.NEGATIVE_INFINITY, 1e39, '1e300']), { name: 'x', kind: 'numeric', scale: 'none' }),
    ).toEqual([1, 3, 2, 2, 2, 2]);
  });
});

describe('categorical options', () => {
  const rows = ['a', 'b', 'a', 'c', 'a', 'b', null, 'd'].map((c) => ({ c }));

  it('encodes ordinal as the frequency rank, unknown and missing as the vocabulary size', () => {
    const pipeline = fitFeaturePipeline(rows, [{ name: 'c', kind: 'categorical', encoding: 'ordinal', maxCategories: 2 }]);
    expect(pipeline.features[0]).toEqual({ name: 'c', kind: 'categorical', categories: ['a', 'b'], encoding: 'ordinal' });
    expect(pipeline.width).toBe(1);
    expect(
      Array.from(
        encodeRows(
          pipeline,
          ['a', 'b', 'c', null, 'zzz'].map((c) => ({ c })),
        ).dense[0].values,
      ),
    ).toEqual([0, 1, 2, 2, 2]);
  });

  it('encodes frequency as the share of training rows, unknown and missing as 0', () => {
    const pipeline = fitFeaturePipeline(rows, [{ name: 'c', kind: 'categorical', encoding: 'frequency', minCount: 2 }]);
    expect(pipeline.features[0]).toEqual({
      name: 'c',
      kind: 'categorical',
      categories: ['a', 'b'],
      encoding: 'frequency',
      shares: [3 / 8, 2 / 8],
    });
    expect(
      Array.from(
        encodeRows(
          pipeline,
          ['a', 'b', 'c', null].map((c) => ({ c })),
        ).dense[0].values,
      ),
    ).toEqual([3 / 8, 2 / 8, 0, 0]);
  });

  it("lets a feature's maxCategories and minCount win over the trainer's", () => {
    const spec: FeatureSpec = { name: 'c', kind: 'categorical', maxCategories: 3 };
    expect(fitOne(rows, spec, { maxCategories: 1 })).toMatchObject({ categories: ['a', 'b', 'c'] });
    expect(fitOne(rows, { ...spec, minCount: 3 }, { minCategoryCount: 1 })).toMatchObject({ categories: ['a'] });
    expect(fitOne(rows, { name: 'c', kind: 'categorical' }, { maxCategories: 1 })).toMatchObject({ categories: ['a'] });
  });

  it('gives trees the ordinal code (also for one-hot), or the float32 share for frequency; missing is NaN', () => {
    const columns = toFeatureColumns(rows, [{ name: 'c', kind: 'categorical', encoding: 'one-hot' }]);
    expect(fitTreePipeline(columns, 500).features[0]).toEqual({ name: 'c', kind: 'categorical', categories: ['a', 'b', 'c', 'd'] });
    const frequency = fitTreePipeline(
      toFeatureColumns(rows, [{ name: 'c', kind: 'categorical', encoding: 'frequency', maxCategories: 2 }]),
      500,
    );
    const [codes] = encodeTreeRows(
      frequency,
      ['a', 'b', 'c', null].map((c) => ({ c })),
    );
    expect(Array.from(codes)).toEqual([Math.fround(3 / 8), Math.fround(2 / 8), 0, Number.NaN]);
  });
});

describe('boolean features', () => {
  const rows = [true, 'yes', 'TRUE', 1, '0', false, 'No', null, 'maybe', 2].map((b) => ({ b }) as Row);

  it('reads every spelling, counts anything else as missing and imputes the training share of true (linear)', () => {
    const pipeline = fitFeaturePipeline(rows, [{ name: 'b', kind: 'boolean' }]);
    expect(pipeline.features[0]).toEqual({ name: 'b', kind: 'boolean', share: 4 / 7 });
    expect(Array.from(encodeRows(pipeline, rows).dense[0].values)).toEqual([1, 1, 1, 1, 0, 0, 0, 4 / 7, 4 / 7, 4 / 7]);
  });

  it('keeps missing as NaN for trees', () => {
    const pipeline = fitTreePipeline(toFeatureColumns(rows, [{ name: 'b', kind: 'boolean' }]), 500);
    expect(Array.from(encodeTreeRows(pipeline, rows)[0])).toEqual([1, 1, 1, 1, 0, 0, 0, Number.NaN, Number.NaN, Number.NaN]);
  });
});

describe('datetime features', () => {
  const rows: Row[] = [
    { t: '2024-03-01T14:30:00Z' }, // Friday
    { t: '2024-03-02T09:00:00' }, // Saturday, no zone: UTC
    { t: Date.UTC(1969, 11, 31, 23) }, // Wednesday, before 1970
    { t: '2024-03-01T20:30:00-05:00' }, // 2024-03-02T01:30Z, Saturday
    { t: null },
    { t: 'soon' },
  ];

  it('one-hots each default part (hour, weekday 0 = Sunday, month) over its training values for linear models', () => {
    const pipeline = fitFeaturePipeline(rows, [{ name: 't', kind: 'datetime' }]);
    expect(pipeline.features[0]).toEqual({
      name: 't',
      kind: 'datetime',
      parts: [
        { part: 'hour', encoding: 'one-hot', values: [1, 9, 14, 23] },
        { part: 'weekday', encoding: 'one-hot', values: [3, 5, 6] },
        { part: 'month', encoding: 'one-hot', values: [3, 12] },
      ],
    });
    expect(pipeline.width).toBe(9);
    const matrix = encodeRows(pipeline, [
      { t: '2024-03-01T14:00:00Z' },
      { t: '2024-12-07T09:00:00Z' },
      { t: '2030-07-04T05:00:00Z' },
      { t: null },
    ]);
    // Columns: hours 0-3, weekdays 4-6, months 7-8. 14:00 → 2, 09:00 → 1; Friday → 5, Saturday → 6;
    // March → 7, December → 8. A value unseen in training (5 h, Thursday, July) or a missing time: none.
    expect(matrix.oneHot.map((columns) => Array.from(columns))).toEqual([
      [2, 1, -1, -1],
      [5, 6, -1, -1],
      [7, 8, -1, -1],
    ]);
  });

  it('standardises numeric parts, missing → the mean, and gives trees one column per part', () => {
    const spec: FeatureSpec = { name: 't', kind: 'datetime', parts: ['year', 'dayOfMonth'], encoding: 'numeric' };
    const [fitted] = fitFeaturePipeline(rows, [spec]).features;
    expect(fitted).toMatchObject({
      parts: [
        { part: 'year', encoding: 'numeric', mean: (2024 * 3 + 1969) / 4 },
        { part: 'dayOfMonth', mean: (1 + 2 + 31 + 2) / 4 },
      ],
    });
    const tree = fitTreePipeline(toFeatureColumns(rows, [spec]), 500);
    expect(treeColumnNames(tree)).toEqual(['t.year', 't.dayOfMonth']);
    expect(encodeTreeRows(tree, rows).map((values) => Array.from(values))).toEqual([
      [2024, 2024, 1969, 2024, Number.NaN, Number.NaN],
      [1, 2, 31, 2, Number.NaN, Number.NaN],
    ]);
  });
});

describe('fitting', () => {
  it('names the feature whose training values are all missing, whatever its kind', () => {
    const rows: Row[] = [{ v: null }, { v: '' }, { v: 'n/a' }];
    expect(() => fitFeaturePipeline(rows, [{ name: 'v', kind: 'numeric' }])).toThrow(
      'numeric feature "v" has no values in the training rows',
    );
    expect(() => fitFeaturePipeline([{ v: null }, { v: '' }], [{ name: 'v', kind: 'categorical' }])).toThrow(
      /categorical feature "v" has no category .* every value is missing/,
    );
    expect(() => fitFeaturePipeline(rows, [{ name: 'v', kind: 'boolean' }])).toThrow(
      /boolean feature "v" has no values in the training rows/,
    );
    expect(() => fitFeaturePipeline(rows, [{ name: 'v', kind: 'datetime' }])).toThrow(
      'datetime feature "v" has no values in the training rows',
    );
    for (const spec of [
      { name: 'v', kind: 'numeric' },
      { name: 'v', kind: 'boolean' },
      { name: 'v', kind: 'datetime' },
    ] as const) {
      expect(() => fitTreePipeline(toFeatureColumns(rows, [spec]), 500)).toThrow(`${spec.kind} feature "v" has no values`);
    }
  });

  it('does not depend on the order of the training rows', () => {
    const specs: FeatureSpec[] = [
      { name: 'x', kind: 'numeric', impute: 'median', scale: 'minmax', clip: { min: 0 } },
      { name: 'c', kind: 'categorical', encoding: 'frequency' },
      { name: 'b', kind: 'boolean' },
      { name: 't', kind: 'datetime', parts: ['year', 'hour'] },
    ];
    const rows: Row[] = Array.from({ length: 200 }, (_, i) => ({
      x: i % 7 === 0 ? null : ((i * 37) % 101) - 20,
      c: `k${(i * 13) % 9}`,
      b: i % 3 === 0 ? 'yes' : 'no',
      t: Date.UTC(1950 + (i % 90), i % 12, 1 + (i % 28), i % 24),
    }));
    expect(fitFeaturePipeline([...rows].reverse(), specs)).toEqual(fitFeaturePipeline(rows, specs));
  });
});

describe('feature spec schema', () => {
  const issues = (value: unknown) => {
    const result = featureSpecSchema.safeParse(value);
    return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  };

  it('parses an old config to exactly itself (no defaults filled in)', () => {
    for (const spec of [
      { name: 'distance', kind: 'numeric' },
      { name: 'origin', kind: 'categorical' },
    ]) {
      expect(JSON.stringify(featureSpecSchema.parse(spec))).toBe(JSON.stringify(spec));
    }
  });

  it('accepts every option of every kind', () => {
    const specs = [
      { name: 'a', kind: 'numeric', impute: { constant: 0 }, scale: 'minmax', clip: { min: -1, max: 1 } },
      { name: 'b', kind: 'categorical', encoding: 'frequency', maxCategories: 20, minCount: 5 },
      { name: 'c', kind: 'boolean' },
      { name: 'd', kind: 'datetime', parts: ['year', 'dayOfMonth'], encoding: 'numeric' },
    ];
    for (const spec of specs) expect(featureSpecSchema.parse(spec)).toEqual(spec);
  });

  it('rejects bad options naming the field and the value', () => {
    expect(issues({ name: 'x', kind: 'ordinal' })).toEqual([
      'kind: kind must be one of "numeric", "categorical", "boolean", "datetime", got "ordinal"',
    ]);
    expect(issues({ name: 'x', kind: 'numeric', encoding: 'one-hot' })).toEqual([
      ': unknown key (known keys: name, kind, impute, scale, clip)',
    ]);
    expect(issues({ name: 'x', kind: 'boolean', impute: 'mean' })).toEqual([': unknown key (known keys: name, kind)']);
    expect(issues({ name: 'x', kind: 'numeric', clip: { min: 5, max: 1 } })).toEqual(['clip: min must not exceed max, got min 5 > max 1']);
    expect(issues({ name: 'x', kind: 'numeric', clip: {} })).toEqual(['clip: needs "min", "max" or both']);
    expect(issues({ name: 'x', kind: 'numeric', impute: 'mode' })).toEqual([
      'impute: must be "mean", "median" or {"constant": <number>}, got "mode"',
    ]);
    expect(issues({ name: 'x', kind: 'numeric', impute: { constant: 1e39 } })).toEqual([
      "impute.constant: must lie within float32's range (±3.4e38), got 1e+39",
    ]);
    expect(issues({ name: 'x', kind: 'numeric', scale: 'log' })).toEqual(['scale: must be one of "standard", "minmax", "none", got "log"']);
    expect(issues({ name: 'x', kind: 'categorical', encoding: 'target' })).toEqual([
      'encoding: must be one of "one-hot", "ordinal", "frequency", got "target"',
    ]);
    expect(issues({ name: 'x', kind: 'categorical', maxCategories: 0 })).toEqual(['maxCategories: must be at least 1, got 0']);
    expect(issues({ name: 'x', kind: 'datetime', parts: ['hour', 'hour'] })).toEqual(['parts: lists a part twice: ["hour","hour"]']);
    expect(issues({ name: 'x', kind: 'datetime', parts: ['minute'] })).toEqual([
      'parts.0: must be one of "hour", "weekday", "month", "dayOfMonth", "year", got "minute"',
    ]);
    expect(issues({ name: 'x', kind: 'datetime', encoding: 'ordinal' })).toEqual([
      'encoding: must be one of "one-hot", "numeric", got "ordinal"',
    ]);
  });

  it('is the schema of the pipeline input, with the feature index in the path', () => {
    const features = [
      { name: 'a', kind: 'numeric' },
      { name: 'b', kind: 'categorical', encoding: 'hashing' },
    ];
    const result = trainingPipelineInputSchema.safeParse({ features });
    const featureIssues = result.success ? [] : result.error.issues.filter((issue) => issue.path[0] === 'features');
    expect(featureIssues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)).toEqual([
      'features.1.encoding: must be one of "one-hot", "ordinal", "frequency", got "hashing"',
    ]);
  });
});
