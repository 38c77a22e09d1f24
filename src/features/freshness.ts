import type { Db } from '../db/database';
import type { AlertInput } from '../notify/alert';
import { incidentKey } from '../notify/alert';
import { intervalMs } from '../shared/interval';
import { lastMaterialization, staleness } from './materialize';
import { listViews } from './view-store';

/** A view's freshness at a time: now minus the newest materialised event time. */
export interface ViewFreshness {
  view: string;
  /** Null: never materialised. */
  stalenessMs: number | null;
  lastAsOf: string | null;
  /** The view's `staleAfter`, if set. */
  staleAfterMs: number | null;
  stale: boolean;
}

/** Freshness of the named views (every registered one when `views` is undefined), as of `now`. */
export async function viewFreshness(db: Db, now: number, views?: readonly string[]): Promise<ViewFreshness[]> {
  const registered = (await listViews(db)).filter((v) => !views || views.includes(v.name));
  return Promise.all(
    registered.map(async (view) => {
      const last = await lastMaterialization(db, view.name);
      const ms = staleness(last, now);
      const staleAfterMs = view.view.staleAfter ? intervalMs(view.view.staleAfter) : null;
      return {
        view: view.name,
        stalenessMs: ms,
        lastAsOf: last?.asOf.toISOString() ?? null,
        staleAfterMs,
        stale: staleAfterMs !== null && (ms === null || ms > staleAfterMs),
      };
    }),
  );
}

/** One `feature_staleness` alert per view past its `staleAfter` (once per incident window). */
export function freshnessAlerts(
  freshness: readonly ViewFreshness[],
  context: { model: string; at: string; dedupWindowMs?: number },
): AlertInput[] {
  return freshness
    .filter((f) => f.stale)
    .map((f) => ({
      incidentKey: `${incidentKey({ kind: 'feature_staleness', model: context.model, version: null, at: context.at, dedupWindowMs: context.dedupWindowMs })}:${f.view}`,
      model: context.model,
      version: null,
      kind: 'feature_staleness',
      severity: 'warning' as const,
      occurredAt: context.at,
      title: `${context.model}: feature view ${f.view} is stale`,
      message:
        f.stalenessMs === null
          ? `Feature view ${f.view} was never materialised: the model server fills its inputs by its missing-value policy.`
          : `The newest event in feature view ${f.view}'s online store is ${(f.stalenessMs / 3_600_000).toFixed(1)} h old (alert past ${(f.staleAfterMs! / 3_600_000).toFixed(1)} h). Is materializeFeatures running?`,
      lines: [],
      details: { view: f.view, stalenessMs: f.stalenessMs, staleAfterMs: f.staleAfterMs, lastAsOf: f.lastAsOf },
    }));
}
