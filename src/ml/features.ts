import { datePartColumn } from './date-parts';
import type { EncodedMatrix } from './encoded-matrix';
import {
  specOf,
  toFeatureColumns,
  type BooleanColumn,
  type CategoricalColumn,
  type DatetimeColumn,
  type FeatureColumn,
  type NumericColumn,
} from './feature-columns';
import {
  countCategories,
  fitBooleanShare,
  fitNumericFill,
  fitVocabulary,
  meanAndStd,
  minAndMax,
  clipValues,
  checkFeatureNames,
  checkCategoryOptions,
  type Clip,
} from './feature-fit';
import { defaultDateParts, type DatePartName, type FeatureSpec } from '../shared/feature-spec';
import type { Row } from './row';

/**
 * The feature pipeline of linear models, fitted on the training rows: plain JSON, stored inside
 * the model and exported into the same ONNX graph (onnx/feature-nodes.ts), so serving applies
 * exactly these parameters. Options left at their defaults add no field, so a pipeline of
 * default features is byte-for-byte what it was before options existed. docs/features.md.
 */
export interface FittedFeaturePipeline {
  /** In spec order; encoded columns follow the same order. */
  features: FittedFeature[];
  /** Total number of encoded columns. */
  width: number;
}

export type FittedFeature = FittedNumericFeature | FittedCategoricalFeature | FittedBooleanFeature | FittedDatetimeFeature;

/**
 * One column. In order: a non-finite raw value is missing; `clip` clamps the others; a missing
 * value becomes `fill` (absent: `mean`); then the value is scaled: standard (x - mean) / std,
 * minmax (x - min) / (max - min), or none.
 */
export interface FittedNumericFeature {
  name: string;
  kind: 'numeric';
  /** Mean and population standard deviation of the present (clipped) training values; std 1 when they are all equal. */
  mean: number;
  std: number;
  clip?: Clip;
  /** The value a missing input takes when it is not the mean (median or a constant). */
  fill?: number;
  /** Absent: standard. */
  scale?: 'minmax' | 'none';
  /** minmax only: the present (clipped) training values' range. max = min encodes as x - min. */
  min?: number;
  max?: number;
}

/**
 * A category outside the vocabulary, or a missing one, is *unknown*:
 * - one-hot (no `encoding`): one column per category; unknown encodes to all zeros, the
 *   intercept's share;
 * - ordinal: one column, the category's frequency rank (0 = most frequent); unknown = categories.length;
 * - frequency: one column, the category's share of the training rows; unknown = 0.
 */
export interface FittedCategoricalFeature {
  name: string;
  kind: 'categorical';
  /** Most frequent first, ties in string order. */
  categories: string[];
  encoding?: 'ordinal' | 'frequency';
  /** frequency only: per category, its count / the number of training rows. */
  shares?: number[];
}

/** One column: 1 (true), 0 (false); a missing value becomes `share`, the training share of true. */
interface FittedBooleanFeature {
  name: string;
  kind: 'boolean';
  share: number;
}

/** One or more columns per part of the timestamp (UTC; see date-parts.ts). */
export interface FittedDatetimeFeature {
  name: string;
  kind: 'datetime';
  parts: FittedDatePart[];
}

/**
 * one-hot: a column per value the part took in training (ascending); another value, or a missing
 * timestamp, encodes to all zeros. numeric: one column, standardised, missing → the mean (0).
 */
type FittedDatePart =
  { part: DatePartName; encoding: 'one-hot'; values: number[] } | { part: DatePartName; encoding: 'numeric'; mean: number; std: number };

export interface FeaturePipelineOptions {
  /** Keep at most this many categories per feature (default 500); a feature's own maxCategories wins. */
  maxCategories?: number;
  /** Drop categories seen fewer times than this in training (default 1: keep all); a feature's minCount wins. */
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
  checkCategoryOptions(maxCategories, minCategoryCount);
  const features = columns.map((column): FittedFeature => {
    switch (column.kind) {
      case 'numeric':
        return fitNumeric(column);
      case 'categorical':
        return fitCategorical(column, maxCategories, minCategoryCount);
      case 'boolean':
        return { name: column.name, kind: 'boolean', share: fitBooleanShare(column) };
      case 'datetime':
        return fitDatetime(column);
    }
  });
  const width = features.reduce((sum, feature) => sum + encodedWidth(feature), 0);
  return { features, width };
}

export function encodeRows(pipeline: FittedFeaturePipeline, rows: readonly Row[]): EncodedMatrix {
  return encodeColumns(
    pipeline,
    toFeatureColumns(
      rows,
      pipeline.features.map(({ name, kind }) => ({ name, kind })),
    ),
  );
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
    switch (feature.kind) {
      case 'numeric':
        matrix.dense.push({ column: offset, values: encodeNumeric(feature, (column as NumericColumn).values) });
        break;
      case 'categorical':
        if (feature.encoding) matrix.dense.push({ column: offset, values: encodeCategoryCode(feature, column as CategoricalColumn) });
        else matrix.oneHot.push(oneHotColumns(feature, column as CategoricalColumn, offset));
        break;
      case 'boolean':
        matrix.dense.push({ column: offset, values: fillMissing((column as BooleanColumn).values, feature.share) });
        break;
      case 'datetime': {
        let partOffset = offset;
        for (const part of feature.parts) {
          const values = datePartColumn((column as DatetimeColumn).values, part.part);
          if (part.encoding === 'one-hot') matrix.oneHot.push(oneHotValues(part.values, values, partOffset));
          else matrix.dense.push({ column: partOffset, values: standardise(values, part.mean, part.std) });
          partOffset += partWidth(part);
        }
        break;
      }
    }
    offset += encodedWidth(feature);
  });
  return matrix;
}

