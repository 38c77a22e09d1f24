import { and, eq, gte, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/database';
import { feedback, predictionLog } from '../db/schema';
import { getModelVersion, resolveAlias, type ModelVersion } from '../registry/model-registry';

/** A time window of the prediction log, ISO timestamps, end exclusive. */
export interface TimeWindow {
  start: string;
  end: string;
}

/** A logged prediction's outputs, by task (src/serving/prediction-log.ts writes them). */
type LoggedOutputs = { probability?: number; label?: number | string; prediction?: number; probabilities?: number[] };

export interface WindowRow {
  version: number;
  shadow: boolean;
  at: number;
  inputs: unknown;
  /** The prediction-drift score (see loggedDriftScore): P(1) for a binary model. */
  probability: number;
  /** What the model answered, as logged per task. */
  outputs: LoggedOutputs | null;
  /** Ground truth: a class (0/1, or a multiclass model's class index) or an observed value. */
  feedback: { label: number | null; value: number | null } | null;
}

/**
 * The version to monitor over a window: production, or, for a past window production did not
 * serve, the version that served most of it. None when the model has neither.
 */
export async function monitoredVersion(db: Db, model: string, window: TimeWindow): Promise<ModelVersion | undefined> {
  const production = await resolveAlias(db, model, 'production');
  const served = await servedVersions(db, model, window);
  if (served.length && !served.some((s) => s.version === production?.version)) {
    const dominant = served.reduce((a, b) => (b.rows > a.rows ? b : a));
    return getModelVersion(db, model, dominant.version);
  }
  return production;
}

/** How many live (not shadow) predictions each version of the model answered in the window. */
async function servedVersions(db: Db, model: string, window: TimeWindow): Promise<{ version: number; rows: number }[]> {
  return db
    .select({ version: predictionLog.version, rows: sql<number>`count(*)::int` })
    .from(predictionLog)
    .where(
      and(
        eq(predictionLog.modelName, model),
        gte(predictionLog.createdAt, new Date(window.start)),
        lt(predictionLog.createdAt, new Date(window.end)),
        eq(predictionLog.shadow, false),
      ),
    )
    .groupBy(predictionLog.version);
}

/**
 * The window's answered predictions (inference errors excluded) with their ground truth, if
 * any. More than `maxRows`: an even, deterministic subset (by a hash of the prediction id).
 */
export async function readWindow(db: Db, model: string, window: TimeWindow, maxRows: number, withInputs: boolean): Promise<WindowRow[]> {
  const where = and(
    eq(predictionLog.modelName, model),
    gte(predictionLog.createdAt, new Date(window.start)),
    lt(predictionLog.createdAt, new Date(window.end)),
    sql`${predictionLog.error} is null`,
  );
  const [{ rows: total }] = await db
    .select({ rows: sql<number>`count(*)::int` })
    .from(predictionLog)
    .where(where);
  const step = Math.ceil(total / maxRows);
  const rows = await db
    .select({
      version: predictionLog.version,
      shadow: predictionLog.shadow,
      createdAt: predictionLog.createdAt,
      inputs: withInputs ? predictionLog.inputs : sql<null>`null`,
      outputs: predictionLog.outputs,
      label: feedback.label,
      value: feedback.value,
      answered: feedback.predictionId,
    })
    .from(predictionLog)
    .leftJoin(feedback, eq(feedback.predictionId, sql`coalesce(${predictionLog.primaryId}, ${predictionLog.id})`))
    .where(step > 1 ? and(where, sql`abs(hashtext(${predictionLog.id})) % ${step} = 0`) : where);
  return rows.map((r) => {
    const outputs = r.outputs as LoggedOutputs | null;
    return {
      version: r.version,
      shadow: r.shadow,
      at: r.createdAt.getTime(),
      inputs: r.inputs,
      probability: outputs ? loggedDriftScore(outputs) : Number.NaN,
      outputs,
      feedback: r.answered === null ? null : { label: r.label, value: r.value },
    };
  });
}

/**
 * The one number per prediction whose distribution the prediction-drift check follows: the
 * probability of a binary model, the prediction of a regression, the top class probability (the
 * model's confidence) of a multiclass model. Computed the same way for the reference (test split
 * scores) and for logged predictions.
 */
function loggedDriftScore(outputs: LoggedOutputs): number {
  if (typeof outputs.probability === 'number') return outputs.probability;
  if (typeof outputs.prediction === 'number') return outputs.prediction;
  if (Array.isArray(outputs.probabilities) && outputs.probabilities.length) return Math.max(...outputs.probabilities);
  return Number.NaN;
}
