/** Worker-thread side of predictOutputsInWorkerThread (see predict-in-worker-thread.ts). */
import type { PredictionTask } from './predict-in-worker-thread';
import { predictOutputs } from './trained-model';
import { serveWorkerTask } from './worker-thread';

await serveWorkerTask<PredictionTask, Float64Array>(({ model, columns }) => predictOutputs(model, { columns }));
