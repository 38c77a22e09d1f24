import { z } from 'zod';
import { InvalidInputError } from './errors';
import { type AlertSeverity, notificationsConfigSchema } from './notifications';
import type { ModelTask } from './model-contract';
import { modelNameSchema } from './names';
import { trainingPipelineInputSchema, type TrainingPipelineInput } from './pipeline-input';
import { strictObject } from './strict';

/**
 * The monitor's input and everything it embeds: the drift check's configuration, live
 * performance, notifications and the policy that decides what the monitor does about a finding.
 * Pure zod (bundled into the workflow sandbox): the `monitor` workflow validates its input with
 * these schemas, keel.config.json's `monitor` section is checked by them, and src/monitoring and
 * src/notify re-export the drift and notification parts. docs/monitoring.md explains every field.
 */

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD');
const isoDateTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 time, e.g. 2001-02-01T00:00:00Z' });

// ---------------------------------------------------------------------------------------------
// Drift check
// ---------------------------------------------------------------------------------------------

/*
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

export const columnDriftOverrideSchema = strictObject({
  method: z
    .union([z.literal('auto'), driftMethodSchema])
    .optional()
    .describe("The statistic that decides drift for this column ('auto': by type and reference size)."),
  threshold: z
    .number()
    .positive()
    .optional()
    .describe('p-value (ks, chisquare, z) below which, or distance (others) from which, the column drifts.'),
  kind: z
    .enum(['numeric', 'categorical'])
    .optional()
    .describe("Compare as this kind: 'categorical' reads numbers as categories (by value)."),
  ignore: z.boolean().optional().describe('Leave the column out (not compared, not counted in the dataset share).'),
})
  .superRefine((column, ctx) => {
    if (
      column.threshold !== undefined &&
      column.method &&
      column.method !== 'auto' &&
      pValueMethods.includes(column.method) &&
      column.threshold >= 1
    ) {
      ctx.addIssue({ code: 'custom', path: ['threshold'], message: `a p-value threshold for ${column.method} must be below 1` });
    }
  })
  .describe('How one column is compared, overriding the defaults.');
export type ColumnDriftOverride = z.infer<typeof columnDriftOverrideSchema>;

export const driftConfigSchema = strictObject({
  minRows: z
    .number()
    .int()
    .min(1)
    .default(100)
    .describe('Fewer current rows than this give an "insufficient data" result, never an alarm.'),
  unknownShare: z
    .number()
    .min(0)
    .max(1)
    .default(0.05)
    .describe(
      "A categorical input whose share of logged values outside the model's training categories (after canonicalisation) exceeds this is an `unknown_categories` finding.",
    ),
  smallReferenceRows: z
    .number()
    .int()
    .min(1)
    .default(1000)
    .describe('References with at most this many present values are compared by tests, larger ones by distances.'),
  thresholds: strictObject(
    Object.fromEntries(
      driftMethods.map((m) => [
        m,
        z
          .number()
          .positive()
          .optional()
          .describe(
            `${pValueMethods.includes(m) ? 'p-value below which' : 'distance from which'} a column drifts (default ${defaultDriftThresholds[m]}).`,
          ),
      ]),
    ) as Record<DriftMethod, z.ZodOptional<z.ZodNumber>>,
  )
    .default({} as Record<DriftMethod, number | undefined>)
    .describe('Per-method thresholds, for columns without their own.'),
  datasetDriftShare: z
    .number()
    .gt(0)
    .max(1)
    .default(0.5)
    .describe('Dataset-level drift when at least this share of the compared feature columns drift.'),
  maxMissingShareIncrease: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe('Also flag a column whose share of missing values rose by more than this (absolute), e.g. 0.1.'),
  statistics: z
    .enum(['all', 'selected'])
    .default('all')
    .describe("'all' computes every applicable statistic per column for the report; 'selected' only the deciding one."),
  columns: z.record(z.string(), columnDriftOverrideSchema).default({}).describe('Per-column overrides, by column name.'),
  prediction: columnDriftOverrideSchema.optional().describe('Override for the prediction column.'),
}).superRefine((config, ctx) => {
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

// ---------------------------------------------------------------------------------------------
// Live performance (src/monitoring/live-performance.ts)
// ---------------------------------------------------------------------------------------------

/**
 * The live metrics the monitor can judge, per model task. ROC AUC is threshold-free; accuracy and
 * F1 use the model's own `label`; macro F1 averages the classes present in the window's labels and
 * predictions (sklearn's default); RMSE and MAE compare the logged `prediction` with the observed value.
 */
