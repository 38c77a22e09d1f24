import { z } from 'zod';
import { approvalSpecSchema } from './approval';
import { rolloutSpecSchema } from './canary';
import { datasetRulesSchema, datasetSpecSchema } from './dataset-spec';
import { featureSpecSchema } from './feature-spec';
import { gbdtParamsSchema } from './gbdt-params';
import { modelTaskSchema, type ModelTask } from './model-contract';
import { modelNameSchema } from './names';
import { higherIsBetter, isMetricOf, metricNames, primaryMetric } from './task-metrics';
import { tuningSpecSchema } from './tuning';
import { strictObject } from './strict';

/**
 * The shapes of workflow inputs. One source of truth: the workflows validate their input with
 * these schemas, and the CLI, the schedules and `npm start` build inputs from the same schemas.
 * Pure module: it is bundled into the workflow sandbox.
 */

export const splitSpecSchema = strictObject({
  seed: z.number().int().min(0).default(0).describe('Seed of the hash that assigns each row to a split: the same seed, the same split.'),
  train: z.number().gt(0).lt(1).default(0.7).describe('Share of the rows the model is fitted on.'),
  validation: z
    .number()
    .gt(0)
    .lt(1)
    .default(0.15)
    .describe('Share that ranks tuning trials, stops GBDT early and draws the learning curves.'),
  test: z.number().gt(0).lt(1).default(0.15).describe('Share the gate judges the candidate (and production) on.'),
})
  .refine((s) => Math.abs(s.train + s.validation + s.test - 1) < 1e-9, {
    message: 'train + validation + test must equal 1',
  })
  .describe('How the accepted rows are split, by a seeded hash of each row; the three shares sum to 1.');
export type SplitSpec = z.infer<typeof splitSpecSchema>;

/** The parameters both linear families share, with the same meaning and defaults. */
const linearParams = {
  maxIterations: z.number().int().min(1).max(10_000).default(500).describe('L-BFGS iterations at most.'),
  tolerance: z
    .number()
    .positive()
    .max(1)
    .default(1e-9)
    .describe(
      'Converged when no gradient component of the mean loss exceeds this (regression: on the standardised target), or when an iteration no longer lowers the loss.',
    ),
  maxCategories: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(500)
    .describe(
      "One-hot vocabulary size per categorical feature, most frequent first; rarer categories are unknown. A feature's own `maxCategories` overrides it.",
    ),
};

const l2Text = 'L2 penalty on the *mean* loss (the intercept is not penalised)';

export const logisticTrainerSchema = strictObject({
  kind: z.literal('logistic-regression'),
  // Unlike least squares, unpenalised logistic regression has no finite optimum on separable
  // data (a category seen with one label only): a small penalty by default, as scikit-learn has.
  l2: z
    .number()
    .min(0)
    .max(1e6)
    .optional()
    .describe(
      `${l2Text}. Default: 1/(training rows), scikit-learn's C = 1, on small tables (it keeps small-data probabilities away from 0/1), and never below 1e-4, which suits the flights (validation ROC AUC 0.653 vs 0.608 at 1); some penalty keeps the weights finite on separable data.`,
    ),
  ...linearParams,
}).describe('logistic regression with L2: binary, or multinomial (softmax) when the task is multiclass');
export type LogisticTrainerSpec = z.infer<typeof logisticTrainerSchema>;

export const linearRegressionTrainerSchema = strictObject({
  kind: z.literal('linear-regression'),
  l2: z.number().min(0).max(1e6).default(0).describe(`${l2Text}; 0 is ordinary least squares, > 0 ridge regression.`),
  ...linearParams,
}).describe('linear regression on squared error (regression tasks)');
export type LinearRegressionTrainerSpec = z.infer<typeof linearRegressionTrainerSchema>;

/**
 * Bring your own trainer: any program, in any language, run on the prepared splits. It reads
 * train.csv, validation.csv and params.json from its working directory (also named by the
 * KEEL_* environment variables) and writes model.onnx and metrics.json there. keel validates the
 * model (it loads, its inputs match the feature contract, it scores validation rows) before it
 * can go further. See examples/byo-trainer/.
 */
