/** Worker-thread side of predictOutputsInWorkerThread (see predict-in-worker-thread.ts). */
import type { PredictionInput } from './predict-in-worker-thread';
import { predictOutputs } from './trained-model';
import { serveWorkerTask } from './worker-thread';

await serveWorkerTask<PredictionInput, Float64Array>(({ model, rows }) => predictOutputs(model, rows));
