import { z } from 'zod';
import { readCategory, readNumber } from '../ml/row';
import { sortFloat64 } from './sort';

/**
 * Reference distributions of features (computed on the training data, stored as JSON with the
 * dataset profile) and the Population Stability Index of newer values against them:
 * PSI = Σ (actual - expected) · ln(actual / expected) over the bins. Missing values have a bin
 * of their own, so a sudden rise in nulls counts as drift too.
 */

const proportion = z.number().min(0).max(1);

export const numericReferenceSchema = z
  .object({
    kind: z.literal('numeric'),
    /** Interior cut points, increasing; bin i holds edges[i-1] < x <= edges[i]. */
    edges: z.array(z.number()),
    /** Share of all values in each of the edges.length + 1 bins. */
    proportions: z.array(proportion),
    /** Share of missing values; with `proportions` it sums to 1. */
    missing: proportion,
  })
  .refine((r) => r.proportions.length === r.edges.length + 1, 'needs one proportion more than edges');

export const categoricalReferenceSchema = z
  .object({
    kind: z.literal('categorical'),
    categories: z.array(z.string()),
    /** Share of all values per category, then one last share for every other category. */
    proportions: z.array(proportion),
    missing: proportion,
  })
  .refine((r) => r.proportions.length === r.categories.length + 1, "needs one proportion per category plus 'other'");

export const featureReferenceSchema = z.union([numericReferenceSchema, categoricalReferenceSchema]);
export type FeatureReference = z.infer<typeof featureReferenceSchema>;
export type NumericReference = z.infer<typeof numericReferenceSchema>;
export type CategoricalReference = z.infer<typeof categoricalReferenceSchema>;

export interface PsiResult {
  /** NaN when there are no current values to compare. */
  psi: number;
  /** Unsmoothed shares per bin, missing last. */
  bins: { label: string; expected: number; actual: number }[];
  /** Current values compared, missing ones included. */
  n: number;
}

/** An empty bin would make ln(actual / expected) infinite; shares are floored at this instead. */
const emptyBinShare = 1e-4;

/** Missing: null, undefined, NaN and ±Infinity (see readNumber). */
export function numericReference(values: ArrayLike<number | null | undefined>, bins = 10): NumericReference {
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`bins must be a positive integer, got ${bins}`);
  if (values.length === 0) throw new Error('a reference distribution needs at least one value');
  return numericReferenceFromSorted(sortFloat64(presentNumbers(values)), values.length, bins);
}

/**
 * The same reference as numericReference, from the present values already sorted ascending and
 * the number of all values (missing ones included): O(bins · log n), no copy.
 */
export function numericReferenceFromSorted(present: ArrayLike<number>, total: number, bins = 10): NumericReference {
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`bins must be a positive integer, got ${bins}`);
  if (total === 0 || total < present.length)
    throw new Error(`a reference distribution needs at least one value (got ${present.length} of ${total})`);
  // The value below which k/bins of the data lies, for k = 1 .. bins-1; heavy ties merge bins.
  const edges: number[] = [];
  for (let k = 1; k < bins && present.length > 0; k++) {
    const edge = present[Math.ceil((k * present.length) / bins) - 1];
    if (edge !== edges[edges.length - 1]) edges.push(edge);
  }
  const proportions: number[] = [];
  let below = 0;
  for (const edge of edges) {
    const upTo = countAtMost(present, edge);
    proportions.push((upTo - below) / total);
    below = upTo;
  }
  proportions.push((present.length - below) / total);
  return { kind: 'numeric', edges, proportions, missing: (total - present.length) / total };
}

/**
 * PSI from bin counts of the current values, in the reference's bin order (numeric: the
 * edges.length + 1 bins; categorical: the categories then "other"), `missing` counted apart.
 * What populationStabilityIndex computes after binning; callers that bin faster use it.
 */
export function psiFromCounts(reference: FeatureReference, counts: ArrayLike<number>, missing: number): PsiResult {
  const labels = binLabels(reference);
  if (counts.length !== labels.length - 1) throw new Error(`psiFromCounts: ${counts.length} counts for ${labels.length - 1} bins`);
  const all = [...Array.from(counts), missing];
  return psiOfCounts(reference, labels, all);
}

