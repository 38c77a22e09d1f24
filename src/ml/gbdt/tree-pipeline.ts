import { toFeatureColumns, type CategoricalColumn, type FeatureColumn, type NumericColumn } from '../feature-columns';
import { fitFeaturePipelineOnColumns } from '../features';
import type { Row } from '../row';

/**
 * The feature pipeline of tree models. Trees need neither imputation nor scaling, and one-hot
 * columns would make them wide and shallow, so each feature becomes one float32 value:
 *
 * - numeric: the raw value rounded to float32 (what the ONNX graph receives); missing, NaN,
 *   ±Infinity and finite values beyond float32's range are all *missing* (NaN), which the trees
 *   route by a learned default direction at each split;
 * - categorical: an integer code by frequency rank in the training rows (0 = most frequent, ties
 *   in string order, at most `maxCategories`); a category outside that vocabulary — rarer than
 *   the cut, or unseen in training — gets the *unknown* code `categories.length`; a missing
 *   category (null or '') is *missing* (NaN).
 *
 * Ordinal codes by frequency keep a high-cardinality feature (300 airports) in one column that a
 * tree splits into frequent/rare groups and, over several splits, into individual categories.
 * The ONNX export reproduces this mapping with ai.onnx.ml LabelEncoder (string → float).
 */
export interface TreeFeaturePipeline {
  features: TreeFeature[];
}

export type TreeFeature = TreeNumericFeature | TreeCategoricalFeature;

export interface TreeNumericFeature {
  name: string;
  kind: 'numeric';
}

export interface TreeCategoricalFeature {
  name: string;
  kind: 'categorical';
  /** Code i is categories[i]; most frequent first. Any other category is code categories.length. */
  categories: string[];
}

/**
 * Fits the vocabularies on the training columns (reusing the linear pipeline's fit, which orders
 * categories by frequency and rejects an all-missing feature or duplicate names).
 */
export function fitTreePipeline(columns: readonly FeatureColumn[], maxCategories: number): TreeFeaturePipeline {
  const fitted = fitFeaturePipelineOnColumns(columns, { maxCategories });
  return {
    features: fitted.features.map((feature) =>
      feature.kind === 'numeric' ? { name: feature.name, kind: 'numeric' } : { name: feature.name, kind: 'categorical', categories: feature.categories },
    ),
  };
}

/** One float32 column per feature, as the trees (and the ONNX graph) see them. */
export function encodeTreeColumns(pipeline: TreeFeaturePipeline, columns: readonly FeatureColumn[]): Float32Array[] {
  if (columns.length !== pipeline.features.length) {
    throw new Error(`expected ${pipeline.features.length} feature columns, got ${columns.length}`);
  }
  return pipeline.features.map((feature, index) => {
    const column = columns[index];
    if (column?.name !== feature.name || column.kind !== feature.kind) {
      throw new Error(`column ${index} must be the ${feature.kind} feature "${feature.name}"`);
    }
    return feature.kind === 'numeric' ? encodeNumeric(column as NumericColumn) : encodeCategorical(feature, column as CategoricalColumn);
  });
}

export function encodeTreeRows(pipeline: TreeFeaturePipeline, rows: readonly Row[]): Float32Array[] {
  return encodeTreeColumns(pipeline, toFeatureColumns(rows, pipeline.features));
}

function encodeNumeric({ values }: NumericColumn): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = Math.fround(values[i]);
    // NaN stays NaN; ±Infinity (also a finite float64 that overflows float32) becomes missing.
    out[i] = value - value === 0 ? value : Number.NaN;
  }
  return out;
}

function encodeCategorical({ categories }: TreeCategoricalFeature, { dictionary, codes }: CategoricalColumn): Float32Array {
  const rank = new Map(categories.map((category, index) => [category, index]));
  const codeOf = Float32Array.from(dictionary, (category) => rank.get(category) ?? categories.length);
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    out[i] = code >= 0 ? codeOf[code] : Number.NaN;
  }
  return out;
}
