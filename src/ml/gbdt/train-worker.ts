/** Worker-thread side of trainGbdtInWorkerThread (see train.ts). */
import type { GbdtProgress } from './booster';
import type { GbdtModel } from './model';
import { progressEncoder, type GbdtProgressMessage } from './progress-messages';
import { trainGbdt, type GbdtWorkerInput } from './train';
import { serveWorkerTask } from '../worker-thread';

await serveWorkerTask<GbdtWorkerInput, GbdtModel, GbdtProgressMessage>(
  ({ table, threads, checkpointEvery, resumeFrom }, reportProgress) => {
    const encode = progressEncoder();
    return trainGbdt(table, {
      threads,
      checkpointEvery,
      resumeFrom,
      onProgress: (progress: GbdtProgress) => reportProgress(encode(progress)),
    });
  },
);
