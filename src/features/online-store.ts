import { sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { resultRows } from '../data/dataset-store';

/** One entity's values in the online store. */
export interface OnlineValues {
  version: string;
  values: Record<string, number | null>;
  /** The newest event the values saw (ms), or NaN. */
  eventTime: number;
  /** The time the values are as of (ms). */
  asOf: number;
}

/** One view's cached entities, valid while the view's newest materialisation is `generation`. */
interface ViewCache {
  generation: string;
  checkedAt: number;
  entries: Map<string, OnlineValues | null>;
}

/**
 * Reads the online store by (view, entity key) through a cache: a hot entity costs one map
 * lookup, not a query. The online table changes only when a materialisation commits, so instead
 * of expiring entries the cache asks, at most every `checkMs` per view, for the view's newest
 * materialisation, and drops the view's entries when it changed: a new materialisation is served
 * within `checkMs`. Keys a request needs that the cache lacks are fetched in one query per view.
 */
export class OnlineStore {
  private readonly views = new Map<string, ViewCache>();

  constructor(
    private readonly db: Db,
    private readonly checkMs = 1000,
    private readonly maxEntriesPerView = 1_000_000,
  ) {}

  async get(view: string, keys: readonly string[], now = Date.now()): Promise<(OnlineValues | null)[]> {
    const cache = await this.viewCache(view, now);
    const out = new Array<OnlineValues | null>(keys.length);
    let wanted: string[] | undefined;
    for (let i = 0; i < keys.length; i++) {
      const hit = cache.entries.get(keys[i]);
      if (hit !== undefined) out[i] = hit;
      else (wanted ??= []).push(keys[i]);
    }
    if (!wanted) return out;
    const found = await this.fetch(view, [...new Set(wanted)]);
    if (cache.entries.size > this.maxEntriesPerView) cache.entries.clear();
    for (let i = 0; i < keys.length; i++) {
      if (out[i] !== undefined) continue;
      const value = found.get(keys[i]) ?? null;
      cache.entries.set(keys[i], value);
      out[i] = value;
    }
    return out;
  }

  private async viewCache(view: string, now: number): Promise<ViewCache> {
    let cache = this.views.get(view);
    if (cache && now - cache.checkedAt < this.checkMs) return cache;
    // Concurrent requests meanwhile use the entries they have rather than all asking too.
    if (cache) cache.checkedAt = now;
    const result = await this.db.execute(
      sql`select coalesce(max(finished_at)::text, '') as generation from feature_materializations where view_name = ${view}`,
    );
    const generation = resultRows<{ generation: string }>(result)[0]?.generation ?? '';
    if (!cache || cache.generation !== generation) {
      cache = { generation, checkedAt: now, entries: new Map() };
      this.views.set(view, cache);
    } else cache.checkedAt = now;
    return cache;
  }

  private async fetch(view: string, keys: string[]): Promise<Map<string, OnlineValues>> {
    const result = await this.db.execute(sql`
      select entity_key, view_version, values, extract(epoch from event_time) * 1000 as event_ms, extract(epoch from as_of) * 1000 as as_of_ms
      from online_features where view_name = ${view} and entity_key in (${sql.join(
        keys.map((k) => sql`${k}`),
        sql`, `,
      )})`);
    const rows = resultRows<{
      entity_key: string;
      view_version: string;
      values: Record<string, number | null> | string;
      event_ms: string | number | null;
      as_of_ms: string | number;
    }>(result);
    return new Map(
      rows.map((row) => [
        row.entity_key,
        {
          version: row.view_version,
          values: typeof row.values === 'string' ? (JSON.parse(row.values) as Record<string, number | null>) : row.values,
          eventTime: row.event_ms === null ? Number.NaN : Number(row.event_ms),
          asOf: Number(row.as_of_ms),
        },
      ]),
    );
  }
}
