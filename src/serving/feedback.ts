import { sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { feedback } from '../db/schema';
import { RequestError, show } from './predict';

/**
 * Ground truth for logged predictions: `POST /v1/feedback` with
 * `{"prediction_id": "<id>", "label": 0|1}` (a classifier's observed class) or
 * `{"prediction_id": "<id>", "value": <number>}` (a regressor's observed value), or an array of
 * such objects. Joined later with `prediction_log` (and, for a shadow prediction, through its
 * `primary_id`) to compute live metrics per version. Written synchronously, so a 200 means stored;
 * sending feedback again for an id replaces the earlier answer (the latest wins), so a retried
 * request changes nothing.
 */

export interface Feedback {
  predictionId: string;
  label: number | null;
  value: number | null;
}

export const MAX_FEEDBACK_ITEMS = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KEYS = new Set(['prediction_id', 'label', 'value']);

export function parseFeedback(body: unknown): Feedback[] {
  const items = Array.isArray(body) ? body : [body];
  if (items.length === 0) throw new RequestError(400, 'empty feedback array: send at least one {"prediction_id", "label"|"value"}');
  if (items.length > MAX_FEEDBACK_ITEMS) throw new RequestError(400, `at most ${MAX_FEEDBACK_ITEMS} feedback items per request, got ${items.length}`);
  const seen = new Set<string>();
  return items.map((item: unknown, index) => {
    const where = Array.isArray(body) ? `[${index}]` : 'the body';
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new RequestError(400, `${where} must be {"prediction_id": ..., "label": 0|1} or {"prediction_id": ..., "value": <number>}, got ${show(item)}`);
    }
    const record = item as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!KEYS.has(key)) throw new RequestError(400, `${where}: unknown field "${key}" (fields: prediction_id, label, value)`);
    }
    const id = record.prediction_id;
    if (typeof id !== 'string' || !UUID.test(id)) {
      throw new RequestError(400, `${where}: "prediction_id" must be the id a prediction returned (a UUID), got ${show(id)}`);
    }
    const predictionId = id.toLowerCase();
    if (seen.has(predictionId)) throw new RequestError(400, `${where}: prediction ${predictionId} appears twice in this request`);
    seen.add(predictionId);
    const hasLabel = record.label !== undefined;
    const hasValue = record.value !== undefined;
    if (hasLabel === hasValue) throw new RequestError(400, `${where}: send exactly one of "label" (a class) and "value" (a number)`);
    if (hasLabel) {
      const label = record.label === true ? 1 : record.label === false ? 0 : record.label;
      if (label !== 0 && label !== 1) throw new RequestError(400, `${where}: "label" must be 0 or 1, got ${show(record.label)}`);
      return { predictionId, label, value: null };
    }
    if (typeof record.value !== 'number' || !Number.isFinite(record.value)) {
      throw new RequestError(400, `${where}: "value" must be a finite number, got ${show(record.value)}`);
    }
    return { predictionId, label: null, value: record.value };
  });
}

export async function recordFeedback(db: Db, items: Feedback[]): Promise<void> {
  await db
    .insert(feedback)
    .values(items)
    .onConflictDoUpdate({
      target: feedback.predictionId,
      set: { label: sql`excluded.label`, value: sql`excluded.value`, receivedAt: sql`now()` },
    });
}
