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

interface CacheEntry {
  value: OnlineValues | null;
  expires: number;
}

/**
 * Reads the online store by (view, entity key), through a small cache with a TTL: a hot entity
 * costs one map lookup, not a query, and a new materialisation is seen within `cacheMs`. Keys a
 * request needs that the cache lacks are fetched in one query per view.
 */
export class OnlineStore {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly db: Db,
    private readonly cacheMs = 1000,
    private readonly maxEntries = 100_000,
  ) {}

  async get(view: string, keys: readonly string[], now = Date.now()): Promise<(OnlineValues | null)[]> {
    const out = new Array<OnlineValues | null>(keys.length);
    let wanted: string[] | undefined;
    for (let i = 0; i < keys.length; i++) {
      const hit = this.cache.get(view + '\u0000' + keys[i]);
      if (hit && hit.expires > now) out[i] = hit.value;
      else (wanted ??= []).push(keys[i]!);
    }
    if (!wanted) return out;
    const found = await this.fetch(view, [...new Set(wanted)]);
    if (this.cache.size > this.maxEntries) this.cache.clear();
    for (let i = 0; i < keys.length; i++) {
      if (out[i] !== undefined) continue;
      const value = found.get(keys[i]!) ?? null;
      this.cache.set(view + '\u0000' + keys[i], { value, expires: now + this.cacheMs });
      out[i] = value;
    }
    return out;
  }

  private async fetch(view: string, keys: string[]): Promise<Map<string, OnlineValues>> {
    const result = await this.db.execute(sql`
      select entity_key, view_version, values, extract(epoch from event_time) * 1000 as event_ms, extract(epoch from as_of) * 1000 as as_of_ms
      from online_features where view_name = ${view} and entity_key in (${sql.join(keys.map((k) => sql`${k}`), sql`, `)})`);
    const rows = resultRows<{ entity_key: string; view_version: string; values: Record<string, number | null> | string; event_ms: string | number | null; as_of_ms: string | number }>(result);
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
