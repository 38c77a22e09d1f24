import { and, eq, gte, isNull, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { feedback, predictionLog, rollouts, rolloutEvents } from '../db/schema';
import { getModelVersion } from '../registry/model-registry';
import type { HealthSample, VersionHealth } from '../shared/canary';
import { InvalidRouteError, RouteConflictError, routingState } from './routes';

/**
 * The record of canary rollouts (tables `rollouts` and `rollout_events`) and the per-version
 * health the rollout compares, measured from `prediction_log` and `feedback` — so every replica's
 * predictions count. Every writer is idempotent: ids come from the workflow run, event numbers
 * from the workflow.
 */

export type Rollout = typeof rollouts.$inferSelect;
export type NewRolloutEvent = Omit<typeof rolloutEvents.$inferInsert, 'at'>;

export interface BeginRolloutRequest {
  /** `<workflowId>/<runId>`. */
  id: string;
  model: string;
  workflowId: string;
  runId: string;
  candidate: number;
  /** Expected production version; default: whatever production is now. */
  baseline?: number;
  settings: unknown;
  initiator: string;
  reason: string;
}

/**
 * Checks that the rollout makes sense — the model has a production version (the baseline), it is
 * the expected one, the candidate exists, is active and is not production already — and records
 * the rollout with its `started` event (seq 0). A retry finds the row it wrote.
 */
export async function beginRollout(db: Db, request: BeginRolloutRequest): Promise<{ rollout: Rollout; created: boolean }> {
  const [existing] = await db.select().from(rollouts).where(eq(rollouts.id, request.id));
  if (existing) return { rollout: existing, created: false };
  const { production } = await routingState(db, request.model);
  if (production === null) {
    throw new RouteConflictError(
      `model "${request.model}" has no production version; a canary needs one as its baseline (deploy the first version directly)`,
    );
  }
  if (request.baseline !== undefined && request.baseline !== production) {
    throw new RouteConflictError(
      `baseline ${request.baseline} is not the production version of "${request.model}" (that is ${production})`,
    );
  }
  if (request.candidate === production)
    throw new InvalidRouteError(`${request.model}@${request.candidate} is already the production version`);
  const candidate = await getModelVersion(db, request.model, request.candidate);
  if (!candidate) throw new InvalidRouteError(`model "${request.model}" has no version ${request.candidate}`);
  if (candidate.status !== 'active')
    throw new InvalidRouteError(`${request.model}@${request.candidate} is ${candidate.status}; it cannot take traffic`);

  return db.transaction(async (tx) => {
    const t = tx as unknown as Db;
    const [rollout] = await t
      .insert(rollouts)
      .values({
        id: request.id,
        modelName: request.model,
        workflowId: request.workflowId,
        runId: request.runId,
        baselineVersion: production,
        candidateVersion: request.candidate,
        settings: request.settings,
        initiator: request.initiator,
      })
      .onConflictDoNothing()
      .returning();
    if (!rollout) {
      const [again] = await t.select().from(rollouts).where(eq(rollouts.id, request.id));
      return { rollout: again, created: false };
    }
    await t
      .insert(rolloutEvents)
      .values({ rolloutId: request.id, seq: 0, kind: 'started', actor: request.initiator, reason: request.reason })
      .onConflictDoNothing();
    return { rollout, created: true };
  });
}

/** Appends an event; the same (rollout, seq) again changes nothing. */
export async function recordRolloutEvent(db: Db, event: NewRolloutEvent): Promise<void> {
  await db.insert(rolloutEvents).values(event).onConflictDoNothing();
}

/** Closes the rollout with its outcome and records the deciding event, once. */
export async function endRollout(
  db: Db,
  request: { id: string; status: 'promoted' | 'rolled_back'; decidedBy: string; reason: string; event: NewRolloutEvent },
): Promise<void> {
  await db.transaction(async (tx) => {
    const t = tx as unknown as Db;
    await t
      .update(rollouts)
      .set({ status: request.status, decidedBy: request.decidedBy, reason: request.reason, endedAt: sql`clock_timestamp()` })
      .where(and(eq(rollouts.id, request.id), isNull(rollouts.endedAt)));
    await t.insert(rolloutEvents).values(request.event).onConflictDoNothing();
  });
}

export interface HealthWindowRequest {
  model: string;
  baseline: number;
  candidate: number;
  /** The candidate's rows are shadow predictions (the shadow step). */
  shadow: boolean;
  /** The step's window [from, to). */
  from: Date;
  to: Date;
  /** Where the baseline's window starts when the step's window has fewer than `minRequests` of its rows. */
  baselineFrom: Date;
  minRequests: number;
}

/**
 * Both versions' error rate, p99 latency and (where feedback arrived) accuracy: the candidate over
 * the step's window, the baseline over the same window — or, when it had fewer than `minRequests`
 * predictions there (at 100 % it has none), from `baselineFrom` to the window's end.
 */
export async function measureRolloutHealth(db: Db, request: HealthWindowRequest): Promise<HealthSample> {
  const window = { from: request.from, to: request.to };
  const [candidate, baselineInStep] = await Promise.all([
    versionHealth(db, request.model, request.candidate, request.shadow, window),
    versionHealth(db, request.model, request.baseline, false, window),
  ]);
  const widen = baselineInStep.rows < request.minRequests && request.baselineFrom < request.from;
  const baselineWindow = widen ? { from: request.baselineFrom, to: request.to } : window;
  const baseline = widen ? await versionHealth(db, request.model, request.baseline, false, baselineWindow) : baselineInStep;
  return {
    candidate,
    baseline,
    window: { from: window.from.toISOString(), to: window.to.toISOString() },
    baselineWindow: { from: baselineWindow.from.toISOString(), to: baselineWindow.to.toISOString() },
    shadow: request.shadow,
  };
}

/** One version's logged predictions in [from, to): rows, errors, p99 latency, and accuracy over those with ground truth. */
export async function versionHealth(
  db: Db,
  model: string,
  version: number,
  shadow: boolean,
  window: { from: Date; to: Date },
): Promise<VersionHealth> {
  const inWindow = and(
    eq(predictionLog.modelName, model),
    eq(predictionLog.version, version),
    eq(predictionLog.shadow, shadow),
    gte(predictionLog.createdAt, window.from),
    lt(predictionLog.createdAt, window.to),
  );
  const [stats] = await db
    .select({
      rows: sql<number>`count(*)::int`.mapWith(Number),
      errors: sql<number>`count(${predictionLog.error})::int`.mapWith(Number),
      p99: sql<number | null>`percentile_cont(0.99) within group (order by ${predictionLog.latencyMs})`,
    })
    .from(predictionLog)
    .where(inWindow);
  // A shadow prediction's ground truth is the feedback on the prediction returned for the same row.
  // The logged label is 0/1 for a binary model and the class name for a multiclass one, whose
  // feedback stores the class index: compared as text, through the contract's classes.
  const registered = await getModelVersion(db, model, version);
  const classes = JSON.stringify((registered?.contract as { classes?: string[] } | undefined)?.classes ?? []);
  const [online] = await db
    .select({
      labelled: sql<number>`count(*)::int`.mapWith(Number),
      accuracy: sql<
        number | null
      >`avg(((${predictionLog.outputs}->>'label') = coalesce(${classes}::jsonb->>${feedback.label}, ${feedback.label}::text))::int)::float8`,
    })
    .from(predictionLog)
    .innerJoin(feedback, eq(feedback.predictionId, sql`coalesce(${predictionLog.primaryId}, ${predictionLog.id})`))
    .where(and(inWindow, isNull(predictionLog.error), sql`${feedback.label} is not null`));
  const rows = stats?.rows ?? 0;
  const errors = stats?.errors ?? 0;
  const p99 = stats?.p99 === null || stats?.p99 === undefined ? null : Number(stats.p99);
  const labelled = online?.labelled ?? 0;
  const accuracy = online?.accuracy === null || online?.accuracy === undefined ? null : Number(online.accuracy);
  return { version, rows, errors, errorRate: rows > 0 ? errors / rows : null, p99LatencyMs: p99, labelled, accuracy };
}