/** How many encoded columns a fitted feature takes. */
function encodedWidth(feature: FittedFeature): number {
  switch (feature.kind) {
    case 'numeric':
    case 'boolean':
      return 1;
    case 'categorical':
      return feature.encoding ? 1 : feature.categories.length;
    case 'datetime':
      return feature.parts.reduce((sum, part) => sum + partWidth(part), 0);
  }
}

function partWidth(part: FittedDatePart): number {
  return part.encoding === 'one-hot' ? part.values.length : 1;
}

function columnLength(column: FeatureColumn): number {
  return column.kind === 'categorical' ? column.codes.length : column.values.length;
}

function fitNumeric(column: NumericColumn): FittedNumericFeature {
  const spec = specOf(column);
  if (spec.kind !== 'numeric') throw new Error(`feature "${column.name}" is read as numeric but configured as ${spec.kind}`);
  const values = clipValues(column.values, spec.clip);
  const { mean, std } = meanAndStd(values, `numeric feature "${column.name}"`);
  const fitted: FittedNumericFeature = { name: column.name, kind: 'numeric', mean, std };
  if (spec.clip) fitted.clip = { ...spec.clip };
  const fill = fitNumericFill(values, spec.impute ?? 'mean');
  if (fill !== mean) fitted.fill = fill;
  if (spec.scale === 'minmax') Object.assign(fitted, { scale: 'minmax' }, minAndMax(values));
  else if (spec.scale === 'none') fitted.scale = 'none';
  return fitted;
}

function fitCategorical(column: CategoricalColumn, maxCategories: number, minCategoryCount: number): FittedCategoricalFeature {
  const spec = specOf(column);
  const counts = countCategories(column);
  const categories = fitVocabulary(column, counts, maxCategories, minCategoryCount);
  const fitted: FittedCategoricalFeature = { name: column.name, kind: 'categorical', categories };
  const encoding = spec.kind === 'categorical' ? spec.encoding : undefined;
  if (encoding === 'ordinal') fitted.encoding = 'ordinal';
  if (encoding === 'frequency') {
    fitted.encoding = 'frequency';
    const countOf = new Map(column.dictionary.map((category, code) => [category, counts[code]]));
    fitted.shares = categories.map((category) => (countOf.get(category) ?? 0) / column.codes.length);
  }
  return fitted;
}

function fitDatetime(column: DatetimeColumn): FittedDatetimeFeature {
  const spec = specOf(column);
  const options = spec.kind === 'datetime' ? spec : { parts: undefined, encoding: undefined };
  const what = `datetime feature "${column.name}"`;
  // Fails on an all-missing column before any part is looked at.
  meanAndStd(column.values, what);
  const parts = (options.parts ?? defaultDateParts).map((part): FittedDatePart => {
    const values = datePartColumn(column.values, part);
    if (options.encoding === 'numeric') return { part, encoding: 'numeric', ...meanAndStd(values, what) };
    const seen = new Set<number>();
    for (const value of values) if (!Number.isNaN(value)) seen.add(value);
    return { part, encoding: 'one-hot', values: [...seen].sort((a, b) => a - b) };
  });
  return { name: column.name, kind: 'datetime', parts };
}

/** Clip → fill → scale, as the ONNX graph does it. */
function encodeNumeric(feature: FittedNumericFeature, raw: Float64Array): Float64Array {
  const { offset, divisor } = numericScaling(feature);
  const fill = feature.fill ?? feature.mean;
  const clipped = clipValues(raw, feature.clip);
  const out = new Float64Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const value = clipped[i];
    out[i] = ((Number.isNaN(value) ? fill : value) - offset) / divisor;
  }
  return out;
}

/** (x - offset) / divisor: what each scaling means, shared with the ONNX Scaler. */
export function numericScaling(feature: FittedNumericFeature): { offset: number; divisor: number } {
  switch (feature.scale) {
    case undefined:
      return { offset: feature.mean, divisor: feature.std };
    case 'minmax': {
      const min = feature.min ?? 0;
      const range = (feature.max ?? 0) - min;
      return { offset: min, divisor: range > 0 ? range : 1 };
    }
    case 'none':
      return { offset: 0, divisor: 1 };
  }
}

function standardise(values: Float64Array, mean: number, std: number): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    out[i] = Number.isNaN(value) ? 0 : (value - mean) / std;
  }
  return out;
}

function fillMissing(values: Float64Array, fill: number): Float64Array {
  return values.map((value) => (Number.isNaN(value) ? fill : value));
}

/** ordinal: frequency rank, unknown or missing = categories.length; frequency: share, unknown or missing = 0. */
function encodeCategoryCode(feature: FittedCategoricalFeature, { dictionary, codes }: CategoricalColumn): Float64Array {
  const { categories } = feature;
  const rank = new Map(categories.map((category, index) => [category, index]));
  const unknown = feature.encoding === 'frequency' ? 0 : categories.length;
  const codeOf = Float64Array.from(dictionary, (category) => {
    const index = rank.get(category);
    if (index === undefined) return unknown;
    return feature.encoding === 'frequency' ? (feature.shares?.[index] ?? 0) : index;
  });
  const out = new Float64Array(codes.length);
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    out[i] = code >= 0 ? codeOf[code] : unknown;
  }
  return out;
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

function oneHotValues(vocabulary: readonly number[], values: Float64Array, offset: number): Int32Array {
  const index = new Map(vocabulary.map((value, i) => [value, offset + i]));
  const columns = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) columns[i] = index.get(values[i]) ?? -1;
  return columns;
}
