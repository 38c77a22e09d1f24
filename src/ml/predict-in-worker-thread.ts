import type { Row } from './row';
import type { TrainedModel } from './trained-model';
import { runWorkerTask } from './worker-thread';

/** What the prediction worker receives. */
export interface PredictionInput {
  model: TrainedModel;
  rows: readonly Row[];
}

/**
 * predictOutputs in a worker thread: scoring a large model on a validation or test split takes
 * seconds of synchronous work, which would stall the event loop (heartbeats, and in the
 * all-in-one process the predictions the server answers meanwhile). Same code, same float64
 * results as in process.
 */
export async function predictOutputsInWorkerThread(model: TrainedModel, rows: readonly Row[]): Promise<Float64Array> {
  if (rows.length === 0) return new Float64Array(0);
  return runWorkerTask<Float64Array>(new URL('./predict-worker.ts', import.meta.url), { model, rows } satisfies PredictionInput);
}
