import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { feedback, modelVersions, predictionLog } from '../db/schema';
import type { ModelTask } from '../shared/model-contract';
import { suggestKey } from '../shared/strict';
import { RequestError, show } from './predict';

/**
 * Ground truth for logged predictions: `POST /v1/feedback` with `{"prediction_id": "<id>", ...}`
 * and, by the task of the version that made the prediction:
 * - binary: `"label": 0|1` (or true/false);
 * - multiclass: `"label": "<class name>"` (one of the contract's `classes`), stored as its index
 *   in `classes` (`feedback.label`), the index the model's `label` output uses;
 * - regression: `"value": <number>`.
 * Or an array of such objects. Joined later with `prediction_log` (and, for a shadow prediction,
 * through its `primary_id`) to compute live metrics per version. Written synchronously, so a 200
 * means stored; sending feedback again for an id replaces the earlier answer (the latest wins),
 * so a retried request changes nothing.
 */

/** A feedback item checked for form; its label or value is checked against the model by resolveFeedback. */
export interface FeedbackItem {
  where: string;
  predictionId: string;
  label?: number | string | boolean;
  value?: number;
}

/** A row of the `feedback` table. */
export interface Feedback {
  predictionId: string;
  label: number | null;
  value: number | null;
}

const MAX_FEEDBACK_ITEMS = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KEYS = new Set(['prediction_id', 'label', 'value']);
const SHAPES = '{"prediction_id", "label": 0|1 or "<class>"} or {"prediction_id", "value": <number>}';

export function parseFeedback(body: unknown): FeedbackItem[] {
  const items = Array.isArray(body) ? body : [body];
  if (items.length === 0) throw new RequestError(400, `empty feedback array: send at least one ${SHAPES}`);
  if (items.length > MAX_FEEDBACK_ITEMS)
    throw new RequestError(400, `at most ${MAX_FEEDBACK_ITEMS} feedback items per request, got ${items.length}`);
  const seen = new Set<string>();
  return items.map((item: unknown, index) => {
    const where = Array.isArray(body) ? `[${index}]` : 'the body';
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new RequestError(400, `${where} must be ${SHAPES}, got ${show(item)}`);
    }
    const record = item as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (KEYS.has(key)) continue;
      const meant = suggestKey(key, [...KEYS]);
      throw new RequestError(
        400,
        `${where}: unknown field "${key}" (${meant ? `did you mean ${meant}? ` : ''}fields: prediction_id, label, value)`,
      );
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
      const { label } = record;
      if (typeof label !== 'number' && typeof label !== 'string' && typeof label !== 'boolean') {
        throw new RequestError(400, `${where}: "label" must be 0 or 1 (binary) or a class name (multiclass), got ${show(label)}`);
      }
      return { where, predictionId, label };
    }
    if (typeof record.value !== 'number' || !Number.isFinite(record.value)) {
      throw new RequestError(400, `${where}: "value" must be a finite number, got ${show(record.value)}`);
    }
    return { where, predictionId, value: record.value };
  });
}

/** What feedback is checked against: the task (and classes) of the version that made a prediction. */
export interface PredictionTarget {
  model: string;
  version: number;
  task: ModelTask;
  classes?: string[];
}

/**
 * The model version behind each prediction id, read from the prediction log (and the version's
 * contract). Ids not found are absent from the map.
 */
export async function predictionTargets(db: Db, ids: string[]): Promise<Map<string, PredictionTarget>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: predictionLog.id, model: predictionLog.modelName, version: predictionLog.version, contract: modelVersions.contract })
    .from(predictionLog)
    .innerJoin(modelVersions, and(eq(modelVersions.modelName, predictionLog.modelName), eq(modelVersions.version, predictionLog.version)))
    .where(inArray(predictionLog.id, ids));
  return new Map(
    rows.map((r) => {
      const contract = r.contract as { task?: ModelTask; classes?: string[] };
      return [r.id, { model: r.model, version: r.version, task: contract.task ?? 'binary', classes: contract.classes }];
    }),
  );
}

/** The targets of predictions known by model and version (still in a server's log queue). */
export async function versionTargets(
  db: Db,
  predictions: ReadonlyMap<string, { model: string; version: number }>,
): Promise<Map<string, PredictionTarget>> {
  const targets = new Map<string, PredictionTarget>();
  const contracts = new Map<string, { task?: ModelTask; classes?: string[] } | undefined>();
  for (const [id, { model, version }] of predictions) {
    const key = `${model}@${version}`;
    if (!contracts.has(key)) {
      const [row] = await db
        .select({ contract: modelVersions.contract })
        .from(modelVersions)
        .where(and(eq(modelVersions.modelName, model), eq(modelVersions.version, version)));
      contracts.set(key, row?.contract as { task?: ModelTask; classes?: string[] } | undefined);
    }
    const contract = contracts.get(key);
    if (contract) targets.set(id, { model, version, task: contract.task ?? 'binary', classes: contract.classes });
  }
  return targets;
}

/**
 * Checks each item against the task of the version that made its prediction and returns the rows
 * to store. An id that no logged prediction has is a 404 (the caller resolves ids still in
 * its own log queue, and waits a while for those another server may be writing).
 */
export function resolveFeedback(items: FeedbackItem[], targets: ReadonlyMap<string, PredictionTarget>): Feedback[] {
  return items.map(({ where, predictionId, label, value }) => {
    const target = targets.get(predictionId);
    if (!target) {
      throw new RequestError(
        404,
        `${where}: no logged prediction has the id ${predictionId} (feedback refers to an id a prediction returned)`,
      );
    }
    const of = `prediction ${predictionId} was made by ${target.model} version ${target.version}, a ${target.task} model`;
    switch (target.task) {
      case 'regression':
        if (value === undefined) throw new RequestError(400, `${where}: ${of}: send its observed "value" (a number), not a "label"`);
        return { predictionId, label: null, value };
      case 'binary': {
        if (label === undefined) throw new RequestError(400, `${where}: ${of}: send its observed "label" (0 or 1), not a "value"`);
        const bit = label === true ? 1 : label === false ? 0 : label;
        if (bit !== 0 && bit !== 1) throw new RequestError(400, `${where}: ${of}: "label" must be 0 or 1, got ${show(label)}`);
        return { predictionId, label: bit, value: null };
      }
      case 'multiclass': {
        const classes = target.classes ?? [];
        const index = label === undefined || typeof label === 'boolean' ? -1 : classes.indexOf(String(label));
        if (index < 0) {
          const given = label === undefined ? 'a "value"' : show(label);
          throw new RequestError(
            400,
            `${where}: ${of}: "label" must be one of its classes (${classes.map((c) => JSON.stringify(c)).join(', ')}), got ${given}`,
          );
        }
        return { predictionId, label: index, value: null };
      }
    }
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
