import { FeatureContractError } from '../shared/errors';
import { specOf, type BooleanColumn, type CategoricalColumn } from './feature-columns';
import type { NumericFeatureSpec } from '../shared/feature-spec';

/**
 * The statistics feature pipelines are fitted from, shared by the linear (features.ts) and tree
 * (gbdt/tree-pipeline.ts) pipelines. Each is computed on the training column only, in a fixed
 * order, and fails naming the feature when there is nothing to fit.
 */

export type Clip = NonNullable<NumericFeatureSpec['clip']>;

export function checkFeatureNames(specs: readonly { name: string }[]): void {
  if (specs.length === 0) throw new FeatureContractError('a feature pipeline needs at least one feature');
  const seen = new Set<string>();
  for (const { name } of specs) {
    if (seen.has(name)) throw new FeatureContractError(`feature "${name}" is listed twice`);
    seen.add(name);
  }
}

export function checkCategoryOptions(maxCategories: number, minCategoryCount: number): void {
  if (!Number.isInteger(maxCategories) || maxCategories < 1) {
    throw new Error(`maxCategories must be a positive integer, got ${maxCategories}`);
  }
  if (!Number.isInteger(minCategoryCount) || minCategoryCount < 1) {
    throw new Error(`minCategoryCount must be a positive integer, got ${minCategoryCount}`);
  }
}

/** Mean and population standard deviation of the present values (std 1 when they are all equal). */
export function meanAndStd(values: Float64Array, what: string): { mean: number; std: number } {
  let count = 0;
  let sum = 0;
  for (const value of values) {
    if (Number.isNaN(value)) continue;
    count++;
    sum += value;
  }
  if (count === 0) throw new FeatureContractError(`${what} has no values in the training rows`);
  const mean = sum / count;
  // Second pass over deviations: sum(x²) - n·mean² loses precision for large, tightly spread values.
  let squares = 0;
  for (const value of values) {
    if (!Number.isNaN(value)) squares += (value - mean) ** 2;
  }
  const std = Math.sqrt(squares / count);
  return { mean, std: std > 0 ? std : 1 };
}

/** The exact median of the present values (the mean of the two middle ones for an even count). */
function median(values: Float64Array): number {
  const present = values.filter((value) => !Number.isNaN(value)).sort();
  const middle = present.length >> 1;
  return present.length % 2 === 1 ? present[middle] : (present[middle - 1] + present[middle]) / 2;
}

export function minAndMax(values: Float64Array): { min: number; max: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const value of values) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return { min, max };
}

/** The value a missing input takes; call after meanAndStd (which rejects an all-missing column). */
export function fitNumericFill(values: Float64Array, impute: NonNullable<NumericFeatureSpec['impute']>): number {
  if (impute === 'mean') return meanAndStd(values, 'values').mean;
  if (impute === 'median') return median(values);
  return impute.constant;
}

/** Present values clamped into the clip range (NaN stays NaN); the input itself without a clip. */
export function clipValues(values: Float64Array, clip: Clip | undefined): Float64Array {
  if (!clip) return values;
  const min = clip.min ?? Number.NEGATIVE_INFINITY;
  const max = clip.max ?? Number.POSITIVE_INFINITY;
  return values.map((value) => (value < min ? min : value > max ? max : value));
}

/** Training rows per dictionary entry. */
export function countCategories({ dictionary, codes }: CategoricalColumn): Float64Array {
  const counts = new Float64Array(dictionary.length);
  for (const code of codes) if (code >= 0) counts[code]++;
  return counts;
}

/**
 * The categories a feature keeps, most frequent first, ties in string order: at most
 * maxCategories, each seen at least minCount times; the feature's own options win over the
 * trainer's.
 */
export function fitVocabulary(column: CategoricalColumn, counts: Float64Array, maxCategories: number, minCategoryCount: number): string[] {
  const spec = specOf(column);
  const max = (spec.kind === 'categorical' && spec.maxCategories) || maxCategories;
  const minCount = (spec.kind === 'categorical' && spec.minCount) || minCategoryCount;
  if (column.dictionary.length === 0) {
    throw new FeatureContractError(
      `categorical feature "${column.name}" has no category in the training rows: every value is missing (null or '')`,
    );
  }
  const kept = column.dictionary
    .map((category, code) => ({ category, count: counts[code] }))
    .filter(({ count }) => count >= minCount)
    // Dictionary order depends on row order; this sort makes the vocabulary depend on counts only.
    .sort((a, b) => b.count - a.count || compareStrings(a.category, b.category))
    .slice(0, max);
  if (kept.length === 0) {
    throw new FeatureContractError(`categorical feature "${column.name}" has no category seen ${minCount}+ times in the training rows`);
  }
  return kept.map(({ category }) => category);
}

/** The share of true among the present training values. */
export function fitBooleanShare(column: BooleanColumn): number {
  let present = 0;
  let trues = 0;
  for (const value of column.values) {
    if (Number.isNaN(value)) continue;
    present++;
    trues += value;
  }
  if (present === 0)
    throw new FeatureContractError(`boolean feature "${column.name}" has no values in the training rows (true/false, 1/0, yes/no)`);
  return trues / present;
}

/** Code-unit order, independent of the locale (localeCompare is not). */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
