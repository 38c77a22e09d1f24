import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { modelNameSchema } from './names';
import { strictObject } from './strict';

/**
 * The canary rollout: its input, its messages (signals, update, query — defined once, used by the
 * workflow, the CLI and tests) and the pure health comparison its activity applies. Pure module:
 * it is bundled into the workflow sandbox. See docs/serving.md, "Canary rollout".
 */

// --- input -----------------------------------------------------------------------------------------

/**
 * When a step is judged. Error rate and p99 latency come from `prediction_log` (the candidate's
 * rows of the step's window against the baseline's); the online metric from `feedback`.
 */
export const canaryHealthSchema = strictObject({
  maxErrorRateIncrease: z
    .number()
    .min(0)
    .max(1)
    .default(0.01)
    .describe(
      "The candidate's error rate may exceed the baseline's by at most this much (absolute: 0.01 = one percentage point). Errors are inference failures on valid input (500s).",
    ),
  maxP99LatencyRatio: z
    .number()
    .min(1)
    .max(1000)
    .default(1.5)
    .describe(
      "The candidate's p99 latency is too slow when it is above this multiple of the baseline's AND more than `p99LatencyToleranceMs` above it: relative alone would fail 0.4 ms against 0.2 ms, absolute alone 105 ms against 100 ms.",
    ),
  p99LatencyToleranceMs: z
    .number()
    .min(0)
    .max(60_000)
    .default(5)
    .describe(
      "The candidate's p99 latency is too slow only when it is also more than this many ms above the baseline's (see `maxP99LatencyRatio`).",
    ),
  p99MinRequests: z
    .number()
    .int()
    .min(1)
    .max(10_000_000)
    .default(500)
    .describe(
      'Predictions each version needs in the latency window before p99s are compared: the p99 of n rows is the ⌈n/100⌉-th largest, so below a few hundred rows one GC pause decides it.',
    ),
  p99WarmupSeconds: z
    .number()
    .min(0)
    .max(86_400)
    .default(10)
    .describe(
      "Latency of a step's first seconds is not judged: the candidate has just been loaded (a fresh ONNX session's first batches are slow) or the route has just changed, which replicas follow within their refresh period. Error rate and accuracy count those rows.",
    ),
  p99ConsecutiveBreaches: z
    .number()
    .int()
    .min(1)
    .max(100)
    .default(2)
    .describe(
      'A latency breach rolls back only when this many consecutive health checks find it, each over traffic that came after the previous one (one slow burst on a busy machine is not a trend).',
    ),
  minRequests: z
    .number()
    .int()
    .min(1)
    .max(10_000_000)
    .default(100)
    .describe(
      'Candidate predictions a step needs before it can pass. Fewer at the end of the bake: the step keeps baking (see `insufficientData`). A breach is declared earlier only when it is already certain: more errors than the allowance at `minRequests` rows.',
    ),
  onlineMetric: strictObject({
    metric: z.literal('accuracy').default('accuracy').describe('The online metric compared.'),
    maxDrop: z
      .number()
      .min(0)
      .max(1)
      .default(0.02)
      .describe("Largest allowed drop of the candidate's accuracy below the baseline's (absolute)."),
    minLabelled: z.number().int().min(1).default(100).describe('Labelled predictions each version needs before accuracy is judged.'),
  })
    .optional()
    .describe(
      "Optional: compare accuracy where ground truth arrived (`POST /v1/feedback`) for the window's predictions. Judged only when both versions have `minLabelled` labelled predictions.",
    ),
});
export type CanaryHealthThresholds = z.output<typeof canaryHealthSchema>;

const percent = z.number().gt(0).max(100);

