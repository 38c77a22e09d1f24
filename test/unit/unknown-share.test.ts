import { describe, expect, it } from 'vitest';
import type { CategoryGuard } from '../../src/ml/onnx/category-guard';
import { unknownCategoryShares, unknownShareBreaches } from '../../src/monitoring/unknown-share';

const guard: CategoryGuard = {
  inputs: [
    {
      name: 'sex',
      known: new Set(['male', 'female']),
      policy: 'bucket',
      tokens: { m: 'male', male: 'male', f: 'female', female: 'female' },
    },
    { name: 'city', known: new Set(['Paris', 'Lyon']), policy: 'bucket', tokens: {} },
  ],
};

describe('unknown-category share', () => {
  it('counts values scored as unknown after canonicalisation; missing values are not counted', () => {
    const rows = [
      { sex: 'MALE', city: ' Paris ' },
      { sex: 'f', city: 'Lyon' },
      { sex: 'martian', city: 'Tokyo' },
      { sex: null, city: '' },
      { sex: '  ', city: 'paris' },
    ];
    expect(unknownCategoryShares(guard, rows)).toEqual({
      sex: { unknown: 1, present: 3, share: 1 / 3 },
      // Plain text is only trimmed: "paris" is not "Paris".
      city: { unknown: 2, present: 4, share: 0.5 },
    });
  });

  it('breaches above the threshold once the window has enough present values', () => {
    const shares = {
      sex: { unknown: 10, present: 100, share: 0.1 },
      city: { unknown: 1, present: 100, share: 0.01 },
      zip: { unknown: 5, present: 5, share: 1 },
    };
    expect(unknownShareBreaches(shares, 0.05, 50)).toEqual(['sex']);
    expect(unknownShareBreaches(shares, 0.05, 5)).toEqual(['sex', 'zip']);
    expect(unknownShareBreaches(shares, 0.2, 5)).toEqual(['zip']);
  });
});
