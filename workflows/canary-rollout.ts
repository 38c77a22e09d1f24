import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  type BakeState,
  type CanaryContinuation,
  type CanaryDecision,
  type CanaryPhase,
  type CanaryRolloutResult,
  type CanaryStatus,
  type CanaryStepRecord,
  type HealthReport,
  advanceLatencyWatch,
  canaryContinuationSchema,
  canaryPauseSignal,
  canaryPromoteUpdate,
  canaryResumeSignal,
  canaryRollbackSignal,
  canaryRolloutInputSchema,
  canaryStatusQuery,
  finalCanaryStates,
  operatorNoteSchema,
  planCanary,
  rollbackRequestSchema,
  startLatencyWatch,
} from '../src/shared/canary';
import { InvalidRouteErrorType, RouteConflictErrorType, nonRetryableErrorTypes } from '../src/shared/errors';
import { taskQueues } from '../src/shared/task-queues';
import { parseWorkflowInput } from '../src/shared/validation';
import { acceptsUnknownKeys } from './strict-inputs';

/**
 * A rollout outlives database blips: its activities retry until they succeed (backing off to 30 s),
 * except for domain errors (a route that cannot be written), which the workflow handles.
 */
const rollout = proxyActivities<Activities>({
  taskQueue: taskQueues.control,
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes },
});

interface Outcome {
  decision: CanaryDecision;
  health?: HealthReport;
}

/**
 * One model's canary rollout (workflow id `canary/<model>`): for each step, route the step's share
 * of traffic to the candidate, bake (a workflow timer that signals interrupt), compare candidate
 * and baseline health over the step's window, then go on, promote after the last step, or roll
 * back on a breach — by itself. Operators steer it with the `rollback`, `pause` and `resume`
 * signals and the `promote` update, and watch it with the `status` query. Every decision is
 * recorded in `rollout_events`; promotion moves `production` (alias history).
 *
 * A long rollout continues as new (`continueAsNewAfterEvents`, or when the server suggests it) at
 * a step boundary or between two health checks, passing its whole state as `continuation`: the
 * next run resumes exactly there, and answers `status` the same.
 */