export const livePerformanceMetrics = {
  binary: ['rocAuc', 'accuracy', 'f1'],
  multiclass: ['f1Macro', 'accuracy'],
  regression: ['rmse', 'mae'],
} as const satisfies Record<ModelTask, readonly string[]>;
export const performanceMetrics = ['rocAuc', 'accuracy', 'f1', 'f1Macro', 'rmse', 'mae'] as const;
export type PerformanceMetricName = (typeof performanceMetrics)[number];

export const performanceConfigSchema = strictObject({
  enabled: z.boolean().default(true).describe('Join predictions with ground truth (`POST /v1/feedback`) and judge them; false skips it.'),
  metric: z
    .enum(performanceMetrics)
    .optional()
    .describe(
      "The metric judged; it must be one of the monitored version's task (checked when a report runs, see livePerformanceMetric). Default: the first of the task's (rocAuc, f1Macro, rmse).",
    ),
  minLabelled: z
    .number()
    .int()
    .min(1)
    .default(200)
    .describe('Labelled predictions a version needs before its metric is judged (fewer: `insufficient_labels`).'),
  minValue: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe(
      "Classification: concept drift when the live metric falls below this floor. Default: the gate's `minRocAuc` of the retraining pipeline (metric rocAuc), else no floor.",
    ),
  maxDrop: z
    .number()
    .min(0)
    .max(1)
    .default(0.03)
    .describe("Concept drift when the live metric falls this far (absolute) below the version's test-split metric (classification)."),
  maxIncrease: z
    .number()
    .min(0)
    .max(100)
    .default(0.1)
    .describe(
      "Regression: concept drift when the live RMSE (or MAE) rises above the version's test-split value by more than this fraction (0.1: 10 % worse). Relative, because errors are in the target's units.",
    ),
  maxValue: z
    .number()
    .positive()
    .optional()
    .describe("Regression: concept drift when the live RMSE (or MAE) exceeds this ceiling, in the target's units."),
  confidenceZ: z
    .number()
    .min(0)
    .max(5)
    .default(1.645)
    .describe(
      'Require the fall (or rise) to be this many standard errors beyond the bound (Hanley–McNeil for ROC AUC, binomial for accuracy and F1, a seeded bootstrap for macro F1, the delta method on the mean squared error for RMSE, the standard error of the mean for MAE), so sampling noise on a few hundred labels does not alarm. 0: plain comparison.',
    ),
  labelDelayMinutes: z
    .number()
    .int()
    .min(0)
    .max(60 * 24 * 366)
    .default(0)
    .describe(
      'Labels arrive late: judge the predictions made in the window shifted back by this much ([start − delay, end − delay)), whose labels had time to arrive.',
    ),
  bucketMinutes: z.number().int().min(1).optional().describe('Also report the metric in rolling buckets of this length inside the window.'),
  labelShift: strictObject({
    enabled: z.boolean().default(true).describe('Check for label drift.'),
    maxChange: z.number().min(0).max(1).default(0.02).describe('Smallest move of the positive share that counts (absolute).'),
    maxPValue: z.number().gt(0).max(1).default(0.01).describe('The move must also be significant: a p-value below this.'),
  })
    .prefault({})
    .describe(
      "Label drift: the share of positive labels moved from the version's test split by at least `maxChange` (absolute) with a two-proportion z-test p-value below `maxPValue`.",
    ),
});
export type PerformanceConfig = z.output<typeof performanceConfigSchema>;

/**
 * The metric a report judges for a version of `task`: the configured one, which must belong to
 * the task, or the task's default. Also refuses bounds of the other kind of task (a floor for a
 * regression, a ceiling for a classifier). Throws an InvalidInputError naming the field and value.
 */
export function livePerformanceMetric(config: PerformanceConfig, task: ModelTask): PerformanceMetricName {
  const allowed: readonly PerformanceMetricName[] = livePerformanceMetrics[task];
  if (config.metric !== undefined && !allowed.includes(config.metric)) {
    throw new InvalidInputError(
      `performance.metric "${config.metric}" is not a live metric of a ${task} model (its metrics: ${allowed.join(', ')})`,
    );
  }
  if (task === 'regression' && config.minValue !== undefined) {
    throw new InvalidInputError(
      `performance.minValue ${config.minValue} is a floor for classifiers; a regression model takes performance.maxValue (a ceiling on ${allowed.join('/')})`,
    );
  }
  if (task !== 'regression' && config.maxValue !== undefined) {
    throw new InvalidInputError(
      `performance.maxValue ${config.maxValue} is a ceiling for regression models; a ${task} model takes performance.minValue (a floor)`,
    );
  }
  return config.metric ?? allowed[0];
}

