import { z } from 'zod';
import { datasetRulesSchema, datasetSpecSchema } from './dataset-spec';
import { tuningSpecSchema } from './tuning';

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

// The dataset's sources, mapping, dedup and rules live in ./dataset-spec (one file per concern).
export { datasetSpecSchema, type DatasetSpec } from './dataset-spec';

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

/**
 * Bring your own trainer: any program, in any language, run on the prepared splits. It reads
 * train.csv, validation.csv and params.json from its working directory (also named by the
 * KEEL_* environment variables) and writes model.onnx and metrics.json there. keel validates the
 * model (it loads, its inputs match the feature contract, it scores validation rows) before it
 * can go further. See examples/byo-trainer/.
 */
export const commandTrainerSchema = z.object({
  kind: z.literal('command'),
  /** Program and arguments, run without a shell. */
  command: z.array(z.string().min(1)).min(1),
  /** Passed to the program in params.json; keel does not interpret them. */
  params: z.record(z.string(), z.unknown()).default({}),
  timeoutSeconds: z.number().int().min(1).max(24 * 3600).default(3600),
});
export type CommandTrainerSpec = z.infer<typeof commandTrainerSchema>;

export const trainerSpecSchema = z.discriminatedUnion('kind', [logisticTrainerSchema, commandTrainerSchema]);
export type TrainerSpec = z.infer<typeof trainerSpecSchema>;

export { datasetRulesSchema, type DatasetRules } from './dataset-spec';

export const gateSpecSchema = z.object({
  /** The candidate's ROC AUC on the test split must reach this. */
  minRocAuc: z.number().min(0).max(1),
  /**
   * The candidate may trail the current production version's ROC AUC, measured on the same test
   * split, by at most this much (0: must be at least as good). No production version: no check.
   */
  maxDropVsProduction: z.number().min(0).max(1).default(0.005),
});
export type GateSpec = z.infer<typeof gateSpecSchema>;

/** Trainer parameters a search may vary, and the one successive halving treats as the budget. */
export const tunableParams = {
  'logistic-regression': { params: ['l2', 'maxIterations', 'maxCategories'], budget: 'maxIterations' },
  command: { params: [], budget: null },
} as const satisfies Record<TrainerSpec['kind'], { params: readonly string[]; budget: string | null }>;

export const trainingPipelineInputSchema = z
  .object({
    model: modelNameSchema,
    dataset: datasetSpecSchema,
    rules: datasetRulesSchema,
    features: z.array(featureSpecSchema).min(1),
    /** Binary label column of the canonical rows (0 or 1). */
    target: z.string().min(1),
    trainer: trainerSpecSchema,
    split: splitSpecSchema,
    gate: gateSpecSchema,
    /** Optional hyperparameter search over the trainer's numeric parameters. */
    tuning: tuningSpecSchema.optional(),
    /** Point `production` at the new version and load it in the model server. */
    deploy: z.boolean(),
  })
  .superRefine((input, ctx) => {
    const { params: allowed, budget } = tunableParams[input.trainer.kind];
    if (input.tuning?.strategy === 'successive-halving' && !budget) {
      ctx.addIssue({ code: 'custom', path: ['tuning', 'strategy'], message: `successive halving needs a budget parameter, which ${input.trainer.kind} has not` });
    }
    for (const name of Object.keys(input.tuning?.space ?? {})) {
      if (!(allowed as readonly string[]).includes(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['tuning', 'space', name],
          message: `"${name}" is not a tunable parameter of ${input.trainer.kind} (tunable: ${allowed.join(', ') || 'none'})`,
        });
      }
    }
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
