/** Worker-thread side of trainGbdtInWorkerThread (see train.ts). */
import type { GbdtProgress } from './booster';
import type { GbdtModel } from './model';
import { trainGbdt, type GbdtWorkerInput } from './train';
import { serveWorkerTask } from '../worker-thread';

await serveWorkerTask<GbdtWorkerInput, GbdtModel, GbdtProgress>(({ table, threads, checkpointEvery, resumeFrom }, reportProgress) =>
  trainGbdt(table, { threads, checkpointEvery, resumeFrom, onProgress: reportProgress }),
);
