/**
 * A helper thread of parallel GBDT training (see parallel.ts). It starts before the training data
 * is ready (its module loading overlaps the trainer's binning), then receives the shared arrays
 * on its port — or null when training will not happen.
 */
import type { MessagePort } from 'node:worker_threads';
import { serveWorkerTask } from '../worker-thread';
import { runHelper, type HelperInput } from './parallel';

await serveWorkerTask<{ port: MessagePort }, void, 'ready'>(async ({ port }, reportProgress) => {
  const input = await new Promise<HelperInput | null>((resolve) => port.once('message', resolve));
  port.close();
  if (input) runHelper(input, () => reportProgress('ready'));
});
