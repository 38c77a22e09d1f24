import { currentRun } from './current-run';
import { beginRollout, endRollout, measureRolloutHealth, recordRolloutEvent, versionHealth } from '../src/serving/rollouts';
import { clearRoute, promoteCandidate, setRoute } from '../src/serving/routes';
import { type CanaryHealthThresholds, type CanaryRolloutInput, type HealthReport, type LatencySample } from '../src/shared/canary';
import { judgeHealth } from '../src/serving/canary-health';
import type { ActivityDeps } from './deps';

export interface RolloutEventInput {
  rolloutId: string;
  seq: number;
  kind: string;
  actor: string;
  reason?: string;
  percent?: number;
  shadow?: boolean;
  health?: HealthReport;
}

/**
 * The canary rollout's side effects, thin over src/serving/routes.ts (the routing state every
 * replica follows) and src/serving/rollouts.ts (the record of decisions, the health measurement).
 * Route errors keep their names (`InvalidRouteError`, `RouteConflictError`), which the workflow's
 * retry policy lists as non-retryable. After every routing change the in-process model server (if
 * any) is refreshed at once; other replicas follow within their refresh period.
 */
export function canaryActivities({ database, artifacts, onDeployed }: ActivityDeps) {
  const db = database.db;
  const routingChanged = async (model: string) => {
    await onDeployed?.(model);
  };
  return {
    /** Checks the rollout and records it; returns the baseline (the production version now). */
    async startRollout(input: CanaryRolloutInput): Promise<{ rolloutId: string; baseline: number }> {
      const { workflowId, runId } = currentRun();
      const { model, candidate, baseline, initiator, reason, ...settings } = input;
      const { rollout } = await beginRollout(db, {
        id: `${workflowId}/${runId}`,
        model,
        workflowId,
        runId,
        candidate,
        baseline,
        settings,
        initiator,
        reason,
      });
      return { rolloutId: rollout.id, baseline: rollout.baselineVersion };
    },

    /** One step: `percent` of the traffic to (or, shadow, mirrored to) the candidate. Idempotent. */
    async setRolloutRoute(input: {
      rolloutId: string;
      seq: number;
      model: string;
      baseline: number;
      candidate: number;
      percent: number;
      shadow: boolean;
      actor: string;
      reason: string;
    }): Promise<{ revision: number; changed: boolean }> {
      const { route, changed } = await setRoute(db, {
        model: input.model,
        baseline: input.baseline,
        candidate: input.candidate,
        candidateWeight: input.percent / 100,
        shadow: input.shadow,
        actor: input.actor,
        reason: input.reason,
      });
      await recordRolloutEvent(db, {
        rolloutId: input.rolloutId,
        seq: input.seq,
        kind: 'step',
        percent: input.percent,
        shadow: input.shadow,
        actor: input.actor,
        reason: input.reason,
      });
      await routingChanged(input.model);
      return { revision: route.revision, changed };
    },

    /**
     * Measures both versions over the step's window, and their latency over the latency window
     * `[latencyFrom, to)` (the step after its warm-up and after the last too-slow check; not in
     * shadow), then judges the candidate, continuing a streak of `latencyBreaches` too-slow checks.
     * Read-only.
     */
    async compareRolloutHealth(input: {
      model: string;
      baseline: number;
      candidate: number;
      shadow: boolean;
      from: string;
      to: string;
      baselineFrom: string;
      latencyFrom: string;
      latencyBreaches: number;
      health: CanaryHealthThresholds;
    }): Promise<HealthReport> {
      const to = new Date(input.to);
      const sample = await measureRolloutHealth(db, {
        model: input.model,
        baseline: input.baseline,
        candidate: input.candidate,
        shadow: input.shadow,
        from: new Date(input.from),
        to,
        baselineFrom: new Date(input.baselineFrom),
        minRequests: input.health.minRequests,
      });
      let latency: LatencySample | null = null;
      const latencyFrom = new Date(input.latencyFrom);
      if (!input.shadow && latencyFrom < to) {
        const window = { from: latencyFrom, to };
        const [candidate, baseline] = await Promise.all([
          versionHealth(db, input.model, input.candidate, false, window),
          versionHealth(db, input.model, input.baseline, false, window),
        ]);
        latency = {
          window: { from: input.latencyFrom, to: input.to },
          candidate: { rows: candidate.rows, p99LatencyMs: candidate.p99LatencyMs },
          baseline: { rows: baseline.rows, p99LatencyMs: baseline.p99LatencyMs },
        };
      }
      return judgeHealth(sample, input.health, { sample: latency, breaches: input.latencyBreaches });
    },

    async recordRolloutEvent(input: RolloutEventInput): Promise<void> {
      await recordRolloutEvent(db, { ...input, reason: input.reason ?? '', health: input.health ?? null });
    },

    /**
     * Ends the rollout: `promote` moves `production` to the candidate and removes the route in one
     * transaction (alias history and deployments record it); `rollback` removes the route (only if
     * it is still this candidate's), so all traffic returns to the baseline. Then the rollout is
     * closed with the decision.
     */
    async finishRollout(input: {
      rolloutId: string;
      seq: number;
      model: string;
      candidate: number;
      action: 'promote' | 'rollback';
      actor: string;
      reason: string;
      health?: HealthReport;
    }): Promise<{ changed: boolean }> {
      // The rollout's id, not this run's: a rollout that continued as new is still one deployment.
      const { workflowId } = currentRun();
      let changed: boolean;
      if (input.action === 'promote') {
        ({ changed } = await promoteCandidate(db, {
          model: input.model,
          candidate: input.candidate,
          actor: input.actor,
          reason: input.reason,
          artifacts,
          deployment: { workflowId, idempotencyKey: `${input.rolloutId}/promote` },
        }));
      } else {
        changed = (await clearRoute(db, { model: input.model, candidate: input.candidate })).cleared !== undefined;
      }
      const status = input.action === 'promote' ? 'promoted' : 'rolled_back';
      await endRollout(db, {
        id: input.rolloutId,
        status,
        decidedBy: input.actor,
        reason: input.reason,
        event: {
          rolloutId: input.rolloutId,
          seq: input.seq,
          kind: status,
          actor: input.actor,
          reason: input.reason,
          health: input.health ?? null,
        },
      });
      await routingChanged(input.model);
      return { changed };
    },
  };
}
