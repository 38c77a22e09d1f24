import { describe, expect, it } from 'vitest';
import { featureSpecSchema } from '../../src/shared/feature-spec';
import { encodeRows, fitFeaturePipeline } from '../../src/ml/features';

const rows = [
  { distance: 100, origin: 'ATL', hour: 14 },
  { distance: 300, origin: 'LAX', hour: '14' },
  { distance: null, origin: 'ATL', hour: 9 },
  { distance: Number.NaN, origin: 'ORD', hour: 9 },
  { distance: 200, origin: 'LAX', hour: null },
  { distance: Number.POSITIVE_INFINITY, origin: '', hour: 14 },
];
const specs = [
  { name: 'distance', kind: 'numeric' },
  { name: 'origin', kind: 'categorical' },
  { name: 'hour', kind: 'categorical' },
] as const;

describe('fitFeaturePipeline', () => {
  it('imputes and standardises numeric features from the present, finite training values', () => {
    const [distance] = fitFeaturePipeline(rows, [...specs]).features;
    // Present: 100, 300, 200 (null, NaN and Infinity are missing).
    expect(distance).toEqual({ name: 'distance', kind: 'numeric', mean: 200, std: Math.sqrt(20_000 / 3) });
  });

  it('builds vocabularies most frequent first, ties in string order, from String(value)', () => {
    const pipeline = fitFeaturePipeline(rows, [...specs]);
    expect(pipeline.features[1]).toEqual({ name: 'origin', kind: 'categorical', categories: ['ATL', 'LAX', 'ORD'] });
    // hour 14 and "14" are the same category; 9 ties nothing, null is missing.
    expect(pipeline.features[2]).toEqual({ name: 'hour', kind: 'categorical', categories: ['14', '9'] });
    expect(pipeline.width).toBe(1 + 3 + 2);
  });

  it('does not depend on the order of the training rows', () => {
    expect(fitFeaturePipeline([...rows].reverse(), [...specs])).toEqual(fitFeaturePipeline(rows, [...specs]));
  });

  it('caps the vocabulary with maxCategories and minCategoryCount', () => {
    const options = { maxCategories: 1 };
    expect(fitFeaturePipeline(rows, [specs[1]], options).features[0]).toMatchObject({ categories: ['ATL'] });
    const frequent = fitFeaturePipeline(rows, [specs[1]], { minCategoryCount: 2 });
    expect(frequent.features[0]).toMatchObject({ categories: ['ATL', 'LAX'] });
  });

  it('is plain JSON', () => {
    const pipeline = fitFeaturePipeline(rows, [...specs]);
    expect(JSON.parse(JSON.stringify(pipeline))).toEqual(pipeline);
  });

  it('names the feature when it cannot be fitted', () => {
    expect(() => fitFeaturePipeline(rows, [])).toThrow(/at least one feature/);
    const noDistance = rows.map((row) => ({ ...row, distance: null }));
    expect(() => fitFeaturePipeline(noDistance, [...specs])).toThrow('numeric feature "distance" has no values');
    const noOrigin = rows.map((row) => ({ ...row, origin: undefined }));
    expect(() => fitFeaturePipeline(noOrigin, [...specs])).toThrow(/categorical feature "origin"/);
    expect(() => fitFeaturePipeline(rows, [specs[0], specs[0]])).toThrow('feature "distance" is listed twice');
  });

  it('accepts specs validated by the shared schema', () => {
    expect(featureSpecSchema.parse({ name: 'hour', kind: 'categorical' })).toEqual({ name: 'hour', kind: 'categorical' });
    expect(() => featureSpecSchema.parse({ name: 'hour', kind: 'ordinal' })).toThrow();
  });
});

describe('encodeRows', () => {
  const pipeline = fitFeaturePipeline(rows, [...specs]);
  const std = Math.sqrt(20_000 / 3);

  it('standardises numeric values and encodes missing ones as the mean (0)', () => {
    const matrix = encodeRows(pipeline, [
      { distance: 300 },
      { distance: null },
      { distance: Number.NEGATIVE_INFINITY },
      { distance: '250' },
    ]);
    expect(matrix.dense).toHaveLength(1);
    expect(matrix.dense[0].column).toBe(0);
    expect(Array.from(matrix.dense[0].values)).toEqual([100 / std, 0, 0, 50 / std]);
  });

  it('points each category at its one-hot column, unseen or missing ones at none (-1)', () => {
    const matrix = encodeRows(pipeline, [
      { origin: 'LAX', hour: 9 },
      { origin: 'SFO', hour: '9' },
      { origin: null, hour: 23 },
      { origin: '', hour: undefined },
    ]);
    expect(matrix.rowCount).toBe(4);
    expect(matrix.width).toBe(6);
    // Columns: 0 distance, 1-3 origin (ATL, LAX, ORD), 4-5 hour (14, 9).
    expect(Array.from(matrix.oneHot[0])).toEqual([2, -1, -1, -1]);
    expect(Array.from(matrix.oneHot[1])).toEqual([5, 5, -1, -1]);
  });
});
