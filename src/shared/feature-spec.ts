import { z } from 'zod';
import { strictObject } from './strict';

/**
 * A model input as configured: which column of a row it reads, its kind, and how it is encoded.
 * Every option is optional and no default is filled in here, so an old config (`{name, kind}`)
 * parses to exactly itself and trains exactly the model it trained before; the defaults, which
 * differ by model family, are applied when the pipeline is fitted (src/ml/features.ts for linear
 * models, src/ml/gbdt/tree-pipeline.ts for trees). Reference: docs/features.md.
 *
 * Pure module: it is bundled into the workflow sandbox (through pipeline-input.ts).
 */

/** The largest finite float32: model inputs and graph constants are float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

export const featureKinds = ['numeric', 'categorical', 'boolean', 'datetime'] as const;
export type FeatureKind = (typeof featureKinds)[number];

/** UTC calendar parts of a timestamp; weekday 0 = Sunday … 6 = Saturday, as the data module's. */
export const datePartNames = ['hour', 'weekday', 'month', 'dayOfMonth', 'year'] as const;
export type DatePartName = (typeof datePartNames)[number];

const show = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? value));

/** An enum whose error names the accepted values and the value found. */
function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: (issue) => `must be one of ${values.map((v) => `"${v}"`).join(', ')}, got ${show(issue.input)}` });
}

/** A finite number a float32 can hold (graph constants are float32). */
const float32Number = z
  .number({ error: (issue) => `must be a finite number, got ${show(issue.input)}` })
  .refine((value) => Math.abs(value) <= FLOAT32_MAX, {
    error: (issue) => `must lie within float32's range (±3.4e38), got ${show(issue.input)}`,
  });

/** A feature of one kind: its name, its kind and its options (an unknown option is refused, see ./strict). */
function options<const K extends FeatureKind, S extends z.ZodRawShape>(kind: K, shape: S) {
  return strictObject({
    name: z.string().min(1, 'a feature needs a name').describe('The column of the canonical rows the feature reads.'),
    kind: z.literal(kind),
    ...shape,
  });
}

export const numericFeatureSchema = options('numeric', {
  impute: z
    .union([oneOf(['mean', 'median']), strictObject({ constant: float32Number.describe('The value a missing one becomes.') })], {
      error: (issue) => `must be "mean", "median" or {"constant": <number>}, got ${show(issue.input)}`,
    })
    .optional()
    .describe("What a missing value becomes (linear models: default 'mean'; trees: kept missing unless set)."),
  scale: oneOf(['standard', 'minmax', 'none'])
    .optional()
    .describe("Linear models only (a monotone rescaling changes no tree): default 'standard'."),
  clip: strictObject({
    min: float32Number.optional().describe('Values below become this.'),
    max: float32Number.optional().describe('Values above become this.'),
  })
    .refine((clip) => clip.min !== undefined || clip.max !== undefined, 'needs "min", "max" or both')
    .refine((clip) => clip.min === undefined || clip.max === undefined || clip.min <= clip.max, {
      error: (issue) => {
        const clip = issue.input as { min: number; max: number };
        return `min must not exceed max, got min ${clip.min} > max ${clip.max}`;
      },
    })
    .optional()
    .describe('Raw values are clamped into [min, max] before imputation.'),
}).describe('a number');

const categoryLimit = (max: number) =>
  z
    .number({ error: (issue) => `must be an integer from 1 to ${max}, got ${show(issue.input)}` })
    .int({ error: (issue) => `must be an integer from 1 to ${max}, got ${show(issue.input)}` })
    .min(1, { error: (issue) => `must be at least 1, got ${show(issue.input)}` })
    .max(max, { error: (issue) => `must be at most ${max}, got ${show(issue.input)}` });

export const categoricalFeatureSchema = options('categorical', {
  encoding: oneOf(['one-hot', 'ordinal', 'frequency'])
    .optional()
    .describe("Linear models: default 'one-hot'. Trees: an ordinal code unless 'frequency'."),
  maxCategories: categoryLimit(10_000).optional().describe("Overrides the trainer's maxCategories for this feature."),
  minCount: categoryLimit(1_000_000_000)
    .optional()
    .describe('Categories seen fewer times than this in training are unknown (default 1: keep all).'),
  unknown: oneOf(['bucket', 'reject', 'nearest'])
    .optional()
    .describe(
      "Serving, a value outside the training categories (after canonicalisation): 'bucket' scores it as the unknown category (default); 'reject' answers 422 naming the feature and the value; 'nearest' takes the known category at the smallest edit distance (at most 2, on the canonical token), else buckets it. Every unknown value is counted in /metrics.",
    ),
}).describe('a category: a string, or a number read as a category');

export const booleanFeatureSchema = options('boolean', {}).describe(
  'true/false (also 1/0, yes/no), encoded as 1/0; linear models read a missing value as the training share of true',
);

export const datetimeFeatureSchema = options('datetime', {
  parts: z
    .array(oneOf(datePartNames))
    .min(1, 'needs at least one part')
    .refine((parts) => new Set(parts).size === parts.length, { error: (issue) => `lists a part twice: ${show(issue.input)}` })
    .optional()
    .describe('Default hour, weekday, month.'),
  encoding: oneOf(['one-hot', 'numeric'])
    .optional()
    .describe('Linear models: each part one-hot over its training values (default), or standardised as a number.'),
}).describe('a timestamp (ISO 8601 string or milliseconds), encoded as UTC date parts');

export const featureSpecSchema = z.discriminatedUnion(
  'kind',
  [numericFeatureSchema, categoricalFeatureSchema, booleanFeatureSchema, datetimeFeatureSchema],
  {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? `kind must be one of ${featureKinds.map((kind) => `"${kind}"`).join(', ')}, got ${show((issue.input as { kind?: unknown } | undefined)?.kind)}`
        : undefined,
  },
);
export type FeatureSpec = z.infer<typeof featureSpecSchema>;
export type NumericFeatureSpec = z.infer<typeof numericFeatureSchema>;
export type CategoricalFeatureSpec = z.infer<typeof categoricalFeatureSchema>;
export type BooleanFeatureSpec = z.infer<typeof booleanFeatureSchema>;
export type DatetimeFeatureSpec = z.infer<typeof datetimeFeatureSchema>;

/** Parts a datetime feature without `parts` gets. */
export const defaultDateParts: readonly DatePartName[] = ['hour', 'weekday', 'month'];
