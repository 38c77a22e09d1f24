import { z } from 'zod';
import { rolloutSpecSchema } from './canary';
import { datasetRulesSchema, datasetSpecSchema } from './dataset-spec';
import { featureSpecSchema } from './feature-spec';
import { gbdtParamsSchema } from './gbdt-params';
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

// A feature's kind and encoding options live in ./feature-spec (one file per concern).
export { featureSpecSchema, type FeatureSpec } from './feature-spec';

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

/** keel's histogram gradient-boosted trees (binary objective in this pipeline). */
export const gbdtTrainerSchema = z.object({
  kind: z.literal('gbdt'),
  params: gbdtParamsSchema.refine((p) => p.objective === 'binary', {
    message: 'this pipeline trains a binary classifier: objective must be "binary"',
    path: ['objective'],
  }),
  /** Threads per training activity (results are byte-identical whatever the count). */
  threads: z.number().int().min(1).max(16).default(2),
  /** A checkpoint goes to the artifact store every this many trees, so a retried activity resumes. */
  checkpointEvery: z.number().int().min(1).max(100_000).default(10),
  /**
   * A worker that stops heartbeating for this long is taken for dead and the activity is retried
   * (from the last checkpoint). Heartbeats reach the server at most every ~80 % of it.
   */
  heartbeatTimeoutSeconds: z.number().int().min(2).max(3600).default(30),
});
export type GbdtTrainerSpec = z.infer<typeof gbdtTrainerSchema>;

export const trainerSpecSchema = z.discriminatedUnion('kind', [logisticTrainerSchema, gbdtTrainerSchema, commandTrainerSchema]);
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
  // gbdt: the names are those of trainer.params.
  gbdt: {
    params: ['numTrees', 'learningRate', 'maxLeaves', 'maxDepth', 'minSamplesLeaf', 'lambda', 'subsample', 'colsample', 'maxBins'],
    budget: 'numTrees',
  },
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
    /** Deploy the new version once it passed the gate (how: `rollout`); false: register only. */
    deploy: z.boolean(),
    /**
     * How to deploy: `direct` (default) points `production` at the new version at once; `canary`
     * starts the `canaryRollout` workflow (`canary/<model>`) with these settings, which steps
     * traffic to it and promotes or rolls back by itself. The first version of a model (no
     * production yet) is always deployed directly. See docs/serving.md, "Canary rollout".
     */
    rollout: rolloutSpecSchema.prefault({ strategy: 'direct' }),
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

// The monitor's input (monitorInputSchema) lives in ./monitoring, with the drift and notification settings it embeds.
