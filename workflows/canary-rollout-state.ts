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
  type CanaryRolloutInput,
  type CanaryRolloutResult,
  type CanaryStatus,
  type HealthReport,
  type OperatorNote,
  type RollbackRequest,
  canaryPauseSignal,
  canaryPromoteUpdate,
  canaryResumeSignal,
  canaryRollbackSignal,
  canaryStatusQuery,
  finalCanaryStates,
  operatorNoteSchema,
  planCanary,
  rollbackRequestSchema,
} from '../src/shared/canary';
import { InvalidRouteErrorType, RouteConflictErrorType, nonRetryableErrorTypes } from '../src/shared/errors';
import { taskQueues } from '../src/shared/task-queues';

/**
 * A rollout outlives database blips: its activities retry until they succeed (backing off to 30 s),
 * except for domain errors (a route that cannot be written), which the workflow handles.
 */
export const rollout = proxyActivities<Activities>({
  taskQueue: taskQueues.control,
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes },
});

/** The workflow's signature, for continuing as new. */
type CanaryRolloutWorkflow = (rawInput: unknown, rawContinuation?: unknown) => Promise<CanaryRolloutResult>;

/** How a rollout ends: the decision, and the health check behind it when there was one. */
export interface Outcome {
  decision: CanaryDecision;
  health?: HealthReport;
}

/**
 * The state of one run of a canary rollout and what operators do to it: the status the `status`
 * query answers, the rollback, pause, resume and promote messages, the rollout's event record,
 * and continuing as new with the whole state. A continued run takes the state over as it was.
 * `CanaryRolloutRun` adds the steps.
 */
export abstract class CanaryRolloutState {
  protected readonly self = `workflow:${workflowInfo().workflowId}`;
  protected readonly plan: CanaryPhase[];
  protected readonly startedMs: number;
  protected readonly status: CanaryStatus;
  protected readonly baselineFrom: string;
  protected rolloutId: string | undefined;
  protected baseline: number;
  protected seq: number;
  protected rollbackRequest: CanaryDecision | undefined;
  protected promoteRequest: CanaryDecision | undefined;
  /** When the current pause began: the bake clock stops from there. */
  protected pausedSinceMs: number | null;
  /** Paused by the `insufficientData: pause` policy: a resume bakes the step again. */
  protected heldForData: boolean;
  /** This run has moved the rollout on (a route, a health check): only then may it continue as new. */
  protected progressed = false;

  constructor(
    private readonly rawInput: unknown,
    protected readonly input: CanaryRolloutInput,
    protected readonly continuation: CanaryContinuation | undefined,
  ) {
    this.plan = planCanary(input);
    this.startedMs = continuation?.startedMs ?? Date.now();
    this.status = continuation?.status ?? {
      model: input.model,
      candidate: input.candidate,
      baseline: null,
      state: 'starting',
      paused: false,
      step: -1,
      plan: this.plan,
      weight: null,
      lastHealth: null,
      history: [],
      decision: null,
      startedAt: iso(),
      endedAt: null,
    };
    this.rolloutId = continuation?.rolloutId;
    this.baseline = continuation?.baseline ?? 0;
    this.seq = continuation?.seq ?? 0;
    this.rollbackRequest = continuation?.rollbackRequest ?? undefined;
    this.promoteRequest = continuation?.promoteRequest ?? undefined;
    this.pausedSinceMs = continuation?.pausedSinceMs ?? null;
    this.heldForData = continuation?.heldForData ?? false;
    this.baselineFrom = new Date(this.startedMs - input.baselineLookbackSeconds * 1000).toISOString();
  }

  /** Sets the message handlers; first, so messages sent right after the start are not lost. */
  listen(): void {
    setHandler(canaryStatusQuery, () => this.status);
    setHandler(canaryRollbackSignal, (request) => this.requestRollback(request));
    setHandler(canaryPauseSignal, (note) => this.pause(note));
    setHandler(canaryResumeSignal, (note) => this.resume(note));
    setHandler(canaryPromoteUpdate, (note) => this.promote(note), { validator: (note: OperatorNote) => this.validatePromotion(note) });
  }

  // Operator messages ---------------------------------------------------------------------------

  private requestRollback(request: RollbackRequest): void {
    if (this.ended() || this.deciding() || this.rollbackRequest) {
      log.info('rollback signal ignored', { state: this.status.state });
      return;
    }
    const parsed = rollbackRequestSchema.safeParse(request);
    const note = !parsed.success ? {} : typeof parsed.data === 'string' ? { reason: parsed.data } : parsed.data;
    this.rollbackRequest = this.decide('rollback', note.actor ?? 'unknown', note.reason || 'rollback requested');
  }