export async function canaryRollout(rawInput: unknown, rawContinuation?: unknown): Promise<CanaryRolloutResult> {
  const self = `workflow:${workflowInfo().workflowId}`;
  const iso = () => new Date().toISOString();
  const input = parseWorkflowInput(canaryRolloutInputSchema, rawInput, 'canaryRollout', acceptsUnknownKeys);
  const plan = planCanary(input);
  const continuation =
    rawContinuation === undefined ? undefined : parseWorkflowInput(canaryContinuationSchema, rawContinuation, 'canaryRollout continuation');
  // A continued run takes the state over as it was. This happens before the handlers are set, so
  // messages buffered for this run see the state they are meant for.
  const startedMs = continuation?.startedMs ?? Date.now();
  const status: CanaryStatus = continuation?.status ?? {
    model: input.model,
    candidate: input.candidate,
    baseline: null,
    state: 'starting',
    paused: false,
    step: -1,
    plan,
    weight: null,
    lastHealth: null,
    history: [],
    decision: null,
    startedAt: iso(),
    endedAt: null,
  };
  let rolloutId: string | undefined = continuation?.rolloutId;
  let baseline: number = continuation?.baseline ?? 0;
  let seq = continuation?.seq ?? 0;
  const nextSeq = () => ++seq;
  let rollbackRequest: CanaryDecision | undefined = continuation?.rollbackRequest ?? undefined;
  let promoteRequest: CanaryDecision | undefined = continuation?.promoteRequest ?? undefined;
  /** When the current pause began: the bake clock stops from there. */
  let pausedSinceMs: number | null = continuation?.pausedSinceMs ?? null;
  /** Paused by the `insufficientData: pause` policy: a resume bakes the step again. */
  let heldForData = continuation?.heldForData ?? false;
  /** This run has moved the rollout on (a route, a health check): only then may it continue as new. */
  let progressed = false;

  const ended = () => finalCanaryStates.includes(status.state);
  const deciding = () => status.state === 'promoting' || status.state === 'rolling_back';
  const decide = (action: CanaryDecision['action'], actor: string, reason: string): CanaryDecision => ({ action, actor, reason, at: iso() });
  const interruption = (): Outcome | undefined =>
    rollbackRequest ? { decision: rollbackRequest } : promoteRequest ? { decision: promoteRequest } : undefined;

  const recordEvent = async (kind: string, actor: string, reason: string, extra: { health?: HealthReport } = {}) => {
    const eventSeq = nextSeq();
    await condition(() => rolloutId !== undefined || ended());
    if (rolloutId === undefined) return;
    await rollout.recordRolloutEvent({ rolloutId, seq: eventSeq, kind, actor, reason, ...extra });
  };

  // Handlers first, so messages sent right after the start are not lost.
  setHandler(canaryStatusQuery, () => status);
  setHandler(canaryRollbackSignal, (request) => {
    if (ended() || deciding() || rollbackRequest) {
      log.info('rollback signal ignored', { state: status.state });
      return;
    }
    const parsed = rollbackRequestSchema.safeParse(request);
    const note = !parsed.success ? {} : typeof parsed.data === 'string' ? { reason: parsed.data } : parsed.data;
    rollbackRequest = decide('rollback', note.actor ?? 'unknown', note.reason || 'rollback requested');
  });
  setHandler(canaryPauseSignal, async (raw) => {
    if (ended() || deciding() || status.paused) return;
    status.paused = true;
    pausedSinceMs = Date.now();
    const note = operatorNoteSchema.safeParse(raw ?? {});
    await recordEvent('paused', (note.success && note.data.actor) || 'unknown', (note.success && note.data.reason) || '');
  });
  setHandler(canaryResumeSignal, async (raw) => {
    if (ended() || !status.paused) return;
    status.paused = false;
    const note = operatorNoteSchema.safeParse(raw ?? {});
    await recordEvent('resumed', (note.success && note.data.actor) || 'unknown', (note.success && note.data.reason) || '');
  });
  setHandler(
    canaryPromoteUpdate,
    async (raw) => {
      const note = operatorNoteSchema.parse(raw ?? {});
      promoteRequest ??= decide('promote', note.actor ?? 'unknown', note.reason || 'promotion requested');
      await condition(ended);
      return status;
    },
    {
      validator: (raw) => {
        operatorNoteSchema.parse(raw ?? {});
        if (ended()) throw new Error(`the rollout has already ended: ${status.state} (${status.decision?.reason ?? ''})`);
        if (rollbackRequest || status.state === 'rolling_back') {
          throw new Error(`a rollback is under way (${rollbackRequest?.reason ?? status.decision?.reason ?? ''})`);
        }
      },
    },
  );

  if (!continuation) {
    let started: { rolloutId: string; baseline: number };
    try {
      started = await rollout.startRollout(input);
    } catch (error) {
      const route = routeError(error);
      if (!route) throw error;
      throw ApplicationFailure.nonRetryable(`cannot start the canary rollout of ${input.model}@${input.candidate}: ${route.message}`, route.type);
    }
    rolloutId = started.rolloutId;
    baseline = started.baseline;
    status.baseline = baseline;
    progressed = true;
  }
  const baselineFrom = new Date(startedMs - input.baselineLookbackSeconds * 1000).toISOString();
  const label = (phase: CanaryPhase) => `${phase.percent}%${phase.shadow ? ' shadow' : ''}`;

  const continueAsNewDue = () => {
    const info = workflowInfo();
    return progressed && (info.continueAsNewSuggested || info.historyLength >= input.continueAsNewAfterEvents);
  };

  /**
   * Continues as new when the history has grown enough, unless a decision is pending (the rollout
   * ends instead). Handlers still running (a pause recording its event) finish first; messages
   * that arrive while the run closes are delivered to this run before it decides (the server
   * refuses to close a run with unhandled messages), so they travel in the continuation.
   */
  async function continueAsNewIfDue(bake: BakeState | null): Promise<void> {
    if (!continueAsNewDue() || interruption()) return;
    await condition(() => allHandlersFinished() || interruption() !== undefined);
    if (interruption()) return;
    const next: CanaryContinuation = {
      rolloutId: rolloutId!,
      baseline,
      startedMs,
      seq,
      status,
      rollbackRequest: rollbackRequest ?? null,
      promoteRequest: promoteRequest ?? null,
      pausedSinceMs,
      heldForData,
      bake,
    };
    log.info('canary rollout continues as new', { historyLength: workflowInfo().historyLength, step: status.step, baking: bake !== null });
    await continueAsNew<typeof canaryRollout>(rawInput, next);
  }

  /**
   * Bakes one step: waits (timers that signals interrupt), checks health every
   * `checkEverySeconds`, and returns an outcome that ends the rollout, or undefined when the step
   * passed. While paused the clock stops and nothing is decided automatically.
   */
  async function bake(index: number, phase: CanaryPhase, record: CanaryStepRecord, clock: BakeState): Promise<Outcome | undefined> {
    const bakeMs = phase.bakeSeconds * 1000;
    const extendMs = (input.insufficientData.extendSeconds ?? phase.bakeSeconds) * 1000;
    const checkMs = input.checkEverySeconds * 1000;
    const step = `step ${index + 1}/${plan.length} (${label(phase)})`;
    for (;;) {
      const interrupted = interruption();
      if (interrupted) {
        record.outcome = 'interrupted';
        return interrupted;
      }
      await continueAsNewIfDue(clock);
      if (interruption()) continue;
      if (status.paused) {
        await condition(() => !status.paused || interruption() !== undefined || continueAsNewDue());
        if (status.paused) continue;
        const now = Date.now();
        const pausedFor = now - Math.max(pausedSinceMs ?? now, clock.fromMs);
        pausedSinceMs = null;
        clock.dueMs += pausedFor;
        clock.limitMs += pausedFor;
        if (heldForData) {
          heldForData = false;
          clock.dueMs = now + bakeMs;
          clock.limitMs = clock.dueMs + extendMs;
        }
        continue;
      }
      const now = Date.now();
      const wakeAt = Math.min(now < clock.dueMs ? clock.dueMs : clock.limitMs, now + checkMs);
      if (wakeAt > now) {
        await condition(() => status.paused || interruption() !== undefined || continueAsNewDue(), wakeAt - now);
        if (status.paused || interruption() || continueAsNewDue()) continue;
      }
      const to = Date.now();
      const health = await rollout.compareRolloutHealth({
        model: input.model,
        baseline,
        candidate: input.candidate,
        shadow: phase.shadow,
        from: new Date(clock.fromMs).toISOString(),
        to: new Date(to).toISOString(),
        baselineFrom,
        latencyFrom: new Date(clock.latency.fromMs).toISOString(),
        latencyBreaches: clock.latency.breaches,
        health: input.health,
      });
      progressed = true;
      clock.latency = advanceLatencyWatch(clock.latency, health, to);
      status.lastHealth = health;
      record.health = health;
      if (status.paused || interruption()) continue;
      if (health.verdict === 'breach') {
        record.outcome = 'breach';
        return { decision: decide('rollback', self, `${step}: ${health.reasons.join('; ')}`), health };
      }
      if (to < clock.dueMs) continue;
      if (health.verdict === 'healthy') {
        record.outcome = 'passed';
        await recordEvent('step_passed', self, `${step}: healthy`, { health });
        return undefined;
      }
      // Too little traffic, or a latency breach not yet confirmed: keep checking until the limit.
      if (to < clock.limitMs) continue;
      const why = `${step}: ${health.reasons.join('; ')} after ${Math.round((to - clock.fromMs) / 1000)} s`;
      if (input.insufficientData.action === 'rollback') {
        record.outcome = 'insufficient_data';
        const what = health.verdict === 'unconfirmed' ? 'could not confirm or clear a latency breach in time' : 'too little traffic to judge';
        return { decision: decide('rollback', self, `${what} ${why}`), health };
      }
      if (input.insufficientData.action === 'proceed') {
        record.outcome = 'proceeded';
        await recordEvent('step_passed', self, `proceeding without a verdict (policy): ${why}`, { health });
        return undefined;
      }
      status.paused = true;
      pausedSinceMs = to;
      heldForData = true;
      await recordEvent('paused', self, `waiting for an operator (policy): ${why}`, { health });
    }
  }

  let outcome: Outcome | undefined;
  let resumedBake = continuation?.bake ?? null;
  for (let i = resumedBake ? status.step : status.step + 1; i < plan.length && !outcome; i++) {
    const phase = plan[i];
    let record: CanaryStepRecord;
    let clock: BakeState;
    if (resumedBake) {
      record = status.history.at(-1)!;
      clock = resumedBake;
      resumedBake = null;
    } else {
      // Between two steps: hold while paused; this is where a long rollout usually continues as new.
      for (;;) {
        await continueAsNewIfDue(null);
        if (!(i > 0 && status.paused) || interruption()) break;
        await condition(() => !status.paused || interruption() !== undefined || continueAsNewDue());
      }
      if (i > 0 && (outcome = interruption())) break;
      status.step = i;
      status.state = phase.shadow ? 'shadow' : 'canary';
      try {
        await rollout.setRolloutRoute({
          rolloutId: rolloutId!,
          seq: nextSeq(),
          model: input.model,
          baseline,
          candidate: input.candidate,
          percent: phase.percent,
          shadow: phase.shadow,
          actor: self,
          reason: `canary step ${i + 1}/${plan.length}: ${label(phase)}`,
        });
      } catch (error) {
        const route = routeError(error);
        if (!route) throw error;
        outcome = { decision: decide('rollback', self, `step ${i + 1}/${plan.length} (${label(phase)}) could not be routed: ${route.message}`) };
        break;
      }
      progressed = true;
      status.weight = { percent: phase.percent, shadow: phase.shadow };
      record = { step: i, percent: phase.percent, shadow: phase.shadow, startedAt: iso() };
      status.history.push(record);
      const fromMs = Date.now();
      const dueMs = fromMs + phase.bakeSeconds * 1000;
      clock = {
        fromMs,
        dueMs,
        limitMs: dueMs + (input.insufficientData.extendSeconds ?? phase.bakeSeconds) * 1000,
        latency: startLatencyWatch(fromMs, input.health),
      };
    }
    outcome = await bake(i, phase, record, clock);
    record.endedAt = iso();
  }
  outcome ??= interruption() ?? { decision: decide('promote', self, `healthy at every step (${plan.map(label).join(', ')})`) };

  let { decision } = outcome;
  const finish = (d: CanaryDecision, health?: HealthReport) => {
    status.decision = d;
    status.state = d.action === 'promote' ? 'promoting' : 'rolling_back';
    return rollout.finishRollout({
      rolloutId: rolloutId!,
      seq: nextSeq(),
      model: input.model,
      candidate: input.candidate,
      action: d.action,
      actor: d.actor,
      reason: `canary ${input.model}@${input.candidate}: ${d.reason}`,
      health,
    });
  };
  try {
    await finish(decision, outcome.health);
  } catch (error) {
    const route = routeError(error);
    if (decision.action !== 'promote' || !route) throw error;
    // Production moved under the rollout, or the route is gone: it cannot be promoted any more.
    decision = decide('rollback', self, `promotion refused: ${route.message}`);
    await finish(decision);
  }
  status.state = decision.action === 'promote' ? 'promoted' : 'rolled_back';
  status.paused = false;
  status.weight = null;
  status.endedAt = iso();
  log.info('canary rollout ended', { model: input.model, candidate: input.candidate, state: status.state, reason: decision.reason });
  await condition(allHandlersFinished);
  return {
    model: input.model,
    candidate: input.candidate,
    baseline,
    plan,
    history: status.history,
    outcome: status.state === 'promoted' ? 'promoted' : 'rolled_back',
    decision,
  };
}

/** A non-retryable route error from an activity (the route cannot be written as asked), or undefined. */
function routeError(error: unknown): { type: string; message: string } | undefined {
  if (!(error instanceof ActivityFailure) || !(error.cause instanceof ApplicationFailure)) return undefined;
  const { type, message } = error.cause;
  return type === RouteConflictErrorType || type === InvalidRouteErrorType ? { type, message } : undefined;
}
