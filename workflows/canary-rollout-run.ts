import { ApplicationFailure, allHandlersFinished, condition, log } from '@temporalio/workflow';
import {
  type BakeState,
  type CanaryDecision,
  type CanaryPhase,
  type CanaryRolloutResult,
  type CanaryStepRecord,
  type HealthReport,
  advanceLatencyWatch,
  startLatencyWatch,
} from '../src/shared/canary';
import { CanaryRolloutState, type Outcome, iso, label, rollout, routeError } from './canary-rollout-state';

/** A step under way: its record in the status, and its bake clock. */
interface StepInProgress {
  record: CanaryStepRecord;
  clock: BakeState;
}

/**
 * The step machine of a canary rollout: entering a step, baking it, judging each health check,
 * and finishing with a promotion or a rollback.
 */
export class CanaryRolloutRun extends CanaryRolloutState {
  /** Routes nothing yet: records the rollout and its baseline (a continued run has them). */
  async start(): Promise<void> {
    if (this.continuation) return;
    let started: { rolloutId: string; baseline: number };
    try {
      started = await rollout.startRollout(this.input);
    } catch (error) {
      const route = routeError(error);
      if (!route) throw error;
      throw ApplicationFailure.nonRetryable(
        `cannot start the canary rollout of ${this.input.model}@${this.input.candidate}: ${route.message}`,
        route.type,
      );
    }
    this.rolloutId = started.rolloutId;
    this.baseline = started.baseline;
    this.status.baseline = this.baseline;
    this.progressed = true;
  }

  /** Every step in turn (or from the one a continued run was baking), then the decision. */
  async run(): Promise<CanaryRolloutResult> {
    let outcome: Outcome | undefined;
    let resumedBake = this.continuation?.bake ?? null;
    for (let i = resumedBake ? this.status.step : this.status.step + 1; i < this.plan.length && !outcome; i++) {
      let step: StepInProgress | Outcome;
      if (resumedBake) {
        step = { record: this.status.history.at(-1)!, clock: resumedBake };
        resumedBake = null;
      } else {
        step = await this.enterStep(i);
        if ('decision' in step) {
          outcome = step;
          break;
        }
      }
      outcome = await this.bake(i, step);
      step.record.endedAt = iso();
    }
    outcome ??= this.interruption() ?? {
      decision: this.decide('promote', this.self, `healthy at every step (${this.plan.map(label).join(', ')})`),
    };
    return this.finish(outcome);
  }

  // Steps ---------------------------------------------------------------------------------------

  /**
   * Between two steps: holds while paused (where a long rollout usually continues as new), then
   * routes step `i`'s share of traffic to the candidate and starts its bake clock.
   */
  private async enterStep(i: number): Promise<StepInProgress | Outcome> {
    const phase = this.plan[i];
    for (;;) {
      await this.continueAsNewIfDue(null);
      if (!(i > 0 && this.status.paused) || this.interruption()) break;
      await condition(() => !this.status.paused || this.interruption() !== undefined || this.continueAsNewDue());
    }
    const interrupted = i > 0 ? this.interruption() : undefined;
    if (interrupted) return interrupted;
    this.status.step = i;
    this.status.state = phase.shadow ? 'shadow' : 'canary';
    try {
      await rollout.setRolloutRoute({
        rolloutId: this.rolloutId!,
        seq: this.nextSeq(),
        model: this.input.model,
        baseline: this.baseline,
        candidate: this.input.candidate,
        percent: phase.percent,
        shadow: phase.shadow,
        actor: this.self,
        reason: `canary step ${i + 1}/${this.plan.length}: ${label(phase)}`,
      });
    } catch (error) {
      const route = routeError(error);
      if (!route) throw error;
      return {
        decision: this.decide(
          'rollback',
          this.self,
          `step ${i + 1}/${this.plan.length} (${label(phase)}) could not be routed: ${route.message}`,
        ),
      };
    }
    this.progressed = true;
    this.status.weight = { percent: phase.percent, shadow: phase.shadow };
    const record: CanaryStepRecord = { step: i, percent: phase.percent, shadow: phase.shadow, startedAt: iso() };
    this.status.history.push(record);
    const fromMs = Date.now();
    const dueMs = fromMs + phase.bakeSeconds * 1000;
    const clock: BakeState = {
      fromMs,
      dueMs,
      limitMs: dueMs + (this.input.insufficientData.extendSeconds ?? phase.bakeSeconds) * 1000,
      latency: startLatencyWatch(fromMs, this.input.health),
    };
    return { record, clock };
  }

  /**
   * Bakes one step: waits (timers that signals interrupt), checks health every
   * `checkEverySeconds`, and returns an outcome that ends the rollout, or undefined when the step
   * passed. While paused the clock stops and nothing is decided automatically.
   */
  private async bake(index: number, { record, clock }: StepInProgress): Promise<Outcome | undefined> {
    const phase = this.plan[index];
    const checkMs = this.input.checkEverySeconds * 1000;
    for (;;) {
      const interrupted = this.interruption();
      if (interrupted) {
        record.outcome = 'interrupted';
        return interrupted;
      }
      await this.continueAsNewIfDue(clock);
      if (this.interruption()) continue;
      if (this.status.paused) {
        await condition(() => !this.status.paused || this.interruption() !== undefined || this.continueAsNewDue());
        if (!this.status.paused) this.restartClockAfterPause(phase, clock);
        continue;
      }
      const now = Date.now();
      const wakeAt = Math.min(now < clock.dueMs ? clock.dueMs : clock.limitMs, now + checkMs);
      if (wakeAt > now) {
        await condition(() => this.status.paused || this.interruption() !== undefined || this.continueAsNewDue(), wakeAt - now);
        if (this.status.paused || this.interruption() || this.continueAsNewDue()) continue;
      }
      const { health, to } = await this.checkHealth(phase, record, clock);
      if (this.status.paused || this.interruption()) continue;
      const judged = await this.judge(index, record, clock, health, to);
      if (judged !== 'keep baking') return judged;
    }
  }

