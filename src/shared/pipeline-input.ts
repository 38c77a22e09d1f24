import { z } from 'zod';
import { approvalSpecSchema } from './approval';
import { rolloutSpecSchema } from './canary';
import { datasetRulesSchema, datasetSpecSchema } from './dataset-spec';
import { featureSpecSchema } from './feature-spec';
import { gbdtParamsSchema } from './gbdt-params';
import { modelTaskSchema, type ModelTask } from './model-contract';
import { higherIsBetter, isMetricOf, metricNames, primaryMetric } from './task-metrics';
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

/** Logistic regression with L2: binary, or multinomial (softmax) when the task is multiclass. */
export const logisticTrainerSchema = z.object({
  kind: z.literal('logistic-regression'),
  l2: z.number().min(0).max(1e6),
  maxIterations: z.number().int().min(1).max(10_000),
  tolerance: z.number().positive().max(1),
  maxCategories: z.number().int().min(1).max(10_000),
});
export type LogisticTrainerSpec = z.infer<typeof logisticTrainerSchema>;

/** Linear regression on squared error; l2 > 0 makes it ridge regression (the intercept is not penalised). */
export const linearRegressionTrainerSchema = z.object({
  kind: z.literal('linear-regression'),
  l2: z.number().min(0).max(1e6).default(0),
  maxIterations: z.number().int().min(1).max(10_000).default(500),
  tolerance: z.number().positive().max(1).default(1e-9),
  maxCategories: z.number().int().min(1).max(10_000).default(500),
});
export type LinearRegressionTrainerSpec = z.infer<typeof linearRegressionTrainerSchema>;

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

