import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  type CanaryDecision,
  type CanaryPhase,
  type CanaryRolloutResult,
  type CanaryStatus,
  type CanaryStepRecord,
  type HealthReport,
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
} from '../src/shared/canary';
import { InvalidRouteErrorType, RouteConflictErrorType, nonRetryableErrorTypes } from '../src/shared/errors';
import { taskQueues } from '../src/shared/task-queues';
import { parseWorkflowInput } from '../src/shared/validation';

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
 */
export async function canaryRollout(rawInput: unknown): Promise<CanaryRolloutResult> {
  const self = `workflow:${workflowInfo().workflowId}`;
  const iso = () => new Date().toISOString();
  const startedMs = Date.now();
  const status: CanaryStatus = {
    model: '',
    candidate: 0,
    baseline: null,
    state: 'starting',
    paused: false,
    step: -1,
    plan: [],
    weight: null,
    lastHealth: null,
    history: [],
    decision: null,
    startedAt: iso(),
    endedAt: null,
  };
  let rolloutId: string | undefined;
  let seq = 0;
  const nextSeq = () => ++seq;
  let rollbackRequest: CanaryDecision | undefined;
  let promoteRequest: CanaryDecision | undefined;
  /** Paused by the `insufficientData: pause` policy: a resume bakes the step again. */
  let heldForData = false;

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

  const input = parseWorkflowInput(canaryRolloutInputSchema, rawInput, 'canaryRollout');
  const plan = planCanary(input);
  Object.assign(status, { model: input.model, candidate: input.candidate, plan });

  let started: { rolloutId: string; baseline: number };
  try {
    started = await rollout.startRollout(input);
  } catch (error) {
    const route = routeError(error);
    if (!route) throw error;
    throw ApplicationFailure.nonRetryable(`cannot start the canary rollout of ${input.model}@${input.candidate}: ${route.message}`, route.type);
  }
  rolloutId = started.rolloutId;
  const baseline = started.baseline;
  status.baseline = baseline;
  const baselineFrom = new Date(startedMs - input.baselineLookbackSeconds * 1000).toISOString();
  const label = (phase: CanaryPhase) => `${phase.percent}%${phase.shadow ? ' shadow' : ''}`;

  /**
   * Bakes one step: waits (timers that signals interrupt), checks health every
   * `checkEverySeconds`, and returns an outcome that ends the rollout, or undefined when the step
   * passed. While paused the clock stops and nothing is decided automatically.
   */
  async function bake(index: number, phase: CanaryPhase, record: CanaryStepRecord): Promise<Outcome | undefined> {
    const from = Date.now();
    const bakeMs = phase.bakeSeconds * 1000;
    const extendMs = (input.insufficientData.extendSeconds ?? phase.bakeSeconds) * 1000;
    const checkMs = input.checkEverySeconds * 1000;
    let due = from + bakeMs;
    let limit = due + extendMs;
    const step = `step ${index + 1}/${plan.length} (${label(phase)})`;
    for (;;) {
      const interrupted = interruption();
      if (interrupted) {
        record.outcome = 'interrupted';
        return interrupted;
      }
      if (status.paused) {
        const pausedAt = Date.now();
        await condition(() => !status.paused || interruption() !== undefined);
        const pausedFor = Date.now() - pausedAt;
        due += pausedFor;
        limit += pausedFor;
        if (heldForData && !status.paused) {
          heldForData = false;
          due = Date.now() + bakeMs;
          limit = due + extendMs;
        }
        continue;
      }
      const now = Date.now();
      const wakeAt = Math.min(now < due ? due : limit, now + checkMs);
      if (wakeAt > now) {
        await condition(() => status.paused || interruption() !== undefined, wakeAt - now);
        if (status.paused || interruption()) continue;
      }
      const to = Date.now();
      const health = await rollout.compareRolloutHealth({
        model: input.model,
        baseline,
        candidate: input.candidate,
        shadow: phase.shadow,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        baselineFrom,
        health: input.health,
      });
      status.lastHealth = health;
      record.health = health;
      if (status.paused || interruption()) continue;
      if (health.verdict === 'breach') {
        record.outcome = 'breach';
        return { decision: decide('rollback', self, `${step}: ${health.reasons.join('; ')}`), health };
      }
      if (to < due) continue;
      if (health.verdict === 'healthy') {
        record.outcome = 'passed';
        await recordEvent('step_passed', self, `${step}: healthy`, { health });
        return undefined;
      }
      if (to < limit) continue;
      const why = `${step}: ${health.reasons.join('; ')} after ${Math.round((to - from) / 1000)} s`;
      if (input.insufficientData.action === 'rollback') {
        record.outcome = 'insufficient_data';
        return { decision: decide('rollback', self, `too little traffic to judge ${why}`), health };
      }
      if (input.insufficientData.action === 'proceed') {
        record.outcome = 'proceeded';
        await recordEvent('step_passed', self, `proceeding without enough data (policy): ${why}`, { health });
        return undefined;
      }
      status.paused = true;
      heldForData = true;
      await recordEvent('paused', self, `waiting for an operator (policy): ${why}`, { health });
    }
  }

  let outcome: Outcome | undefined;
  for (let i = 0; i < plan.length && !outcome; i++) {
    const phase = plan[i];
    if (i > 0 && status.paused) await condition(() => !status.paused || interruption() !== undefined);
    if (i > 0 && (outcome = interruption())) break;
    status.step = i;
    status.state = phase.shadow ? 'shadow' : 'canary';
    try {
      await rollout.setRolloutRoute({
        rolloutId,
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
    status.weight = { percent: phase.percent, shadow: phase.shadow };
    const record: CanaryStepRecord = { step: i, percent: phase.percent, shadow: phase.shadow, startedAt: iso() };
    status.history.push(record);
    outcome = await bake(i, phase, record);
    record.endedAt = iso();
  }
  outcome ??= { decision: decide('promote', self, `healthy at every step (${plan.map(label).join(', ')})`) };

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
