/**
 * A model input: which column of a row it reads and how it is encoded. The schema is part of the
 * training pipeline's input, so its single definition lives in src/shared; the ML library
 * re-exports it rather than keeping a second copy that could drift.
 */
export {
  datePartNames,
  defaultDateParts,
  featureSpecSchema,
  type BooleanFeatureSpec,
  type CategoricalFeatureSpec,
  type DatePartName,
  type DatetimeFeatureSpec,
  type FeatureKind,
  type FeatureSpec,
  type NumericFeatureSpec,
} from '../shared/feature-spec';