function countAtMost(sorted: ArrayLike<number>, x: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle] <= x) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Missing: null, undefined and ''; other values are compared as strings (see readCategory). */
export function categoricalReference(values: ArrayLike<string | number | null | undefined>, maxCategories = 50): CategoricalReference {
  if (!Number.isInteger(maxCategories) || maxCategories < 1) {
    throw new Error(`maxCategories must be a positive integer, got ${maxCategories}`);
  }
  if (values.length === 0) throw new Error('a reference distribution needs at least one value');
  const counts = new Map<string, number>();
  let missing = 0;
  for (let i = 0; i < values.length; i++) {
    const category = readCategory(values[i]);
    if (category === null) missing++;
    else counts.set(category, (counts.get(category) ?? 0) + 1);
  }
  const ranked = [...counts].sort(([a, countA], [b, countB]) => countB - countA || (a < b ? -1 : a > b ? 1 : 0));
  const kept = ranked.slice(0, maxCategories);
  const other = ranked.slice(maxCategories).reduce((sum, [, count]) => sum + count, 0);
  return {
    kind: 'categorical',
    categories: kept.map(([category]) => category),
    proportions: [...kept.map(([, count]) => count), other].map((count) => count / values.length),
    missing: missing / values.length,
  };
}

/**
 * PSI of `current` against the reference, with values read as in the reference functions. With
 * no current values the result has n = 0 and psi NaN: callers decide what "too few" means.
 */
export function populationStabilityIndex(reference: FeatureReference, current: ArrayLike<number | string | null | undefined>): PsiResult {
  const labels = binLabels(reference);
  const counts = new Array<number>(labels.length).fill(0);
  const missingBin = labels.length - 1;
  const binOf =
    reference.kind === 'numeric' ? numericBinner(reference.edges, missingBin) : categoricalBinner(reference.categories, missingBin);
  for (let i = 0; i < current.length; i++) counts[binOf(current[i])]++;
  return psiOfCounts(reference, labels, counts);
}

function psiOfCounts(reference: FeatureReference, labels: string[], counts: number[]): PsiResult {
  const expected = [...reference.proportions, reference.missing];
  let n = 0;
  for (const count of counts) n += count;
  const actual = counts.map((count) => (n > 0 ? count / n : 0));
  let psi = n > 0 ? 0 : Number.NaN;
  for (let bin = 0; bin < labels.length && n > 0; bin++) {
    const a = Math.max(actual[bin], emptyBinShare);
    const e = Math.max(expected[bin], emptyBinShare);
    psi += (a - e) * Math.log(a / e);
  }
  return { psi, bins: labels.map((label, bin) => ({ label, expected: expected[bin], actual: actual[bin] })), n };
}

/** The usual reading of PSI: below 0.1 stable, below 0.25 a moderate shift, else a major one. */
export function psiSeverity(psi: number): 'none' | 'moderate' | 'major' {
  if (Number.isNaN(psi)) throw new Error('PSI is NaN (no current values): there is no severity to report');
  if (psi < 0.1) return 'none';
  return psi < 0.25 ? 'moderate' : 'major';
}

function presentNumbers(values: ArrayLike<number | null | undefined>): Float64Array {
  const present = new Float64Array(values.length);
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const value = readNumber(values[i]);
    if (!Number.isNaN(value)) present[count++] = value;
  }
  return present.subarray(0, count);
}

/** The first bin whose upper edge is >= value (binary search), or the open top bin. */
function numericBin(edges: readonly number[], value: number): number {
  let low = 0;
  let high = edges.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (edges[middle] < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

function numericBinner(edges: readonly number[], missingBin: number) {
  return (value: unknown) => {
    const number = readNumber(value);
    return Number.isNaN(number) ? missingBin : numericBin(edges, number);
  };
}

function categoricalBinner(categories: readonly string[], missingBin: number) {
  const binOfCategory = new Map(categories.map((category, bin) => [category, bin]));
  const otherBin = categories.length;
  return (value: unknown) => {
    const category = readCategory(value);
    return category === null ? missingBin : (binOfCategory.get(category) ?? otherBin);
  };
}

/** The PSI bins' labels in order, `(missing)` last (numbers: intervals; categories: the names, then `(other)`). */
export function binLabels(reference: FeatureReference): string[] {
  if (reference.kind === 'categorical') return [...reference.categories, '(other)', '(missing)'];
  const { edges } = reference;
  if (edges.length === 0) return ['(-inf, +inf)', '(missing)'];
  return [
    `(-inf, ${edges[0]}]`,
    ...edges.slice(1).map((edge, i) => `(${edges[i]}, ${edge}]`),
    `(${edges[edges.length - 1]}, +inf)`,
    '(missing)',
  ];
}