export const commandTrainerSchema = strictObject({
  kind: z.literal('command'),
  command: z
    .union([
      z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be a trainer name (lowercase letters, digits, . _ -)'),
      z.array(z.string().min(1)).min(1),
    ])
    .describe(
      'The name of a trainer command registered in keel.config.json `trainers` (its program and arguments, set by the operator). The program runs without a shell in a fresh temporary directory holding `train.csv`, `validation.csv` and `params.json` (with `task`, and for multiclass the `classes` its `probabilities` columns must follow), with a minimal environment; it must write `model.onnx` and `metrics.json` there (see `examples/byo-trainer/`). An argv array is refused by the worker (kept in the schema so old runs replay).',
    ),
  params: z.record(z.string(), z.unknown()).default({}).describe('Passed to the program in params.json; keel does not interpret them.'),
  timeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(24 * 3600)
    .default(3600)
    .describe('The program is killed after this many seconds.'),
}).describe(
  'your own program, in any language, trains on the prepared splits and writes an ONNX model, which keel checks against the feature contract',
);
export type CommandTrainerSpec = z.infer<typeof commandTrainerSchema>;

export const gbdtTrainerSchema = strictObject({
  kind: z.literal('gbdt'),
  params: gbdtParamsSchema.describe(
    "Hyperparameters; `objective` must equal the pipeline's `task`. Defaults follow LightGBM's where the meaning is the same.",
  ),
  threads: z
    .number()
    .int()
    .min(1)
    .max(16)
    .default(1)
    .describe(
      'Threads per training activity (results are byte-identical whatever the count). One thread runs the WebAssembly kernels; more threads share the work in JavaScript, which pays off only with several free cores.',
    ),
  checkpointEvery: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(10)
    .describe('A checkpoint goes to the artifact store every this many trees, so a retried activity resumes.'),
  heartbeatTimeoutSeconds: z
    .number()
    .int()
    .min(2)
    .max(3600)
    .default(30)
    .describe(
      'A worker that stops heartbeating for this long is taken for dead and the activity is retried (from the last checkpoint). Heartbeats reach the server at most every ~80 % of it.',
    ),
}).describe("keel's histogram gradient-boosted trees, for every task");
export type GbdtTrainerSpec = z.infer<typeof gbdtTrainerSchema>;

export const trainerSpecSchema = z
  .discriminatedUnion('kind', [logisticTrainerSchema, linearRegressionTrainerSchema, gbdtTrainerSchema, commandTrainerSchema])
  .describe('How the model is learnt; `kind` picks the trainer, which must learn the `task`.');
export type TrainerSpec = z.infer<typeof trainerSpecSchema>;

/** The tasks each trainer can learn. */
export const trainerTasks: Record<TrainerSpec['kind'], readonly ModelTask[]> = {
  'logistic-regression': ['binary', 'multiclass'],
  'linear-regression': ['regression'],
  gbdt: ['binary', 'multiclass', 'regression'],
  command: ['binary', 'multiclass', 'regression'],
};

/**
 * The Evaluator's blessing, on the test split. `min` and `max` are absolute thresholds on any
 * metric of the task (e.g. `{"min": {"r2": 0.6}, "max": {"rmse": 45000}}`); `minRocAuc` is the
 * binary shorthand for `min.rocAuc`. Then the candidate is compared with the current production
 * version, scored on the same rows, on `compareMetric` (default: ROC AUC, macro F1 or RMSE by
 * task): it may be worse by at most `maxDropVsProduction` — an absolute difference for metrics
 * where higher is better (AUC, accuracy, F1, R², all on a fixed scale), a fraction of
 * production's value for error metrics (RMSE, MAE, log loss, whose scale is the target's).
 */
export const gateSpecSchema = strictObject({
  minRocAuc: z.number().min(0).max(1).optional().describe('Binary shorthand for `min.rocAuc`.'),
  min: z
    .record(z.string(), z.number())
    .default({})
    .describe(
      'Absolute floors on the test split, by metric of the task (binary: `rocAuc`, `accuracy`, `precision`, `recall`, `f1`, `logLoss`; multiclass: `accuracy`, `f1Macro`, `f1Weighted`, `precisionMacro`, `recallMacro`, `precisionWeighted`, `recallWeighted`, `rocAucOvr`, `logLoss`; regression: `rmse`, `mae`, `r2`).',
    ),
  max: z.record(z.string(), z.number()).default({}).describe('Absolute ceilings on the test split, by metric of the task (as `min`).'),
  compareMetric: z
    .string()
    .optional()
    .describe('The metric compared with the production version on the same test split; default `rocAuc`, `f1Macro` or `rmse` by task.'),
  maxDropVsProduction: z
    .number()
    .min(0)
    .max(1)
    .default(0.005)
    .describe(
      "How much worse than production the candidate may be on `compareMetric`: an absolute difference for metrics where higher is better (AUC, accuracy, F1, R²), a fraction of production's value for error metrics (RMSE, MAE, log loss). A production version of another task is not compared.",
    ),
}).describe(
  "The Evaluator's blessing on the test split: a candidate that fails it is neither registered nor deployed (the run ends `rejected`, with the reasons). With no thresholds, it only must not trail production.",
);
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

