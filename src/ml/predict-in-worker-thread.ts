import { columnBuffers, type FeatureColumn } from './feature-columns';
import type { Row } from './row';
import { modelFeatureColumnsInTurns, type TrainedModel } from './trained-model';
import { runWorkerTask } from './worker-thread';

/** What the prediction worker receives. */
export interface PredictionTask {
  model: TrainedModel;
  columns: FeatureColumn[];
}

/**
 * predictOutputs in a worker thread: scoring a large model on a validation or test split takes
 * seconds of synchronous work, which would stall the event loop (heartbeats, and in the
 * all-in-one process the predictions the server answers meanwhile). The rows cross as the
 * model's feature columns, moved rather than copied (a structured clone of 400,000 rows took
 * 0.7 s of the event loop). Same code, same float64 results as in process.
 */
export async function predictOutputsInWorkerThread(model: TrainedModel, rows: readonly Row[]): Promise<Float64Array> {
  if (rows.length === 0) return new Float64Array(0);
  const columns = await modelFeatureColumnsInTurns(model, rows);
  return runWorkerTask<Float64Array>(new URL('./predict-worker.ts', import.meta.url), { model, columns } satisfies PredictionTask, {
    transferList: columnBuffers(columns),
  });
}