/** keel's histogram gradient-boosted trees; `params.objective` must be the pipeline's task. */
export const gbdtTrainerSchema = z.object({
  kind: z.literal('gbdt'),
  params: gbdtParamsSchema,
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

export const trainerSpecSchema = z.discriminatedUnion('kind', [
  logisticTrainerSchema,
  linearRegressionTrainerSchema,
  gbdtTrainerSchema,
  commandTrainerSchema,
]);
export type TrainerSpec = z.infer<typeof trainerSpecSchema>;

/** The tasks each trainer can learn. */
export const trainerTasks: Record<TrainerSpec['kind'], readonly ModelTask[]> = {
  'logistic-regression': ['binary', 'multiclass'],
  'linear-regression': ['regression'],
  gbdt: ['binary', 'multiclass', 'regression'],
  command: ['binary', 'multiclass', 'regression'],
};

export { datasetRulesSchema, type DatasetRules } from './dataset-spec';

/**
 * The Evaluator's blessing, on the test split. `min` and `max` are absolute thresholds on any
 * metric of the task (e.g. `{"min": {"r2": 0.6}, "max": {"rmse": 45000}}`); `minRocAuc` is the
 * binary shorthand for `min.rocAuc`. Then the candidate is compared with the current production
 * version, scored on the same rows, on `compareMetric` (default: ROC AUC, macro F1 or RMSE by
 * task): it may be worse by at most `maxDropVsProduction` — an absolute difference for metrics
 * where higher is better (AUC, accuracy, F1, R², all on a fixed scale), a fraction of
 * production's value for error metrics (RMSE, MAE, log loss, whose scale is the target's).
 */
export const gateSpecSchema = z.object({
  minRocAuc: z.number().min(0).max(1).optional(),
  min: z.record(z.string(), z.number()).default({}),
  max: z.record(z.string(), z.number()).default({}),
  compareMetric: z.string().optional(),
  maxDropVsProduction: z.number().min(0).max(1).default(0.005),
});
export type GateSpec = z.infer<typeof gateSpecSchema>;

/** Trainer parameters a search may vary, and the one successive halving treats as the budget. */
export const tunableParams = {
  'logistic-regression': { params: ['l2', 'maxIterations', 'maxCategories'], budget: 'maxIterations' },
  'linear-regression': { params: ['l2', 'maxIterations', 'maxCategories'], budget: 'maxIterations' },
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
    /**
     * What the model predicts from `target`: `binary` (a 0/1 column; the default), `multiclass`
     * (a column of class names or numbers; classes are the distinct values of the training rows),
     * `regression` (a numeric column).
     */
    task: modelTaskSchema.default('binary'),
    /** The label column of the canonical rows. */
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
    /**
     * Human approval: with `required`, the pipeline waits (up to `timeout`, then `onTimeout`) for a
     * person to approve or reject the registered version before it deploys or starts a rollout.
     * See docs/approval.md.
     */
    approval: approvalSpecSchema.prefault({}),
  })
  .superRefine((input, ctx) => {
    const { task, trainer, gate, tuning } = input;
    if (input.approval.required && !input.deploy) {
      ctx.addIssue({ code: 'custom', path: ['approval', 'required'], message: 'approval gates the deploy: it needs "deploy": true' });
    }
    if (!trainerTasks[trainer.kind].includes(task)) {
      ctx.addIssue({
        code: 'custom',
        path: ['trainer', 'kind'],
        message: `${trainer.kind} cannot learn a ${task} task (it learns: ${trainerTasks[trainer.kind].join(', ')})`,
      });
    }
    if (trainer.kind === 'gbdt' && trainer.params.objective !== task) {
      ctx.addIssue({
        code: 'custom',
        path: ['trainer', 'params', 'objective'],
        message: `must be the pipeline's task "${task}", got "${trainer.params.objective}"`,
      });
    }
    if (input.features.some((feature) => feature.name === input.target)) {
      ctx.addIssue({ code: 'custom', path: ['target'], message: `the target "${input.target}" is also listed as a feature` });
    }
    const checkMetric = (name: string, path: (string | number)[]) => {
      if (!isMetricOf(task, name)) {
        ctx.addIssue({ code: 'custom', path, message: `"${name}" is not a ${task} metric (one of: ${metricNames(task).join(', ')})` });
      }
    };
    if (gate.minRocAuc !== undefined && task !== 'binary') {
      ctx.addIssue({ code: 'custom', path: ['gate', 'minRocAuc'], message: `applies to binary models; for ${task} use gate.min / gate.max (metrics: ${metricNames(task).join(', ')})` });
    }
    for (const bound of ['min', 'max'] as const) {
      for (const name of Object.keys(gate[bound])) checkMetric(name, ['gate', bound, name]);
    }
    if (gate.compareMetric) checkMetric(gate.compareMetric, ['gate', 'compareMetric']);
    if (tuning?.metric) checkMetric(tuning.metric, ['tuning', 'metric']);

    const { params: allowed, budget } = tunableParams[trainer.kind];
    if (tuning?.strategy === 'successive-halving' && !budget) {
      ctx.addIssue({ code: 'custom', path: ['tuning', 'strategy'], message: `successive halving needs a budget parameter, which ${trainer.kind} has not` });
    }
    for (const name of Object.keys(tuning?.space ?? {})) {
      if (!(allowed as readonly string[]).includes(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['tuning', 'space', name],
          message: `"${name}" is not a tunable parameter of ${trainer.kind} (tunable: ${allowed.join(', ') || 'none'})`,
        });
      }
    }
  });

/** The metric the gate compares with production: the configured one or the task's primary metric. */
export function gateCompareMetric(input: Pick<TrainingPipelineInput, 'task' | 'gate'>): string {
  return input.gate.compareMetric ?? primaryMetric[input.task];
}

/** The validation metric that ranks tuning trials, and whether higher is better. */
export function tuningMetric(input: Pick<TrainingPipelineInput, 'task' | 'tuning'>): { name: string; higherIsBetter: boolean } {
  const name = input.tuning?.metric ?? primaryMetric[input.task];
  return { name, higherIsBetter: higherIsBetter(input.task, name) };
}
export type TrainingPipelineInput = z.infer<typeof trainingPipelineInputSchema>;

// The monitor's input (monitorInputSchema) lives in ./monitoring, with the drift and notification settings it embeds.