// ---------------------------------------------------------------------------------------------
// Policy: what the monitor does about what it finds
// ---------------------------------------------------------------------------------------------

/**
 * What a report can find: dataset-level data drift, drift in some features (below the dataset
 * share), prediction drift, concept drift (the live metric fell), label drift (the positive rate
 * moved), schema problems (features absent from the logged inputs, or only missing values),
 * unknown categories (a categorical input's share of values outside the model's training
 * categories above `drift.unknownShare`).
 */
export const findingKinds = [
  'data_drift',
  'feature_drift',
  'prediction_drift',
  'concept_drift',
  'label_drift',
  'schema',
  'unknown_categories',
] as const;
export const findingSchema = z.enum(findingKinds);
export type Finding = z.infer<typeof findingSchema>;

/** Findings that make a report's status `drift`. */
export const driftFindings: readonly Finding[] = ['data_drift', 'prediction_drift', 'concept_drift', 'label_drift'];

export const monitorPolicySchema = strictObject({
  rollback: strictObject({ enabled: z.boolean().default(true).describe('Signal the rollback.') })
    .prefault({})
    .describe(
      "During a canary rollout (`canaryRollout`, workflow id `canary/<model>`), signal `rollback` when the candidate's own live performance shows concept drift.",
    ),
  retrain: strictObject({
    enabled: z.boolean().default(false).describe('Start retraining on sustained drift.'),
    afterConsecutive: z.number().int().min(1).max(1000).default(3).describe('Consecutive drifting reports that make drift sustained.'),
    on: z
      .array(findingSchema)
      .min(1)
      .default([...driftFindings])
      .describe('The findings that count as drift here.'),
    pipeline: trainingPipelineInputSchema
      .optional()
      .describe(
        'The pipeline to run, its dataset narrowed to the drifted period (in keel.config.json: leave it out, `npm start` fills it from `pipeline`).',
      ),
  })
    .prefault({})
    .describe(
      "Sustained drift: after `afterConsecutive` consecutive reports of the production version with one of the `on` findings (reports without enough data neither count nor break the run), start `trainingPipeline` on the data of those reports' periods. The run of reports starts again after each retraining.",
    ),
});
export type MonitorPolicy = z.output<typeof monitorPolicySchema>;

// ---------------------------------------------------------------------------------------------
// The monitor's input
// ---------------------------------------------------------------------------------------------

export const periodSchema = strictObject({ from: isoDate, to: isoDate }).refine((p) => p.from < p.to, {
  message: 'from must be before to',
});
export type Period = z.infer<typeof periodSchema>;

const windowSchema = strictObject({ start: isoDateTime, end: isoDateTime }).refine((w) => Date.parse(w.start) < Date.parse(w.end), {
  message: 'start must be before end',
});

/** The settings shared by the workflow input and keel.config.json's `monitor` section. */
export const monitorSettingsShape = {
  windowMinutes: z
    .number()
    .int()
    .min(1)
    .max(60 * 24 * 366)
    .default(60)
    .describe('Logged predictions of the last `windowMinutes` are compared with the training data.'),
  minRows: z
    .number()
    .int()
    .min(1)
    .default(100)
    .describe('Fewer logged predictions than this give an "insufficient data" report, never an alarm (overrides drift.minRows).'),
  maxRows: z
    .number()
    .int()
    .min(1)
    .max(5_000_000)
    .default(200_000)
    .describe('At most this many logged predictions are read per window (an even, deterministic subset beyond).'),
  drift: driftConfigSchema
    .prefault({})
    .describe(
      'Data and prediction drift: logged inputs against the training data, per column, by test or distance (defaults follow Evidently; docs/monitoring.md).',
    ),
  performance: performanceConfigSchema
    .prefault({})
    .describe('Live performance, from predictions joined with their ground truth (`POST /v1/feedback`).'),
  notifications: notificationsConfigSchema.prefault({}).describe('Where alerts go, deduplicated per incident.'),
  policy: monitorPolicySchema
    .prefault({})
    .describe('What the monitor does about what it finds: roll a canary back, retrain on sustained drift.'),
};