export const trainingPipelineInputSchema = strictObject({
  model: modelNameSchema,
  dataset: datasetSpecSchema,
  rules: datasetRulesSchema.prefault({}),
  features: z
    .array(featureSpecSchema)
    .min(1)
    .describe(
      'The model inputs, columns of the canonical rows, and how each is encoded (imputation, scaling, clipping, one-hot/ordinal/frequency encoding, date parts); every option and its default per model family: docs/features.md.',
    ),
  featureViews: z
    .array(z.string().min(1))
    .optional()
    .describe(
      'Feature store views (registered by `keel features apply`) whose features `features` may name next to the row columns: the ingested rows get them by a point-in-time join (each row as of its own timestamp minus the view\'s availability lag), and the model server fills them from the online store by the request\'s entity keys. docs/features.md, "Feature store".',
    ),
  task: modelTaskSchema
    .default('binary')
    .describe(
      'What the model predicts from `target`: `binary` (a 0/1 column; the default), `multiclass` (a column of class names or numbers; classes are the distinct values of the training rows), `regression` (a numeric column).',
    ),
  target: z
    .string()
    .min(1)
    .describe(
      'The label column of the canonical rows: 0/1 (binary), class names or numbers (multiclass: numbers sorted numerically, else in code-unit order), a number (regression). A target no trainer can read (not 0/1 for binary, constant) fails the run at once with a non-retryable TargetError naming the dataset row; missing targets: see `missingTarget`.',
    ),
  missingTarget: z
    .enum(['quarantine', 'fail'])
    .default('quarantine')
    .describe(
      'Rows whose target is missing (null, \'\' or not a finite number) teach a model nothing. `quarantine` (the default) sets them aside at ingest, with the reason `missing target "<target>"`, and trains on the labelled rows; `fail` ends the run with a non-retryable DataValidationError naming the first such source record.',
    ),
  trainer: trainerSpecSchema,
  split: splitSpecSchema.prefault({}),
  gate: gateSpecSchema.prefault({}),
  tuning: tuningSpecSchema.optional().describe("Optional hyperparameter search over the trainer's numeric parameters."),
  deploy: z.boolean().default(true).describe('Deploy the new version once it passed the gate (how: `rollout`); false: register only.'),
  rollout: rolloutSpecSchema
    .prefault({ strategy: 'direct' })
    .describe(
      'How to deploy: `direct` (default) points `production` at the new version at once; `canary` starts the `canaryRollout` workflow (`canary/<model>`) with these settings, which steps traffic to it and promotes or rolls back by itself. The first version of a model (no production yet) is always deployed directly. See docs/serving.md, "Canary rollout".',
    ),
  approval: approvalSpecSchema
    .prefault({})
    .describe(
      'Human approval: with `required`, the pipeline waits (up to `timeout`, then `onTimeout`) for a person to approve or reject the registered version before it deploys or starts a rollout. See docs/approval.md.',
    ),
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
      ctx.addIssue({
        code: 'custom',
        path: ['gate', 'minRocAuc'],
        message: `applies to binary models; for ${task} use gate.min / gate.max (metrics: ${metricNames(task).join(', ')})`,
      });
    }
    for (const bound of ['min', 'max'] as const) {
      for (const name of Object.keys(gate[bound])) checkMetric(name, ['gate', bound, name]);
    }
    if (gate.compareMetric) checkMetric(gate.compareMetric, ['gate', 'compareMetric']);
    if (tuning?.metric) checkMetric(tuning.metric, ['tuning', 'metric']);

    const { params: allowed, budget } = tunableParams[trainer.kind];
    if (tuning?.strategy === 'successive-halving' && !budget) {
      ctx.addIssue({
        code: 'custom',
        path: ['tuning', 'strategy'],
        message: `successive halving needs a budget parameter, which ${trainer.kind} has not`,
      });
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
  })
  // One definition in JSON Schemas that embed it twice (keel.config's pipeline and the monitor's retraining pipeline).
  .meta({ id: 'TrainingPipelineInput' });

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
