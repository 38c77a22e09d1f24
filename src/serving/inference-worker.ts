// An inference thread of the model server (see inference-pool.ts). It holds its own
// InferenceSession per loaded model version and runs one batch at a time, so batches too dear for
// the event loop never block it, and both cores do inference. It reports each run's duration:
// the pool learns from it which batches are cheap enough to run inline.
import { parentPort } from 'node:worker_threads';
import { InferenceSession } from 'onnxruntime-node';
import { type ModelSpec, runSession, sessionOptions, signatureOf, type WorkerReply, type WorkerRequest } from './inference-protocol';

const sessions = new Map<string, { session: InferenceSession; spec: ModelSpec }>();
const inFlight = new Set<Promise<unknown>>();
const port = parentPort;
if (!port) throw new Error('inference-worker.ts must run in a worker thread');

port.on('message', (message: WorkerRequest) => {
  if (message.type === 'close') {
    void close();
    return;
  }
  const handled: Promise<unknown> = handle(message).then(
    (reply) => reply && port.postMessage(reply),
    (error: unknown) => {
      if ('id' in message) port.postMessage({ id: message.id, ok: false, error: errorMessage(error) } satisfies WorkerReply);
    },
  );
  inFlight.add(handled);
  void handled.finally(() => inFlight.delete(handled));
});

async function handle(message: WorkerRequest): Promise<WorkerReply | undefined> {
  switch (message.type) {
    case 'ping':
      return { id: message.id, ok: true };
    case 'load': {
      const session = await InferenceSession.create(message.bytes, sessionOptions);
      sessions
        .get(message.key)
        ?.session.release()
        .catch(() => {});
      sessions.set(message.key, { session, spec: message.spec });
      return { id: message.id, ok: true, signature: signatureOf(session) };
    }
    case 'unload': {
      const loaded = sessions.get(message.key);
      sessions.delete(message.key);
      await loaded?.session.release();
      return undefined;
    }
    case 'close':
      return undefined;
    case 'run': {
      const loaded = sessions.get(message.key);
      if (!loaded) throw new Error(`model ${message.key} is not loaded in this inference thread`);
      const started = performance.now();
      const outputs = await runSession(loaded.session, loaded.spec, message.batch);
      return { id: message.id, ok: true, outputs, runMs: performance.now() - started };
    }
  }
}

/** Releases the sessions, then lets the thread end by itself: no native session outlives it. */
async function close(): Promise<void> {
  await Promise.allSettled(inFlight);
  const loaded = [...sessions.values()];
  sessions.clear();
  await Promise.allSettled(loaded.map(({ session }) => session.release()));
  port?.close();
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