  /** A resumed step's clock moves on by the pause; a step held for data bakes again from now. */
  private restartClockAfterPause(phase: CanaryPhase, clock: BakeState): void {
    const now = Date.now();
    const pausedFor = now - Math.max(this.pausedSinceMs ?? now, clock.fromMs);
    this.pausedSinceMs = null;
    clock.dueMs += pausedFor;
    clock.limitMs += pausedFor;
    if (this.heldForData) {
      this.heldForData = false;
      clock.dueMs = now + phase.bakeSeconds * 1000;
      clock.limitMs = clock.dueMs + (this.input.insufficientData.extendSeconds ?? phase.bakeSeconds) * 1000;
    }
  }

  /** Compares candidate and baseline over the step so far; the latency watch moves on. */
  private async checkHealth(phase: CanaryPhase, record: CanaryStepRecord, clock: BakeState): Promise<{ health: HealthReport; to: number }> {
    const to = Date.now();
    const health = await rollout.compareRolloutHealth({
      model: this.input.model,
      baseline: this.baseline,
      candidate: this.input.candidate,
      shadow: phase.shadow,
      from: new Date(clock.fromMs).toISOString(),
      to: new Date(to).toISOString(),
      baselineFrom: this.baselineFrom,
      latencyFrom: new Date(clock.latency.fromMs).toISOString(),
      latencyBreaches: clock.latency.breaches,
      health: this.input.health,
    });
    this.progressed = true;
    clock.latency = advanceLatencyWatch(clock.latency, health, to);
    this.status.lastHealth = health;
    record.health = health;
    return { health, to };
  }

  /**
   * What a health check means for the step: a breach rolls back; after the bake, healthy passes;
   * past the extension, the `insufficientData` policy rolls back, proceeds or pauses for an
   * operator. Otherwise the step keeps baking.
   */
  private async judge(
    index: number,
    record: CanaryStepRecord,
    clock: BakeState,
    health: HealthReport,
    to: number,
  ): Promise<Outcome | undefined | 'keep baking'> {
    const step = `step ${index + 1}/${this.plan.length} (${label(this.plan[index])})`;
    if (health.verdict === 'breach') {
      record.outcome = 'breach';
      return { decision: this.decide('rollback', this.self, `${step}: ${health.reasons.join('; ')}`), health };
    }
    if (to < clock.dueMs) return 'keep baking';
    if (health.verdict === 'healthy') {
      record.outcome = 'passed';
      await this.recordEvent('step_passed', this.self, `${step}: healthy`, { health });
      return undefined;
    }
    // Too little traffic, or a latency breach not yet confirmed: keep checking until the limit.
    if (to < clock.limitMs) return 'keep baking';
    const why = `${step}: ${health.reasons.join('; ')} after ${Math.round((to - clock.fromMs) / 1000)} s`;
    const policy = this.input.insufficientData.action;
    if (policy === 'rollback') {
      record.outcome = 'insufficient_data';
      const what = health.verdict === 'unconfirmed' ? 'could not confirm or clear a latency breach in time' : 'too little traffic to judge';
      return { decision: this.decide('rollback', this.self, `${what} ${why}`), health };
    }
    if (policy === 'proceed') {
      record.outcome = 'proceeded';
      await this.recordEvent('step_passed', this.self, `proceeding without a verdict (policy): ${why}`, { health });
      return undefined;
    }
    this.status.paused = true;
    this.pausedSinceMs = to;
    this.heldForData = true;
    await this.recordEvent('paused', this.self, `waiting for an operator (policy): ${why}`, { health });
    return 'keep baking';
  }

  // The end --------------------------------------------------------------------------------------

  /** Promotes or rolls back; a promotion the routes no longer allow becomes a rollback. */
  private async finish(outcome: Outcome): Promise<CanaryRolloutResult> {
    let { decision } = outcome;
    try {
      await this.settle(decision, outcome.health);
    } catch (error) {
      const route = routeError(error);
      if (decision.action !== 'promote' || !route) throw error;
      // Production moved under the rollout, or the route is gone: it cannot be promoted any more.
      decision = this.decide('rollback', this.self, `promotion refused: ${route.message}`);
      await this.settle(decision);
    }
    const { status, input } = this;
    status.state = decision.action === 'promote' ? 'promoted' : 'rolled_back';
    status.paused = false;
    status.weight = null;
    status.endedAt = iso();
    log.info('canary rollout ended', { model: input.model, candidate: input.candidate, state: status.state, reason: decision.reason });
    await condition(allHandlersFinished);
    return {
      model: input.model,
      candidate: input.candidate,
      baseline: this.baseline,
      plan: this.plan,
      history: status.history,
      outcome: status.state === 'promoted' ? 'promoted' : 'rolled_back',
      decision,
    };
  }

  private settle(decision: CanaryDecision, health?: HealthReport) {
    this.status.decision = decision;
    this.status.state = decision.action === 'promote' ? 'promoting' : 'rolling_back';
    return rollout.finishRollout({
      rolloutId: this.rolloutId!,
      seq: this.nextSeq(),
      model: this.input.model,
      candidate: this.input.candidate,
      action: decision.action,
      actor: decision.actor,
      reason: `canary ${this.input.model}@${this.input.candidate}: ${decision.reason}`,
      health,
    });
  }
}
