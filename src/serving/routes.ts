import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { deployments, modelAliases, routes } from '../db/schema';
import type { ArtifactStore } from '../registry/artifact-store';
import { setAlias } from '../registry/aliases';
import { getModelVersion } from '../registry/model-registry';
import { type RouteSpecInput, routeSpecSchema } from '../shared/route-spec';
import { describeIssues } from '../shared/validation';

/**
 * The serving routes in the database: what every model-server replica routes by, and what the
 * canary rollout's activities write. All functions are idempotent (a retried activity finds its
 * earlier write) and serialised with moves of the `production` alias by the same advisory lock,
 * so a route and the alias it is based on cannot change under each other.
 */

export type Route = typeof routes.$inferSelect;

export const SERVING_ALIAS = 'production';

/** The input is malformed (bad weight, unknown version, ...). Not worth retrying. */
export class InvalidRouteError extends Error {
  override readonly name = 'InvalidRouteError';
}

/** The database does not match what the caller assumed (the baseline is no longer production, no route to promote). */
export class RouteConflictError extends Error {
  override readonly name = 'RouteConflictError';
}

/**
 * Sends `candidateWeight` of the model's traffic to `candidate` (or mirrors it, with `shadow`).
 * `baseline` must be the current production version. Setting the route it already has changes
 * nothing (`changed: false`, same revision).
 */
export async function setRoute(db: Db, input: RouteSpecInput): Promise<{ route: Route; changed: boolean }> {
  const parsed = routeSpecSchema.safeParse(input);
  if (!parsed.success) throw new InvalidRouteError(`invalid route: ${describeIssues(parsed.error.issues, input).join('; ')}`);
  const spec = parsed.data;
  return db.transaction(async (tx) => {
    const t = tx as unknown as Db;
    await lockProduction(t, spec.model);
    const production = await productionVersion(t, spec.model);
    if (production !== spec.baseline) {
      throw new RouteConflictError(
        production === null
          ? `model "${spec.model}" has no ${SERVING_ALIAS} version; a route needs one as its baseline`
          : `baseline ${spec.baseline} is not the ${SERVING_ALIAS} version of "${spec.model}" (that is ${production})`,
      );
    }
    const candidate = await getModelVersion(t, spec.model, spec.candidate);
    if (!candidate) throw new InvalidRouteError(`model "${spec.model}" has no version ${spec.candidate}`);
    if (candidate.status !== 'active') {
      throw new InvalidRouteError(`${spec.model}@${spec.candidate} is ${candidate.status}; it cannot take traffic`);
    }
    const [current] = await t.select().from(routes).where(eq(routes.modelName, spec.model));
    if (
      current &&
      current.baselineVersion === spec.baseline &&
      current.candidateVersion === spec.candidate &&
      current.candidateWeight === spec.candidateWeight &&
      current.shadow === spec.shadow
    ) {
      return { route: current, changed: false };
    }
    const values = {
      baselineVersion: spec.baseline,
      candidateVersion: spec.candidate,
      candidateWeight: spec.candidateWeight,
      shadow: spec.shadow,
      actor: spec.actor,
      reason: spec.reason,
    };
    const [route] = await t
      .insert(routes)
      .values({ modelName: spec.model, ...values })
      .onConflictDoUpdate({
        target: routes.modelName,
        set: { ...values, revision: sql`${routes.revision} + 1`, updatedAt: sql`now()` },
      })
      .returning();
    return { route, changed: true };
  });
}

/**
 * Removes the model's route: all traffic back to production (a rollback). With `candidate`, only
 * a route to that candidate is removed, so a late retry cannot remove a newer rollout's route.
 */
export async function clearRoute(db: Db, request: { model: string; candidate?: number }): Promise<{ cleared: Route | undefined }> {
  const where =
    request.candidate === undefined
      ? eq(routes.modelName, request.model)
      : and(eq(routes.modelName, request.model), eq(routes.candidateVersion, request.candidate));
  return db.transaction(async (tx) => {
    const t = tx as unknown as Db;
    await lockProduction(t, request.model);
    const [cleared] = await t.delete(routes).where(where).returning();
    return { cleared };
  });
}

