import { datePartColumn } from '../date-parts';
import {
  specOf,
  toFeatureColumns,
  type BooleanColumn,
  type CategoricalColumn,
  type DatetimeColumn,
  type FeatureColumn,
  type NumericColumn,
} from '../feature-columns';
import {
  checkCategoryOptions,
  checkFeatureNames,
  clipValues,
  countCategories,
  fitBooleanShare,
  fitNumericFill,
  fitVocabulary,
  meanAndStd,
  type Clip,
} from '../feature-fit';
import { defaultDateParts, type DatePartName, type NumericFeatureSpec } from '../../shared/feature-spec';
import type { Row } from '../row';

/**
 * The feature pipeline of tree models. Trees need no scaling, and one-hot columns would make them
 * wide and shallow, so each feature becomes float32 values (NaN = missing, which the trees route
 * by a learned default direction at each split):
 *
 * - numeric: the raw value rounded to float32 (what the ONNX graph receives), clamped by `clip`;
 *   missing, NaN, ±Infinity and values beyond float32's range are *missing*, unless the feature
 *   configures `impute` (then they take `fill`). `scale` is ignored: a monotone rescaling
 *   changes no split;
 * - categorical: an integer code by frequency rank in the training rows (0 = most frequent, ties
 *   in string order, at most `maxCategories`); a category outside that vocabulary — rarer than
 *   the cut, or unseen in training — gets the *unknown* code `categories.length`. With encoding
 *   'frequency', the code is the category's share of the training rows and unknown is 0. A
 *   missing category (null or '') is *missing* (NaN) either way;
 * - boolean: 1 or 0, missing NaN;
 * - datetime: one column per part (hour, weekday…; see date-parts.ts), missing NaN.
 *
 * Ordinal codes by frequency keep a high-cardinality feature (300 airports) in one column that a
 * tree splits into frequent/rare groups and, over several splits, into individual categories.
 * The ONNX export reproduces all of this (onnx/feature-nodes.ts, treeFeatureNodes).
 */
export interface TreeFeaturePipeline {
  features: TreeFeature[];
}

export type TreeFeature = TreeNumericFeature | TreeCategoricalFeature | TreeBooleanFeature | TreeDatetimeFeature;

export interface TreeNumericFeature {
  name: string;
  kind: 'numeric';
  clip?: Clip;
  /** Present when the feature configures `impute`: what a missing value becomes. */
  fill?: number;
}

export interface TreeCategoricalFeature {
  name: string;
  kind: 'categorical';
  /** Code i is categories[i]; most frequent first. Any other category is code categories.length. */
  categories: string[];
  /** Present for frequency encoding: the code is shares[i] (count / training rows); unknown is 0. */
  encoding?: 'frequency';
  shares?: number[];
}

interface TreeBooleanFeature {
  name: string;
  kind: 'boolean';
}

interface TreeDatetimeFeature {
  name: string;
  kind: 'datetime';
  /** One encoded column per part, in this order. */
  parts: DatePartName[];
}

