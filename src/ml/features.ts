import type { EncodedMatrix } from './encoded-matrix';
import { toFeatureColumns, type CategoricalColumn, type FeatureColumn, type NumericColumn } from './feature-columns';
import type { FeatureSpec } from './feature-spec';
import type { Row } from './row';

/**
 * The feature pipeline fitted on the training rows: plain JSON, stored inside the model and
 * exported into the same ONNX graph, so serving applies exactly these parameters.
 */
export interface FittedFeaturePipeline {
  /** In spec order; encoded columns follow the same order. */
  features: FittedFeature[];
  /** Total number of encoded columns. */
  width: number;
}

export type FittedFeature = FittedNumericFeature | FittedCategoricalFeature;

/** Missing values become `mean`, then the value is standardised to (x - mean) / std. */
export interface FittedNumericFeature {
  name: string;
  kind: 'numeric';
  mean: number;
  /** Population standard deviation of the training values; 1 when they are all equal. */
  std: number;
}

/**
 * One column per category. A category outside the vocabulary, or a missing one, encodes to all
 * zeros: the "unknown" bucket, whose effect is carried by the intercept.
 */
export interface FittedCategoricalFeature {
  name: string;
  kind: 'categorical';
  /** Most frequent first, ties in string order. */
  categories: string[];
}

export interface FeaturePipelineOptions {
  /** Keep at most this many categories per feature (default 500). */
  maxCategories?: number;
  /** Drop categories seen fewer times than this in training (default 1: keep all). */
  minCategoryCount?: number;
}

export function fitFeaturePipeline(
  rows: readonly Row[],
  specs: readonly FeatureSpec[],
  options: FeaturePipelineOptions = {},
): FittedFeaturePipeline {
  return fitFeaturePipelineOnColumns(toFeatureColumns(rows, specs), options);
}

export function fitFeaturePipelineOnColumns(
  columns: readonly FeatureColumn[],
  { maxCategories = 500, minCategoryCount = 1 }: FeaturePipelineOptions = {},
): FittedFeaturePipeline {
  checkFeatureNames(columns);
  if (!Number.isInteger(maxCategories) || maxCategories < 1) {
    throw new Error(`maxCategories must be a positive integer, got ${maxCategories}`);
  }
  if (!Number.isInteger(minCategoryCount) || minCategoryCount < 1) {
    throw new Error(`minCategoryCount must be a positive integer, got ${minCategoryCount}`);
  }
  const features = columns.map((column) =>
    column.kind === 'numeric' ? fitNumeric(column) : fitCategorical(column, maxCategories, minCategoryCount),
  );
  const width = features.reduce((sum, feature) => sum + encodedWidth(feature), 0);
  return { features, width };
}

export function encodeRows(pipeline: FittedFeaturePipeline, rows: readonly Row[]): EncodedMatrix {
  return encodeColumns(pipeline, toFeatureColumns(rows, pipeline.features));
}

/** `columns` must hold the pipeline's features, in the pipeline's order. */
export function encodeColumns(pipeline: FittedFeaturePipeline, columns: readonly FeatureColumn[]): EncodedMatrix {
  const rowCount = columns.length ? columnLength(columns[0]) : 0;
  const matrix: EncodedMatrix = { rowCount, width: pipeline.width, dense: [], oneHot: [] };
  let offset = 0;
  pipeline.features.forEach((feature, index) => {
    const column = columns[index];
    if (column?.name !== feature.name || column.kind !== feature.kind) {
      throw new Error(`column ${index} must be the ${feature.kind} feature "${feature.name}"`);
    }
    if (feature.kind === 'numeric') {
      matrix.dense.push({ column: offset, values: standardise(feature, column as NumericColumn) });
    } else {
      matrix.oneHot.push(oneHotColumns(feature, column as CategoricalColumn, offset));
    }
    offset += encodedWidth(feature);
  });
  return matrix;
}

function checkFeatureNames(specs: readonly { name: string }[]): void {
  if (specs.length === 0) throw new Error('a feature pipeline needs at least one feature');
  const seen = new Set<string>();
  for (const { name } of specs) {
    if (seen.has(name)) throw new Error(`feature "${name}" is listed twice`);
    seen.add(name);
  }
}

function encodedWidth(feature: FittedFeature): number {
  return feature.kind === 'numeric' ? 1 : feature.categories.length;
}

function columnLength(column: FeatureColumn): number {
  return column.kind === 'numeric' ? column.values.length : column.codes.length;
}

function fitNumeric({ name, values }: NumericColumn): FittedNumericFeature {
  let count = 0;
  let sum = 0;
  for (const value of values) {
    if (Number.isNaN(value)) continue;
    count++;
    sum += value;
  }
  if (count === 0) throw new Error(`numeric feature "${name}" has no values in the training rows`);
  const mean = sum / count;
  // Second pass over deviations: sum(x²) - n·mean² loses precision for large, tightly spread values.
  let squares = 0;
  for (const value of values) {
    if (!Number.isNaN(value)) squares += (value - mean) ** 2;
  }
  const std = Math.sqrt(squares / count);
  return { name, kind: 'numeric', mean, std: std > 0 ? std : 1 };
}

function fitCategorical(
  { name, dictionary, codes }: CategoricalColumn,
  maxCategories: number,
  minCategoryCount: number,
): FittedCategoricalFeature {
  const counts = new Float64Array(dictionary.length);
  for (const code of codes) if (code >= 0) counts[code]++;
  const kept = dictionary
    .map((category, code) => ({ category, count: counts[code] }))
    .filter(({ count }) => count >= minCategoryCount)
    // Dictionary order depends on row order; this sort makes the vocabulary depend on counts only.
    .sort((a, b) => b.count - a.count || compareStrings(a.category, b.category))
    .slice(0, maxCategories);
  if (kept.length === 0) {
    throw new Error(`categorical feature "${name}" has no category seen ${minCategoryCount}+ times in the training rows`);
  }
  return { name, kind: 'categorical', categories: kept.map(({ category }) => category) };
}

/** Code-unit order, independent of the locale (localeCompare is not). */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function standardise({ mean, std }: FittedNumericFeature, { values }: NumericColumn): Float64Array {
  const scaled = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    scaled[i] = Number.isNaN(value) ? 0 : (value - mean) / std;
  }
  return scaled;
}

function oneHotColumns({ categories }: FittedCategoricalFeature, { dictionary, codes }: CategoricalColumn, offset: number): Int32Array {
  const vocabularyIndex = new Map(categories.map((category, index) => [category, index]));
  // Resolve each distinct string once, then map the per-row codes through that table.
  const columnOfCode = Int32Array.from(dictionary, (category) => {
    const index = vocabularyIndex.get(category);
    return index === undefined ? -1 : offset + index;
  });
  const columns = new Int32Array(codes.length);
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    columns[i] = code >= 0 ? columnOfCode[code] : -1;
  }
  return columns;
}