  private async pause(raw: OperatorNote | undefined): Promise<void> {
    if (this.ended() || this.deciding() || this.status.paused) return;
    this.status.paused = true;
    this.pausedSinceMs = Date.now();
    const note = operatorNoteSchema.safeParse(raw ?? {});
    await this.recordEvent('paused', (note.success && note.data.actor) || 'unknown', (note.success && note.data.reason) || '');
  }

  private async resume(raw: OperatorNote | undefined): Promise<void> {
    if (this.ended() || !this.status.paused) return;
    this.status.paused = false;
    const note = operatorNoteSchema.safeParse(raw ?? {});
    await this.recordEvent('resumed', (note.success && note.data.actor) || 'unknown', (note.success && note.data.reason) || '');
  }

  private async promote(raw: OperatorNote | undefined): Promise<CanaryStatus> {
    const note = operatorNoteSchema.parse(raw ?? {});
    this.promoteRequest ??= this.decide('promote', note.actor ?? 'unknown', note.reason || 'promotion requested');
    await condition(() => this.ended());
    return this.status;
  }

  private validatePromotion(raw: OperatorNote | undefined): void {
    operatorNoteSchema.parse(raw ?? {});
    if (this.ended()) throw new Error(`the rollout has already ended: ${this.status.state} (${this.status.decision?.reason ?? ''})`);
    if (this.rollbackRequest || this.status.state === 'rolling_back') {
      throw new Error(`a rollback is under way (${this.rollbackRequest?.reason ?? this.status.decision?.reason ?? ''})`);
    }
  }

  // Continue-as-new ------------------------------------------------------------------------------

  protected continueAsNewDue(): boolean {
    const info = workflowInfo();
    return this.progressed && (info.continueAsNewSuggested || info.historyLength >= this.input.continueAsNewAfterEvents);
  }

  /**
   * Continues as new when the history has grown enough, unless a decision is pending (the rollout
   * ends instead). Handlers still running (a pause recording its event) finish first; messages
   * that arrive while the run closes are delivered to this run before it decides (the server
   * refuses to close a run with unhandled messages), so they travel in the continuation.
   */
  protected async continueAsNewIfDue(bake: BakeState | null): Promise<void> {
    if (!this.continueAsNewDue() || this.interruption()) return;
    await condition(() => allHandlersFinished() || this.interruption() !== undefined);
    if (this.interruption()) return;
    const next: CanaryContinuation = {
      rolloutId: this.rolloutId!,
      baseline: this.baseline,
      startedMs: this.startedMs,
      seq: this.seq,
      status: this.status,
      rollbackRequest: this.rollbackRequest ?? null,
      promoteRequest: this.promoteRequest ?? null,
      pausedSinceMs: this.pausedSinceMs,
      heldForData: this.heldForData,
      bake,
    };
    log.info('canary rollout continues as new', {
      historyLength: workflowInfo().historyLength,
      step: this.status.step,
      baking: bake !== null,
    });
    await continueAsNew<CanaryRolloutWorkflow>(this.rawInput, next);
  }

  // Helpers --------------------------------------------------------------------------------------

  protected ended(): boolean {
    return finalCanaryStates.includes(this.status.state);
  }

  protected deciding(): boolean {
    return this.status.state === 'promoting' || this.status.state === 'rolling_back';
  }

  /** An operator's pending rollback or promotion, which ends the rollout at the next chance. */
  protected interruption(): Outcome | undefined {
    return this.rollbackRequest ? { decision: this.rollbackRequest } : this.promoteRequest ? { decision: this.promoteRequest } : undefined;
  }

  protected decide(action: CanaryDecision['action'], actor: string, reason: string): CanaryDecision {
    return { action, actor, reason, at: iso() };
  }

  protected nextSeq(): number {
    return ++this.seq;
  }

  protected async recordEvent(kind: string, actor: string, reason: string, extra: { health?: HealthReport } = {}): Promise<void> {
    const eventSeq = this.nextSeq();
    await condition(() => this.rolloutId !== undefined || this.ended());
    if (this.rolloutId === undefined) return;
    await rollout.recordRolloutEvent({ rolloutId: this.rolloutId, seq: eventSeq, kind, actor, reason, ...extra });
  }
}

export const iso = () => new Date().toISOString();
export const label = (phase: CanaryPhase) => `${phase.percent}%${phase.shadow ? ' shadow' : ''}`;

/** A non-retryable route error from an activity (the route cannot be written as asked), or undefined. */
export function routeError(error: unknown): { type: string; message: string } | undefined {
  if (!(error instanceof ActivityFailure) || !(error.cause instanceof ApplicationFailure)) return undefined;
  const { type, message } = error.cause;
  return type === RouteConflictErrorType || type === InvalidRouteErrorType ? { type, message } : undefined;
}
