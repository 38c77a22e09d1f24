/** Worker-thread side of trainInWorkerThread (see train.ts). */
import type { LinearModel } from './model';
import { trainOnTable, type IterationProgress, type TrainingTable } from './train';
import { serveWorkerTask } from './worker-thread';

await serveWorkerTask<TrainingTable, LinearModel, IterationProgress>((table, reportProgress) =>
  trainOnTable(table, (iteration, loss) => reportProgress({ iteration, loss })),
);
