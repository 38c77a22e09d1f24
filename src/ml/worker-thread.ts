import { parentPort, Worker, workerData, type Transferable } from 'node:worker_threads';
import {
  DataValidationError,
  DataValidationErrorType,
  FeatureContractError,
  FeatureContractErrorType,
  InvalidInputError,
  InvalidInputErrorType,
  ModelVerificationError,
  ModelVerificationErrorType,
  TargetError,
  TargetErrorType,
} from '../shared/errors';

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
    worker.on('error', (error) => fail(asDomainError(error)));
    worker.on('exit', (code) => {
      settle(() => reject(new Error(`worker ${workerModule.pathname} exited (code ${code}) without a result`)));
    });
  });
}

/** keel's domain errors a worker may throw, rebuilt from what crosses the thread boundary. */
const domainErrors: Record<string, (error: Error & { rule?: unknown; observed?: unknown }) => Error> = {
  [InvalidInputErrorType]: ({ message }) => new InvalidInputError(message),
  [TargetErrorType]: ({ message }) => new TargetError(message),
  [FeatureContractErrorType]: ({ message }) => new FeatureContractError(message),
  [ModelVerificationErrorType]: ({ message }) => new ModelVerificationError(message),
  [DataValidationErrorType]: ({ message, rule, observed }) => new DataValidationError(message, String(rule), observed),
};

/**
 * A worker's error arrives here as a plain Error that keeps its name, message and own properties
 * (node's serializer). Temporal types an activity's failure after the error's constructor, and
 * the retry policies list domain error types as non-retryable: a TargetError thrown in a training
 * thread would otherwise become a retryable "Error", retried to no purpose. So a domain error
 * comes back as its class, with the worker's stack.
 */
function asDomainError(error: unknown): unknown {
  if (!(error instanceof Error) || error.constructor !== Error || !Object.hasOwn(domainErrors, error.name)) return error;
  const rebuilt = domainErrors[error.name](error);
  rebuilt.stack = error.stack;
  return rebuilt;
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
