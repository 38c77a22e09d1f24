import { z } from 'zod';

/**
 * The shapes of workflow inputs. One source of truth: the workflows validate their input with
 * these schemas, and the CLI, the schedules and `npm start` build inputs from the same schemas.
 * Pure module: it is bundled into the workflow sandbox.
 */

export const modelNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be 1-63 lowercase letters, digits or dashes, starting with a letter or digit');

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD');

export const featureSpecSchema = z.object({
  name: z.string().min(1),
  kind: z.enum(['numeric', 'categorical']),
});
export type FeatureSpec = z.infer<typeof featureSpecSchema>;

export const datasetSpecSchema = z.object({
  /** Dataset versions are grouped under this name. */
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be lowercase letters, digits, dots, dashes or underscores'),
  source: z.object({
    format: z.literal('parquet'),
    /** A file path, or `vega-datasets:<file>` for a file shipped by the vega-datasets package. */
    path: z.string().min(1),
  }),
  /** How a raw record becomes a canonical row. */
  recipe: z.literal('flights'),
  /** Keep records whose `date` lies in [from, to). */
  period: z.object({ from: isoDate, to: isoDate }).refine((p) => p.from < p.to, {
    message: 'from must be before to',
  }),
  /** Keep at most this many records (after the period filter), in source order. */
  limit: z.number().int().positive().optional(),
});
export type DatasetSpec = z.infer<typeof datasetSpecSchema>;

export const splitSpecSchema = z
  .object({
    seed: z.number().int().min(0),
    train: z.number().gt(0).lt(1),
    validation: z.number().gt(0).lt(1),
    test: z.number().gt(0).lt(1),
  })
  .refine((s) => Math.abs(s.train + s.validation + s.test - 1) < 1e-9, {
    message: 'train + validation + test must equal 1',
  });
export type SplitSpec = z.infer<typeof splitSpecSchema>;

export const logisticTrainerSchema = z.object({
  kind: z.literal('logistic-regression'),
  l2: z.number().min(0).max(1e6),
  maxIterations: z.number().int().min(1).max(10_000),
  tolerance: z.number().positive().max(1),
  maxCategories: z.number().int().min(1).max(10_000),
});
export type LogisticTrainerSpec = z.infer<typeof logisticTrainerSchema>;

export const datasetRulesSchema = z.object({
  /** Fewer accepted rows than this fails the pipeline with a DataValidationError. */
  minRows: z.number().int().min(1),
  /** A feature or target column with a larger share of nulls fails the pipeline. */
  maxNullFraction: z.number().min(0).max(1),
});
export type DatasetRules = z.infer<typeof datasetRulesSchema>;

export const gateSpecSchema = z.object({
  /** The candidate's ROC AUC on the test split must reach this. */
  minRocAuc: z.number().min(0).max(1),
});

export const trainingPipelineInputSchema = z.object({
  model: modelNameSchema,
  dataset: datasetSpecSchema,
  rules: datasetRulesSchema,
  features: z.array(featureSpecSchema).min(1),
  /** Binary label column of the canonical rows (0 or 1). */
  target: z.string().min(1),
  trainer: logisticTrainerSchema,
  split: splitSpecSchema,
  gate: gateSpecSchema,
  /** Point `production` at the new version and load it in the model server. */
  deploy: z.boolean(),
});
export type TrainingPipelineInput = z.infer<typeof trainingPipelineInputSchema>;

export const monitorInputSchema = z.object({
  model: modelNameSchema,
  /** Logged predictions of the last `windowMinutes` are compared with the training data. */
  windowMinutes: z.number().int().min(1).max(60 * 24 * 366),
  /** Fewer logged predictions than this give an "insufficient data" report, never an alarm. */
  minRows: z.number().int().min(1),
  /** PSI at or above this marks a feature as drifted. */
  psiThreshold: z.number().positive(),
});
export type MonitorInput = z.infer<typeof monitorInputSchema>;