/** Settings of a rollout, without what it rolls out: also the `rollout` of a trainingPipeline input. */
const canarySettingsShape = {
  steps: z
    .array(percent)
    .min(1)
    .max(20)
    .default([10, 25, 50, 100])
    .describe('Candidate traffic per step, in percent, strictly increasing. After the last step: promote.'),
  bakeSeconds: z
    .number()
    .min(1)
    .max(30 * 86_400)
    .default(300)
    .describe('How long each step bakes before it is judged.'),
  checkEverySeconds: z
    .number()
    .min(1)
    .max(86_400)
    .default(30)
    .describe('Health is also checked this often while a step bakes; a certain breach rolls back early.'),
  health: canaryHealthSchema
    .prefault({})
    .describe(
      "When a step is judged healthy: error rate and p99 latency from the prediction log (the candidate's rows of the step's window against the baseline's), accuracy from feedback.",
    ),
  insufficientData: strictObject({
    extendSeconds: z
      .number()
      .min(0)
      .max(30 * 86_400)
      .optional()
      .describe('How much longer a step keeps baking for data (default: one more bake).'),
    action: z.enum(['rollback', 'proceed', 'pause']).default('rollback').describe('What follows when there is still too little data.'),
  })
    .prefault({})
    .describe(
      'Too few candidate predictions at the end of a bake: keep baking (checking every `checkEverySeconds`) for up to `extendSeconds` more (default: one more bake), then `action`: `rollback` (default — never promote what could not be judged), `proceed` (count the step as passed: for models with little traffic) or `pause` (hold the weight until an operator resumes — which bakes the step again — promotes or rolls back).',
    ),
  shadowFirst: strictObject({
    percent: percent.default(100).describe('Share of the traffic mirrored to the candidate, in percent.'),
    bakeSeconds: z
      .number()
      .min(1)
      .max(30 * 86_400)
      .optional()
      .describe('How long the shadow step bakes (default `bakeSeconds`).'),
  })
    .optional()
    .describe(
      'Start with a shadow step: the baseline answers everything, the candidate scores a mirrored `percent` of it (logged, never returned), judged on error rate and online metric (latency of the low-priority shadow queue is reported, not judged).',
    ),
  baselineLookbackSeconds: z
    .number()
    .min(0)
    .max(30 * 86_400)
    .default(3600)
    .describe(
      "When the baseline has fewer than `minRequests` predictions in a step's window (at 100 % it has none), it is measured from this long before the rollout started to the step's end.",
    ),
};

function checkSteps(settings: { steps: number[] }, ctx: z.RefinementCtx): void {
  for (let i = 1; i < settings.steps.length; i++) {
    if (settings.steps[i] <= settings.steps[i - 1]) {
      ctx.addIssue({
        code: 'custom',
        path: ['steps', i],
        message: `steps must increase strictly (${settings.steps[i - 1]} then ${settings.steps[i]})`,
      });
    }
  }
}

/** `rollout` of a trainingPipeline input: `direct` moves production at once; `canary` starts `canaryRollout`. */
export const rolloutSpecSchema = z.discriminatedUnion('strategy', [
  strictObject({ strategy: z.literal('direct') }).describe('`production` points at the new version at once'),
  strictObject({ strategy: z.literal('canary'), ...canarySettingsShape })
    .superRefine(checkSteps)
    .describe('the `canaryRollout` workflow steps traffic to the new version and promotes or rolls back by itself'),
]);
export type RolloutSpec = z.output<typeof rolloutSpecSchema>;
export type CanarySettings = Omit<Extract<RolloutSpec, { strategy: 'canary' }>, 'strategy'>;

export const canaryRolloutInputSchema = strictObject({
  model: modelNameSchema,
  candidate: z.number().int().positive().describe('The registered version to roll out.'),
  baseline: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('The production version it replaces; default: production when the rollout starts (checked then).'),
  ...canarySettingsShape,
  initiator: z
    .string()
    .max(200)
    .default('unknown')
    .describe('Who asked for it (`workflow:<id>`, `user:<name>`), and why: recorded with the rollout.'),
  reason: z.string().max(2000).default('').describe('Why the rollout was started, recorded with it.'),
  continueAsNewAfterEvents: z
    .number()
    .int()
    .min(10)
    .max(40_000)
    .default(10_000)
    .describe(
      "The rollout continues as new (a fresh run of the same workflow id, carrying its whole state) when its history reaches this many events, or earlier when the server suggests it. Long bakes with frequent health checks would otherwise grow one run's history without bound (Temporal warns at 10 Ki events and ends a run at 50 Ki). Small values are for tests.",
    ),
}).superRefine(checkSteps);
export type CanaryRolloutInput = z.output<typeof canaryRolloutInputSchema>;
export type CanaryRolloutRequest = z.input<typeof canaryRolloutInputSchema>;

/** One step of the plan: a weight (percent), shadow or live, and its bake time. */
export interface CanaryPhase {
  percent: number;
  shadow: boolean;
  bakeSeconds: number;
}

/** The steps a rollout walks through: the optional shadow step, then the live steps. */
export function planCanary(input: CanarySettings): CanaryPhase[] {
  const shadow = input.shadowFirst
    ? [{ percent: input.shadowFirst.percent, shadow: true, bakeSeconds: input.shadowFirst.bakeSeconds ?? input.bakeSeconds }]
    : [];
  return [...shadow, ...input.steps.map((p) => ({ percent: p, shadow: false, bakeSeconds: input.bakeSeconds }))];
}