/**
 * Makes the candidate the production version and removes the route, in one transaction (the
 * alias move is recorded in the alias history). Replicas then serve the candidate to everyone
 * without reloading it. Idempotent: when production already is `candidate` and no route is
 * left, nothing changes.
 */
export async function promoteCandidate(
  db: Db,
  request: {
    model: string;
    candidate: number;
    actor: string;
    reason: string;
    artifacts?: ArtifactStore;
    /**
     * Also record the promotion in `deployments` (ending the baseline's), in the same transaction:
     * exactly once per idempotency key, like `deployVersion`.
     */
    deployment?: { workflowId: string; idempotencyKey: string };
  },
): Promise<{ changed: boolean; fromVersion: number | null }> {
  return db.transaction(async (tx) => {
    const t = tx as unknown as Db;
    await lockProduction(t, request.model);
    const production = await productionVersion(t, request.model);
    const [route] = await t.select().from(routes).where(eq(routes.modelName, request.model));
    if (!route) {
      if (production === request.candidate) return { changed: false, fromVersion: production };
      throw new RouteConflictError(`model "${request.model}" has no route to promote (${SERVING_ALIAS} is ${production ?? 'unset'})`);
    }
    if (route.candidateVersion !== request.candidate) {
      throw new RouteConflictError(`the route of "${request.model}" is to candidate ${route.candidateVersion}, not ${request.candidate}`);
    }
    if (route.baselineVersion !== production) {
      throw new RouteConflictError(
        `the route of "${request.model}" is stale: its baseline ${route.baselineVersion} is no longer ${SERVING_ALIAS} (${production ?? 'unset'})`,
      );
    }
    await setAlias(t, {
      model: request.model,
      alias: SERVING_ALIAS,
      version: request.candidate,
      actor: request.actor,
      reason: request.reason,
      artifacts: request.artifacts,
    });
    await t.delete(routes).where(eq(routes.modelName, request.model));
    if (request.deployment) {
      const [done] = await t
        .select({ id: deployments.id })
        .from(deployments)
        .where(eq(deployments.idempotencyKey, request.deployment.idempotencyKey));
      if (!done) {
        await t
          .update(deployments)
          .set({ endedAt: sql`clock_timestamp()` })
          .where(and(eq(deployments.modelName, request.model), isNull(deployments.endedAt)));
        await t.insert(deployments).values({
          modelName: request.model,
          version: request.candidate,
          workflowId: request.deployment.workflowId,
          idempotencyKey: request.deployment.idempotencyKey,
          previousVersion: production,
        });
      }
    }
    return { changed: true, fromVersion: production };
  });
}

export async function getRoute(db: Db, model: string): Promise<Route | undefined> {
  const [route] = await db.select().from(routes).where(eq(routes.modelName, model));
  return route;
}

export async function listRoutes(db: Db, models?: string[]): Promise<Route[]> {
  const query = db.select().from(routes);
  return (models ? query.where(inArray(routes.modelName, models)) : query).orderBy(routes.modelName);
}

export interface RoutingState {
  model: string;
  /** The production version (the baseline of any route), or null when the model is not served. */
  production: number | null;
  route: Route | undefined;
  /** A route whose baseline is no longer production: replicas ignore it and serve production only. */
  stale: boolean;
}

/** What replicas serve for the model, as the database says (they converge within their refresh period). */
export async function routingState(db: Db, model: string): Promise<RoutingState> {
  const [production, route] = await Promise.all([productionVersion(db, model), getRoute(db, model)]);
  return { model, production, route, stale: route !== undefined && route.baselineVersion !== production };
}

async function productionVersion(db: Db, model: string): Promise<number | null> {
  const [row] = await db
    .select({ version: modelAliases.version })
    .from(modelAliases)
    .where(and(eq(modelAliases.modelName, model), eq(modelAliases.alias, SERVING_ALIAS)));
  return row?.version ?? null;
}

/** The registry's lock for moves of the production alias (re-entrant within a session). */
async function lockProduction(db: Db, model: string): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtext(${model}), hashtext(${SERVING_ALIAS}))`);
}
