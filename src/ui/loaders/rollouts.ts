import { asc, desc, eq } from 'drizzle-orm';
import type { Db } from '../../db/database';
import { rolloutEvents, rollouts } from '../../db/schema';
import type { CanaryHealthThresholds, HealthReport } from '../../shared/canary';
import type { HealthPoint, TrafficPoint } from '../charts/canary';

export type Rollout = typeof rollouts.$inferSelect;
export type RolloutEvent = typeof rolloutEvents.$inferSelect;

export async function loadRollouts(db: Db, limit = 100): Promise<Rollout[]> {
  return db.select().from(rollouts).orderBy(desc(rollouts.startedAt)).limit(limit);
}

export interface RolloutDetail {
  rollout: Rollout;
  events: RolloutEvent[];
  traffic: TrafficPoint[];
  health: HealthPoint[];
}

export async function loadRollout(db: Db, id: string): Promise<RolloutDetail | undefined> {
  const [rollout] = await db.select().from(rollouts).where(eq(rollouts.id, id));
  if (!rollout) return undefined;
  const events = await db.select().from(rolloutEvents).where(eq(rolloutEvents.rolloutId, id)).orderBy(asc(rolloutEvents.seq));
  const thresholds = (rollout.settings as { health?: Partial<CanaryHealthThresholds> }).health ?? {};
  return { rollout, events, traffic: trafficOf(events), health: healthOf(events, thresholds) };
}

/** The candidate's share after each route change; an ended rollout leaves it at 100 % or 0 %. */
export function trafficOf(events: readonly RolloutEvent[]): TrafficPoint[] {
  return events.flatMap((e): TrafficPoint[] => {
    const at = e.at.toISOString();
    if (e.kind === 'step' && e.percent !== null) return [{ at, percent: e.percent, shadow: e.shadow ?? false }];
    if (e.kind === 'promoted') return [{ at, percent: 100, shadow: false }];
    if (e.kind === 'rolled_back') return [{ at, percent: 0, shadow: false }];
    return [];
  });
}

/**
 * Both versions' error rate and p99 latency at each health comparison the rollout recorded, with
 * the limit the rules put on the candidate (src/serving/canary-health.ts, judgeHealth): baseline error rate
 * + maxErrorRateIncrease; p99 above maxP99LatencyRatio × baseline and more than
 * p99LatencyToleranceMs above it.
 */
export function healthOf(events: readonly RolloutEvent[], thresholds: Partial<CanaryHealthThresholds>): HealthPoint[] {
  const increase = thresholds.maxErrorRateIncrease ?? 0.01;
  const ratio = thresholds.maxP99LatencyRatio ?? 1.5;
  const tolerance = thresholds.p99LatencyToleranceMs ?? 5;
  return events.flatMap((e): HealthPoint[] => {
    const health = e.health as HealthReport | null;
    if (!health?.candidate || !health.baseline) return [];
    const at = e.at.toISOString();
    const base = health.baseline;
    return [
      {
        at,
        metric: 'error rate',
        candidate: health.candidate.errorRate,
        baseline: base.errorRate,
        limit: base.errorRate === null ? null : base.errorRate + increase,
      },
      {
        at,
        metric: 'p99 latency (ms)',
        candidate: health.candidate.p99LatencyMs,
        baseline: base.p99LatencyMs,
        limit: base.p99LatencyMs === null ? null : Math.max(base.p99LatencyMs * ratio, base.p99LatencyMs + tolerance),
      },
    ];
  });
}