// --- messages --------------------------------------------------------------------------------------

/** Who asks and why; both optional (the workflow records `unknown` and an empty reason). */
export const operatorNoteSchema = strictObject({ actor: z.string().max(200).optional(), reason: z.string().max(2000).optional() });
export type OperatorNote = z.infer<typeof operatorNoteSchema>;

/** `rollback` takes a reason, as a string or `{ reason, actor }`. */
export const rollbackRequestSchema = z.union([z.string().max(2000), operatorNoteSchema]);
export type RollbackRequest = z.infer<typeof rollbackRequestSchema>;

export type CanaryState = 'starting' | 'shadow' | 'canary' | 'promoting' | 'rolling_back' | 'promoted' | 'rolled_back';
export const finalCanaryStates: readonly CanaryState[] = ['promoted', 'rolled_back'];

export interface CanaryDecision {
  action: 'promote' | 'rollback';
  reason: string;
  actor: string;
  at: string;
}

export interface CanaryStepRecord {
  step: number;
  percent: number;
  shadow: boolean;
  startedAt: string;
  endedAt?: string;
  /** `passed` (healthy), `proceeded` (too little data, policy `proceed`), `breach`, `insufficient_data`, `interrupted` (a signal or update decided). */
  outcome?: 'passed' | 'proceeded' | 'breach' | 'insufficient_data' | 'interrupted';
  /** The last comparison of the step. */
  health?: HealthReport;
}

export interface CanaryStatus {
  model: string;
  candidate: number;
  /** null until the rollout has resolved the production version. */
  baseline: number | null;
  state: CanaryState;
  /** Paused: the weight holds, the bake clock stops, nothing is decided automatically. */
  paused: boolean;
  /** Index into `plan` of the current step, -1 before the first. */
  step: number;
  plan: CanaryPhase[];
  /** The route currently applied: candidate share in percent (mirrored when shadow). */
  weight: { percent: number; shadow: boolean } | null;
  lastHealth: HealthReport | null;
  history: CanaryStepRecord[];
  decision: CanaryDecision | null;
  startedAt: string;
  endedAt: string | null;
}

export type CanaryRolloutResult = Pick<CanaryStatus, 'model' | 'candidate' | 'history' | 'plan'> & {
  baseline: number;
  outcome: 'promoted' | 'rolled_back';
  decision: CanaryDecision;
};

/**
 * Where a rollout stands when it continues as new: the second argument of the next run, which
 * resumes exactly there. Never written by hand; validated all the same, as any workflow argument.
 */
export interface CanaryContinuation {
  /** The `rollouts` row (`<workflowId>/<first runId>`): events and the decision stay on it. */
  rolloutId: string;
  baseline: number;
  /** When the first run started (epoch ms): the baseline's lookback is counted from it. */
  startedMs: number;
  /** The last `rollout_events` number used. */
  seq: number;
  /** The status query's answer, as it was. */
  status: CanaryStatus;
  rollbackRequest: CanaryDecision | null;
  promoteRequest: CanaryDecision | null;
  /** When the current pause began (epoch ms): the bake clock stops from there. */
  pausedSinceMs: number | null;
  /** Paused by the `insufficientData: pause` policy (a resume bakes the step again). */
  heldForData: boolean;
  /** The step `status.step` is baking (its route is written); null: the next step starts. */
  bake: BakeState | null;
}

/** A step's bake clock (epoch ms) and its latency watch. */
export interface BakeState {
  fromMs: number;
  dueMs: number;
  limitMs: number;
  latency: LatencyWatch;
}

const decisionSchema = strictObject({ action: z.enum(['promote', 'rollback']), reason: z.string(), actor: z.string(), at: z.string() });
const epochMs = z.number().nonnegative();
export const canaryContinuationSchema = strictObject({
  rolloutId: z.string().min(1),
  baseline: z.number().int().positive(),
  startedMs: epochMs,
  seq: z.number().int().nonnegative(),
  status: z.custom<CanaryStatus>(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      Array.isArray((value as CanaryStatus).history) &&
      Array.isArray((value as CanaryStatus).plan),
    'must be a canary status (with history and plan)',
  ),
  rollbackRequest: decisionSchema.nullable(),
  promoteRequest: decisionSchema.nullable(),
  pausedSinceMs: epochMs.nullable(),
  heldForData: z.boolean(),
  bake: strictObject({
    fromMs: epochMs,
    dueMs: epochMs,
    limitMs: epochMs,
    latency: strictObject({ fromMs: epochMs, breaches: z.number().int().nonnegative() }),
  }).nullable(),
}) satisfies z.ZodType<CanaryContinuation>;