export const monitorInputSchema = strictObject({
  model: modelNameSchema,
  ...monitorSettingsShape,
  window: windowSchema
    .optional()
    .describe(
      "An explicit window of the prediction log (replaying history, backfills, tests). Default: the `windowMinutes` before the schedule's nominal time (or the workflow's start).",
    ),
  dataPeriod: periodSchema
    .optional()
    .describe(
      "The period of source data the window's traffic stands for — what a retraining reads. Default: the calendar days (UTC) the window touches.",
    ),
  loop: strictObject({
    everySeconds: z
      .number()
      .int()
      .min(1)
      .max(86_400 * 31),
    iterationsPerRun: z.number().int().min(1).max(1000).default(100),
    maxIterations: z.number().int().min(1).optional(),
    /** Checks done by earlier runs of the chain (set by continue-as-new). */
    completed: z.number().int().min(0).default(0),
  })
    .optional()
    .describe(
      'Long-running variant: check every `everySeconds` in one workflow, continuing as new after `iterationsPerRun` checks (bounded history); stop after `maxIterations` in all, if given.',
    ),
}).superRefine((input, ctx) => {
  if (input.window && input.loop)
    ctx.addIssue({ code: 'custom', path: ['loop'], message: 'an explicit window cannot repeat: give window or loop, not both' });
  const retrain = input.policy.retrain;
  if (retrain.enabled && !retrain.pipeline) {
    ctx.addIssue({
      code: 'custom',
      path: ['policy', 'retrain', 'pipeline'],
      message: 'retraining is enabled but no pipeline is given to run',
    });
  }
  if (retrain.pipeline && retrain.pipeline.model !== input.model) {
    ctx.addIssue({
      code: 'custom',
      path: ['policy', 'retrain', 'pipeline', 'model'],
      message: `the retraining pipeline trains "${retrain.pipeline.model}", the monitor watches "${input.model}"`,
    });
  }
});
export type MonitorInput = z.output<typeof monitorInputSchema>;
export type MonitorRequest = z.input<typeof monitorInputSchema>;

/** The window a run monitors: explicit, or the `windowMinutes` before `end`. */
export function monitorWindow(input: Pick<MonitorInput, 'window' | 'windowMinutes'>, end: Date): { start: string; end: string } {
  if (input.window) return { start: new Date(input.window.start).toISOString(), end: new Date(input.window.end).toISOString() };
  return { start: new Date(end.getTime() - input.windowMinutes * 60_000).toISOString(), end: end.toISOString() };
}

/** The calendar days (UTC) a window touches, as a half-open period. */
export function periodOfWindow(window: { start: string; end: string }): Period {
  const day = 86_400_000;
  const start = Math.floor(Date.parse(window.start) / day) * day;
  const end = Math.ceil(Date.parse(window.end) / day) * day;
  return { from: new Date(start).toISOString().slice(0, 10), to: new Date(Math.max(end, start + day)).toISOString().slice(0, 10) };
}

/**
 * The retraining pipeline for sustained drift: the configured pipeline with its dataset narrowed
 * to `period` — the flights recipe's `period`, or a mapped dataset's `filter` range — under a
 * dataset name that says which period it holds. A dataset without either is read as configured
 * (its source's latest data).
 */
export function recentDataPipeline(pipeline: TrainingPipelineInput, period: Period): TrainingPipelineInput {
  const dataset = pipeline.dataset;
  const name = `${pipeline.model.slice(0, 40)}-${period.from}_${period.to}`;
  if (dataset.recipe === 'flights') return { ...pipeline, dataset: { ...dataset, name, period: { from: period.from, to: period.to } } };
  if (dataset.filter)
    return { ...pipeline, dataset: { ...dataset, name, filter: { ...dataset.filter, from: period.from, to: period.to } } };
  return pipeline;
}

// ---------------------------------------------------------------------------------------------
// What a monitor run reports
// ---------------------------------------------------------------------------------------------

export interface MonitorAlertSummary {
  id: number;
  kind: string;
  severity: AlertSeverity;
  /** False when the incident was already stored (deduplicated: not notified again). */
  created: boolean;
  /** Webhook targets still to deliver to. */
  pending: string[];
}

export interface MonitorActions {
  rollback?: { workflowId: string; candidate: number; signalled: boolean; reason: string; error?: string };
  retrain?: { workflowId: string; period: Period | null; consecutive: number; started: boolean; error?: string };
  alerts?: { id: number; kind: string; created: boolean }[];
  deliveries?: { alertId: number; target: string; status: 'delivered' | 'failed' | 'skipped'; error?: string }[];
}
