import {
  ActivityFailure,
  ApplicationFailure,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  proxyActivities,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import { canaryRollbackSignal } from '../src/shared/canary';
import { DataValidationErrorType, InvalidInputErrorType, nonRetryableErrorTypes } from '../src/shared/errors';
import { monitorInputSchema, monitorWindow, recentDataPipeline, type MonitorActions, type MonitorInput } from '../src/shared/monitoring';
import type { DriftReportSummary } from '../src/shared/pipeline-result';
import { taskQueues, workflowIds } from '../src/shared/task-queues';
import { parseWorkflowInput } from '../src/shared/validation';
import { deliverAlerts } from './deliver-alerts';
import type { trainingPipeline } from './training-pipeline';
import { acceptsUnknownKeys } from './strict-inputs';

const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes };

/** Building a version's drift reference reads its training data: the training queue, heartbeating. */
const heavy = proxyActivities<Activities>({ taskQueue: taskQueues.train, startToCloseTimeout: '30m', heartbeatTimeout: '2m', retry });
const light = proxyActivities<Activities>({ taskQueue: taskQueues.control, startToCloseTimeout: '5m', retry });

/** Set by Temporal on workflows a Schedule starts: the nominal time (also for backfills of the past). */
const scheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/**
 * Watches a served model: per run (started by a Schedule, by hand with an explicit window, or in
 * a loop that continues as new), one report over a window of the prediction log — data and
 * prediction drift against the version's training data, live performance from ground truth —
 * then acts by policy: signal `rollback` to an active canary whose candidate breached, start
 * `trainingPipeline` on the recent data after sustained drift, and always notify (webhooks,
 * retried with backoff, deduplicated per incident, every alert stored).
 */
export async function monitor(rawInput: unknown): Promise<DriftReportSummary> {
  const input = parseWorkflowInput(monitorInputSchema, rawInput, 'monitor', acceptsUnknownKeys);
  if (!input.loop) return check(input, nominalTime());

  const loop = input.loop;
  let last: DriftReportSummary | undefined;
  for (let i = 0; i < loop.iterationsPerRun; i++) {
    const iteration = loop.completed + i;
    last = await check(input, new Date(), iteration);
    if (loop.maxIterations !== undefined && iteration + 1 >= loop.maxIterations) return last;
    await sleep(loop.everySeconds * 1000);
  }
  // Bounded history: the next checks run in a fresh execution of the same workflow id.
  return continueAsNew<typeof monitor>({ ...input, loop: { ...loop, completed: loop.completed + loop.iterationsPerRun } });
}

/**
 * The end of the window, fixed for the run (so retries see the same rows and incident keys): when
 * a Schedule started the run late — a backfill, or a catch-up after an outage — its nominal time,
 * so the run monitors the window it stands for; otherwise the run's start (a live scheduled or
 * triggered run starts within moments of its nominal time, which Temporal truncates to the second).
 */
function nominalTime(): Date {
  const started = workflowInfo().runStartTime;
  const scheduled = workflowInfo().typedSearchAttributes.get(scheduledStartTime);
  if (scheduled && started.getTime() - new Date(scheduled).getTime() > LATE_START_MS) return new Date(scheduled);
  return started;
}

/** A scheduled run that starts this long after its nominal time is a backfill or a catch-up. */
const LATE_START_MS = 60_000;

async function check(input: MonitorInput, end: Date, iteration?: number): Promise<DriftReportSummary> {
  const info = workflowInfo();
  const window = monitorWindow(input, end);
  const runKey = `${info.workflowId}/${info.runId}${iteration === undefined ? '' : `/${iteration}`}`;

  let outcome: Awaited<ReturnType<Activities['computeMonitorReport']>>;
  try {
    const { version } = await heavy.prepareDriftReference({ model: input.model, window });
    outcome = await light.computeMonitorReport({ input, window, version, runKey });
  } catch (error) {
    // A monitor that cannot run as configured (reference from another schema, no model) says so
    // to the webhooks, then fails without retrying.
    const failure = domainFailure(error);
    if (!failure) throw error;
    const alerts = await light.recordMonitorFailure({
      model: input.model,
      error: failure.message,
      at: window.end,
      notifications: input.notifications,
    });
    await deliverAlerts(input.notifications, alerts);
    throw ApplicationFailure.nonRetryable(`monitor ${input.model}: ${failure.message}`, failure.type);
  }
  const report = outcome.report;
  const actions: MonitorActions = {};

  // Rollback: the candidate of an active canary shows concept drift on its own predictions.
  if (input.policy.rollback.enabled && outcome.canary?.breach) {
    const workflowId = workflowIds.canary(input.model);
    const reason = `monitor report ${report.reportId}: candidate v${outcome.canary.candidate} ${outcome.canary.reasons.join('; ')}`;
    const rollback = { workflowId, candidate: outcome.canary.candidate, reason };
    try {
      await getExternalWorkflowHandle(workflowId).signal(canaryRollbackSignal, { actor: `workflow:${info.workflowId}`, reason });
      actions.rollback = { ...rollback, signalled: true };
    } catch (error) {
      actions.rollback = { ...rollback, signalled: false, error: (error as Error).message };
    }
  }

  // Retraining: drift lasted `afterConsecutive` reports; train on the data of their period.
  const retrain = input.policy.retrain;
  if (retrain.enabled && retrain.pipeline && outcome.streak.consecutive >= retrain.afterConsecutive) {
    const workflowId = workflowIds.training(input.model, `drift-${report.reportId}`);
    const period = outcome.streak.period;
    const pipeline = period ? recentDataPipeline(retrain.pipeline, period) : retrain.pipeline;
    const started = { workflowId, period, consecutive: outcome.streak.consecutive };
    try {
      // Abandoned by this run: training (and its canary) outlive the monitor.
      await startChild<typeof trainingPipeline>('trainingPipeline', {
        workflowId,
        taskQueue: taskQueues.control,
        args: [pipeline],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
      actions.retrain = { ...started, started: true };
    } catch (error) {
      const already = error instanceof WorkflowExecutionAlreadyStartedError;
      actions.retrain = { ...started, started: already, ...(already ? {} : { error: (error as Error).message }) };
    }
  }

  const alerts = [...report.alerts];
  if (actions.rollback || actions.retrain) {
    alerts.push(
      ...(await light.recordMonitorActions({
        reportId: report.reportId,
        model: input.model,
        version: report.version,
        actions,
        notifications: input.notifications,
      })),
    );
  }
  actions.deliveries = await deliverAlerts(input.notifications, alerts);
  log.info('monitor report', {
    reportId: report.reportId,
    status: report.status,
    findings: report.findings,
    actions: Object.keys(actions),
  });
  return { ...report, alerts, actions };
}

function domainFailure(error: unknown): { message: string; type: string } | null {
  if (!(error instanceof ActivityFailure) || !(error.cause instanceof ApplicationFailure)) return null;
  const type = error.cause.type;
  if (type !== DataValidationErrorType && type !== InvalidInputErrorType) return null;
  return { message: error.cause.message, type };
}