/** What the rollout is doing now: weights, step, the last health comparison, history. */
export const canaryStatusQuery = defineQuery<CanaryStatus>('status');
/** Roll back now: all traffic to the baseline, the rollout ends. Ignored once promotion started. */
export const canaryRollbackSignal = defineSignal<[RollbackRequest]>('rollback');
/** Hold the current weight: the bake clock stops and nothing is decided automatically. */
export const canaryPauseSignal = defineSignal<[OperatorNote?]>('pause');
export const canaryResumeSignal = defineSignal<[OperatorNote?]>('resume');
/**
 * Promote now, skipping the remaining steps. Rejected (by a synchronous validator) once the
 * rollout has ended or a rollback is under way; acknowledged with the resulting status.
 */
export const canaryPromoteUpdate = defineUpdate<CanaryStatus, [OperatorNote]>('promote');

// --- health comparison -----------------------------------------------------------------------------

/** One version's predictions in a window (from prediction_log and feedback). */
export interface VersionHealth {
  version: number;
  rows: number;
  /** Rows logged with an inference error. */
  errors: number;
  /** errors / rows; null without rows. */
  errorRate: number | null;
  p99LatencyMs: number | null;
  /** Predictions with ground truth, and the accuracy over them (null without any). */
  labelled: number;
  accuracy: number | null;
}

export interface HealthSample {
  candidate: VersionHealth;
  baseline: VersionHealth;
  /** The candidate's window (the step so far) and the baseline's (the same, or widened when it had too few rows). */
  window: { from: string; to: string };
  baselineWindow: { from: string; to: string };
  /** The candidate's rows are shadow predictions. */
  shadow: boolean;
}

export interface HealthCheck {
  name: 'error_rate' | 'p99_latency' | 'online_accuracy';
  /** `unconfirmed`: p99 latency too slow, but in fewer consecutive checks than `p99ConsecutiveBreaches`. */
  status: 'pass' | 'fail' | 'unconfirmed' | 'skipped';
  detail: string;
}

/**
 * Both versions' p99 latency over one window, the same for both: the step's rows after its
 * warm-up and after the last check that found the candidate too slow (see `LatencyWatch`).
 */
export interface LatencySample {
  window: { from: string; to: string };
  candidate: { rows: number; p99LatencyMs: number | null };
  baseline: { rows: number; p99LatencyMs: number | null };
}

/** What a check knows about latency: the sample (null while the step warms up, and in shadow) and the streak so far. */
export interface LatencyEvidence {
  sample: LatencySample | null;
  /** Consecutive earlier checks of this step that found the candidate too slow. */
  breaches: number;
}

export interface HealthReport extends HealthSample {
  /** `unconfirmed`: nothing failed, but a latency breach awaits confirmation by the next check(s). */
  verdict: 'healthy' | 'breach' | 'insufficient_data' | 'unconfirmed';
  /** The failed checks (breach) or why the step cannot be judged yet. */
  reasons: string[];
  checks: HealthCheck[];
  /** The latency window judged (null: none), whether this check found the candidate too slow, and the streak of such checks. */
  latency: { window: { from: string; to: string } | null; slow: boolean; breaches: number };
}

/** Where a step's latency window starts (epoch ms), and how many consecutive checks found the candidate too slow. */
export interface LatencyWatch {
  fromMs: number;
  breaches: number;
}

/** A step's latency watch: the window opens after the warm-up. */
export function startLatencyWatch(stepStartMs: number, thresholds: CanaryHealthThresholds): LatencyWatch {
  return { fromMs: stepStartMs + thresholds.p99WarmupSeconds * 1000, breaches: 0 };
}

/**
 * After a check whose window ended at `checkedAtMs`: when it found the candidate too slow, the
 * next window starts there, so a confirmation is judged on fresh traffic only; otherwise the
 * window keeps growing (more rows, a steadier p99).
 */
export function advanceLatencyWatch(watch: LatencyWatch, report: HealthReport, checkedAtMs: number): LatencyWatch {
  return { fromMs: report.latency.slow ? checkedAtMs : watch.fromMs, breaches: report.latency.breaches };
}
