import type { Logger } from 'pino';
import type { OutputValues } from '../ml/batch-score';
import { onnxFeedColumns } from '../ml/onnx/feed-columns';
import type { Row } from '../ml/row';
import { InferencePool } from '../serving/inference-pool';
import type { ModelContract } from '../shared/model-contract';
import { answerOutputs } from './scored-columns';

/** Scores rows with a model, identified by its artifact sha256 (the key its session is cached by). */
export interface BatchScorer {
  score(key: string, model: Uint8Array, contract: ModelContract, rows: readonly Row[]): Promise<Record<string, OutputValues>>;
  close(): Promise<void>;
}

/** Rows per session.run: large enough to amortise the call, small enough to spread over the threads. */
const pieceRows = 16_384;
/** Models whose sessions stay loaded; the least recently used idle one is unloaded beyond it. */
const keptModels = 4;

/**
 * Batch scoring on the model server's inference pool: long-lived threads that keep a session per
 * model, so a chunk pays neither a thread start nor a session load, and the rows go through the
 * very code (and session options) that answers predictions. Threads start on first use.
 */
export function createPooledScorer(options: { threads: number; logger: Logger }): BatchScorer {
  let pool: Promise<InferencePool> | undefined;
  const models = new Map<string, { loaded: Promise<unknown>; inUse: number }>();

  const acquire = async (key: string, bytes: Uint8Array, contract: ModelContract) => {
    pool ??= InferencePool.create({
      logger: options.logger,
      threads: options.threads,
      maxBatchRows: pieceRows,
      maxQueuedRows: Number.MAX_SAFE_INTEGER,
      inlineBudgetMs: 0,
    });
    const ready = await pool;
    let model = models.get(key);
    if (!model) {
      const wanted = new Set(answerOutputs(contract));
      const spec = {
        inputs: contract.inputs,
        outputs: contract.outputs.filter((o) => wanted.has(o.name)).map((o) => ({ name: o.name, type: o.type, width: o.shape[1] })),
      };
      model = { loaded: ready.load(key, bytes, spec), inUse: 0 };
      models.set(key, model);
      for (const [other, entry] of models) {
        if (models.size <= keptModels) break;
        if (other !== key && entry.inUse === 0) {
          models.delete(other);
          ready.unload(other);
        }
      }
    } else {
      // Most recently used last.
      models.delete(key);
      models.set(key, model);
    }
    model.inUse++;
    try {
      await model.loaded;
    } catch (error) {
      model.inUse--;
      models.delete(key);
      throw error;
    }
    return { pool: ready, model };
  };

  return {
    async score(key, bytes, contract, rows) {
      const { pool: ready, model } = await acquire(key, bytes, contract);
      try {
        const pieces: Promise<Record<string, OutputValues>>[] = [];
        for (let start = 0; start < rows.length; start += pieceRows) {
          const piece = rows.slice(start, start + pieceRows);
          pieces.push(ready.submit(key, onnxFeedColumns(contract.inputs, piece), piece.length));
        }
        return concatOutputs(await Promise.all(pieces), answerOutputs(contract));
      } finally {
        model.inUse--;
      }
    },
    async close() {
      if (pool) await (await pool).close();
    },
  };
}

function concatOutputs(parts: Record<string, OutputValues>[], names: string[]): Record<string, OutputValues> {
  return Object.fromEntries(
    names.map((name) => {
      const values = parts.map((part) => part[name]);
      const length = values.reduce((sum, v) => sum + v.length, 0);
      const all = values[0] instanceof BigInt64Array ? new BigInt64Array(length) : new Float32Array(length);
      let offset = 0;
      for (const v of values) {
        (all as Float32Array).set(v as Float32Array, offset);
        offset += v.length;
      }
      return [name, all];
    }),
  );
}