/** Fits the vocabularies and fills on the training columns; rejects an all-missing feature or duplicate names. */
export function fitTreePipeline(columns: readonly FeatureColumn[], maxCategories: number, minCategoryCount = 1): TreeFeaturePipeline {
  checkFeatureNames(columns);
  checkCategoryOptions(maxCategories, minCategoryCount);
  return {
    features: columns.map((column): TreeFeature => {
      const spec = specOf(column);
      switch (column.kind) {
        case 'numeric': {
          const options: { clip?: Clip; impute?: NumericFeatureSpec['impute'] } = spec.kind === 'numeric' ? spec : {};
          const values = clipValues(column.values, options.clip);
          meanAndStd(values, `numeric feature "${column.name}"`);
          return {
            name: column.name,
            kind: 'numeric',
            ...(options.clip && { clip: { ...options.clip } }),
            ...(options.impute !== undefined && { fill: fitNumericFill(values, options.impute) }),
          };
        }
        case 'categorical': {
          const counts = countCategories(column);
          const categories = fitVocabulary(column, counts, maxCategories, minCategoryCount);
          if (spec.kind !== 'categorical' || spec.encoding !== 'frequency') return { name: column.name, kind: 'categorical', categories };
          const countOf = new Map(column.dictionary.map((category, code) => [category, counts[code]]));
          // Rounded to float32 here, so the pipeline holds the exact value the graph's LabelEncoder holds.
          const shares = categories.map((category) => Math.fround((countOf.get(category) ?? 0) / column.codes.length));
          return { name: column.name, kind: 'categorical', categories, encoding: 'frequency', shares };
        }
        case 'boolean':
          fitBooleanShare(column);
          return { name: column.name, kind: 'boolean' };
        case 'datetime':
          meanAndStd(column.values, `datetime feature "${column.name}"`);
          return { name: column.name, kind: 'datetime', parts: [...((spec.kind === 'datetime' && spec.parts) || defaultDateParts)] };
      }
    }),
  };
}

/** The encoded columns' names: the feature's, or `<feature>.<part>` for a datetime part. */
export function treeColumnNames(pipeline: TreeFeaturePipeline): string[] {
  return pipeline.features.flatMap((feature) =>
    feature.kind === 'datetime' ? feature.parts.map((part) => `${feature.name}.${part}`) : [feature.name],
  );
}

/** Float32 columns, as the trees (and the ONNX graph) see them: one per feature, one per datetime part. */
export function encodeTreeColumns(pipeline: TreeFeaturePipeline, columns: readonly FeatureColumn[]): Float32Array[] {
  if (columns.length !== pipeline.features.length) {
    throw new Error(`expected ${pipeline.features.length} feature columns, got ${columns.length}`);
  }
  return pipeline.features.flatMap((feature, index) => {
    const column = columns[index];
    if (column?.name !== feature.name || column.kind !== feature.kind) {
      throw new Error(`column ${index} must be the ${feature.kind} feature "${feature.name}"`);
    }
    switch (feature.kind) {
      case 'numeric':
        return [encodeNumeric(feature, column as NumericColumn)];
      case 'categorical':
        return [encodeCategorical(feature, column as CategoricalColumn)];
      case 'boolean':
        return [Float32Array.from((column as BooleanColumn).values)];
      case 'datetime':
        return feature.parts.map((part) => Float32Array.from(datePartColumn((column as DatetimeColumn).values, part)));
    }
  });
}

export function encodeTreeRows(pipeline: TreeFeaturePipeline, rows: readonly Row[]): Float32Array[] {
  return encodeTreeColumns(
    pipeline,
    toFeatureColumns(
      rows,
      pipeline.features.map(({ name, kind }) => ({ name, kind })),
    ),
  );
}

function encodeNumeric({ clip, fill }: TreeNumericFeature, { values }: NumericColumn): Float32Array {
  const clipped = clipValues(values, clip);
  const missing = fill === undefined ? Number.NaN : Math.fround(fill);
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = Math.fround(clipped[i]);
    // NaN and ±Infinity (also a finite float64 that overflows float32) are missing.
    out[i] = value - value === 0 ? value : missing;
  }
  return out;
}

function encodeCategorical(
  { categories, encoding, shares }: TreeCategoricalFeature,
  { dictionary, codes }: CategoricalColumn,
): Float32Array {
  const rank = new Map(categories.map((category, index) => [category, index]));
  const frequency = encoding === 'frequency';
  const codeOf = Float32Array.from(dictionary, (category) => {
    const index = rank.get(category);
    if (index === undefined) return frequency ? 0 : categories.length;
    return frequency ? (shares?.[index] ?? 0) : index;
  });
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    out[i] = code >= 0 ? codeOf[code] : Number.NaN;
  }
  return out;
}
