import { z } from 'zod';

/**
 * The drift check's configuration, as a zod schema the monitor input (and keel.config.json's
 * `monitor` section) can embed. Imports nothing but zod, so it is workflow-safe: it can move to
 * src/shared/ unchanged when the monitor workflow validates it.
 *
 * Defaults follow Evidently: a reference of at most 1 000 values is compared by a test (numeric:
 * two-sample Kolmogorov–Smirnov; categorical: chi-squared, or a two-proportion z-test for two
 * categories), drift when p < 0.05; a larger reference by a distance (numeric: Wasserstein
 * normalised by the reference std; categorical, or numeric with at most 5 values:
 * Jensen–Shannon), drift when it reaches 0.1. The dataset drifts when at least half of the
 * compared columns do.
 */

export const driftMethods = ['ks', 'chisquare', 'z', 'wasserstein', 'jensenshannon', 'psi'] as const;
export const driftMethodSchema = z.enum(driftMethods);
export type DriftMethod = z.infer<typeof driftMethodSchema>;

/** Methods whose score is a p-value (drift when below the threshold); the others are distances (drift at or above). */
export const pValueMethods: readonly DriftMethod[] = ['ks', 'chisquare', 'z'];

export const defaultDriftThresholds: Record<DriftMethod, number> = {
  ks: 0.05,
  chisquare: 0.05,
  z: 0.05,
  wasserstein: 0.1,
  jensenshannon: 0.1,
  psi: 0.1,
};

export const columnDriftOverrideSchema = z
  .object({
    /** The statistic that decides drift for this column ('auto': by type and reference size). */
    method: z.union([z.literal('auto'), driftMethodSchema]).optional(),
    /** p-value (ks, chisquare, z) below which, or distance (others) from which, the column drifts. */
    threshold: z.number().positive().optional(),
    /** Compare as this kind: 'categorical' reads numbers as categories (by value). */
    kind: z.enum(['numeric', 'categorical']).optional(),
    /** Leave the column out (not compared, not counted in the dataset share). */
    ignore: z.boolean().optional(),
  })
  .strict()
  .superRefine((column, ctx) => {
    if (column.threshold !== undefined && column.method && column.method !== 'auto' && pValueMethods.includes(column.method) && column.threshold >= 1) {
      ctx.addIssue({ code: 'custom', path: ['threshold'], message: `a p-value threshold for ${column.method} must be below 1` });
    }
  });
export type ColumnDriftOverride = z.infer<typeof columnDriftOverrideSchema>;

export const driftConfigSchema = z
  .object({
    /** Fewer current rows than this give an "insufficient data" result, never an alarm. */
    minRows: z.number().int().min(1).default(100),
    /** References with at most this many present values are compared by tests, larger ones by distances. */
    smallReferenceRows: z.number().int().min(1).default(1000),
    /** Per-method thresholds (see defaultDriftThresholds). */
    thresholds: z
      .object(Object.fromEntries(driftMethods.map((m) => [m, z.number().positive().optional()])) as Record<DriftMethod, z.ZodOptional<z.ZodNumber>>)
      .strict()
      .default({} as Record<DriftMethod, number | undefined>),
    /** Dataset-level drift when at least this share of the compared feature columns drift. */
    datasetDriftShare: z.number().gt(0).max(1).default(0.5),
    /** Also flag a column whose share of missing values rose by more than this (absolute), e.g. 0.1. */
    maxMissingShareIncrease: z.number().min(0).max(1).optional(),
    /** 'all' computes every applicable statistic per column for the report; 'selected' only the deciding one. */
    statistics: z.enum(['all', 'selected']).default('all'),
    /** Per-column overrides, by column name. */
    columns: z.record(z.string(), columnDriftOverrideSchema).default({}),
    /** Override for the prediction column. */
    prediction: columnDriftOverrideSchema.optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    for (const method of pValueMethods) {
      const threshold = config.thresholds[method];
      if (threshold !== undefined && threshold >= 1) {
        ctx.addIssue({ code: 'custom', path: ['thresholds', method], message: `a p-value threshold must be below 1, got ${threshold}` });
      }
    }
  });

/** What callers write (defaults optional). */
export type DriftConfigInput = z.input<typeof driftConfigSchema>;
/** After parsing (defaults filled in). */
export type DriftConfig = z.output<typeof driftConfigSchema>;
