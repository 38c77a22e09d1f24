import type { Activities } from '../../activities';
import type { HealthReport, VersionHealth } from '../../src/shared/canary';

/**
 * Mocked canary activities: routes, events and the decision are recorded in memory, and health
 * comparisons answer by script. Times are the workflow's (the test server's skipped clock), as the
 * workflow passes them.
 */

type CanaryActivityName = 'startRollout' | 'setRolloutRoute' | 'compareRolloutHealth' | 'recordRolloutEvent' | 'finishRollout';
type CanaryActivities = Pick<Activities, CanaryActivityName>;

export type Verdict = HealthReport['verdict'];

/** One health comparison the workflow asked for: the step (its percent), and the window in epoch ms. */
export interface HealthCheckCall {
  percent: number;
  shadow: boolean;
  fromMs: number;
  toMs: number;
  /** The n-th check of this step, from 1. */
  n: number;
}

export interface CanaryRecord {
  routes: { percent: number; shadow: boolean; seq: number }[];
  checks: HealthCheckCall[];
  events: { kind: string; actor: string; reason: string; seq: number }[];
  finish: { action: 'promote' | 'rollback'; actor: string; reason: string; health?: HealthReport }[];
}

const BASELINE = 1;
export const CANDIDATE = 2;

/**
 * `verdict`: the candidate's health at each check (default: always healthy). `beforeFinish`: awaited
 * before the decision is carried out (holds the rollout in `promoting` or `rolling_back`).
 */
export function mockCanaryActivities(
  verdict: (check: HealthCheckCall) => Verdict = () => 'healthy',
  options: { beforeFinish?: () => Promise<void> } = {},
) {
  const record: CanaryRecord = { routes: [], checks: [], events: [], finish: [] };
  const activities: CanaryActivities = {
    async startRollout(input) {
      record.events.push({ kind: 'started', actor: input.initiator, reason: input.reason, seq: 0 });
      return { rolloutId: `rollout/${input.model}`, baseline: BASELINE };
    },
    async setRolloutRoute(input) {
      record.routes.push({ percent: input.percent, shadow: input.shadow, seq: input.seq });
      record.events.push({ kind: 'step', actor: input.actor, reason: input.reason, seq: input.seq });
      return { revision: record.routes.length, changed: true };
    },
    async compareRolloutHealth(input) {
      const step = record.routes.at(-1);
      if (!step) throw new Error('health compared before any route was set');
      const check: HealthCheckCall = {
        percent: step.percent,
        shadow: input.shadow,
        fromMs: Date.parse(input.from),
        toMs: Date.parse(input.to),
        n: record.checks.filter((c) => c.percent === step.percent).length + 1,
      };
      record.checks.push(check);
      return healthReport(verdict(check), input);
    },
    async recordRolloutEvent(input) {
      record.events.push({ kind: input.kind, actor: input.actor, reason: input.reason ?? '', seq: input.seq });
    },
    async finishRollout(input) {
      await options.beforeFinish?.();
      record.finish.push({ action: input.action, actor: input.actor, reason: input.reason, health: input.health });
      record.events.push({
        kind: input.action === 'promote' ? 'promoted' : 'rolled_back',
        actor: input.actor,
        reason: input.reason,
        seq: input.seq,
      });
      return { changed: true };
    },
  };
  return { activities, record };
}

function healthReport(verdict: Verdict, input: { from: string; to: string; shadow: boolean }): HealthReport {
  const version = (v: number, errors: number): VersionHealth => ({
    version: v,
    rows: 1000,
    errors,
    errorRate: errors / 1000,
    p99LatencyMs: 2,
    labelled: 0,
    accuracy: null,
  });
  const window = { from: input.from, to: input.to };
  return {
    candidate: version(CANDIDATE, verdict === 'breach' ? 100 : 0),
    baseline: version(BASELINE, 0),
    window,
    baselineWindow: window,
    shadow: input.shadow,
    verdict,
    reasons: verdict === 'healthy' ? [] : [`scripted ${verdict}`],
    checks: [],
    latency: { window: null, slow: false, breaches: 0 },
  };
}
