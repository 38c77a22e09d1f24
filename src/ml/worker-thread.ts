import { parentPort, Worker, workerData, type Transferable } from 'node:worker_threads';

/**
 * Runs CPU-heavy work (training, batch scoring) in a worker thread so the event loop stays free
 * for heartbeats and requests. The parent calls runWorkerTask with a TypeScript module; that
 * module calls serveWorkerTask once with the function that does the work.
 */

type WorkerMessage<Result, Progress> = { type: 'progress'; progress: Progress } | { type: 'result'; result: Result };

/** Entry point of a worker thread running a TypeScript module: `workerData.module` (its URL). */
export const tsWorkerBootstrap = new URL('./ts-worker-bootstrap.mjs', import.meta.url);

export interface WorkerTaskOptions<Progress> {
  /** Buffers of `input` to move to the worker instead of copying (unusable here afterwards). */
  transferList?: readonly Transferable[];
  onProgress?: (progress: Progress) => void;
  /** Aborting stops the worker and rejects with the signal's reason. */
  signal?: AbortSignal;
}

export function runWorkerTask<Result, Progress = never>(
  workerModule: URL,
  input: unknown,
  { transferList = [], onProgress, signal }: WorkerTaskOptions<Progress> = {},
): Promise<Result> {
  return new Promise<Result>((resolve, reject) => {
    signal?.throwIfAborted();
    const worker = new Worker(tsWorkerBootstrap, {
      workerData: { module: workerModule.href, input },
      transferList: [...transferList],
    });
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', abort);
      outcome();
    };
    const fail = (error: unknown) => {
      settle(() => reject(error));
      void worker.terminate();
    };
    const abort = () => fail(signal?.reason);
    signal?.addEventListener('abort', abort, { once: true });

    worker.on('message', (message: WorkerMessage<Result, Progress>) => {
      if (message.type === 'result') {
        settle(() => resolve(message.result));
        return;
      }
      try {
        onProgress?.(message.progress);
      } catch (error) {
        fail(error);
      }
    });
    worker.on('error', fail);
    worker.on('exit', (code) => {
      settle(() => reject(new Error(`worker ${workerModule.pathname} exited (code ${code}) without a result`)));
    });
  });
}

/** Called once by a worker module: runs `task` on the parent's input and posts back the result. */
export async function serveWorkerTask<Input, Result, Progress = never>(
  task: (input: Input, reportProgress: (progress: Progress) => void) => Result | Promise<Result>,
): Promise<void> {
  if (!parentPort) throw new Error('serveWorkerTask must run inside a worker thread');
  const port = parentPort;
  const post = (message: WorkerMessage<Result, Progress>) => port.postMessage(message);
  const result = await task((workerData as { input: Input }).input, (progress) => post({ type: 'progress', progress }));
  post({ type: 'result', result });
}
