import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { Database } from '../db/database';
import { tsWorkerBootstrap } from '../ml/worker-thread';
import type { CopyReply, CopyRequest } from './copy-thread-worker';
import { tailTrace } from './tail-trace';

const workerModule = new URL('./copy-thread-worker.ts', import.meta.url);
/**
 * Lines per message of copyLines. Joining a 20,000-row catch-up batch and posting it in one piece
 * held the event loop about 6 ms (and tens of ms on a busy machine: the COPY hand-over in
 * `bench:serve`'s tail trace); a thousand lines take a few hundred microseconds.
 */
const LINES_PER_MESSAGE = 1000;

/**
 * COPY into PostgreSQL from a thread of its own, over its own connection. The prediction log
 * writes a row per prediction: sending them (the client's protocol work, and the loopback TCP
 * send, whose receiving side the kernel runs in the sender's thread) cost the model server's
 * event loop about 2 µs per row, a tenth of a request's budget. The thread starts on the first
 * copy; if it dies, the copies in flight fail (the log retries them) and the next copy starts a
 * new one.
 */
export class CopyThread implements Pick<Database, 'copyText'> {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private closed = false;

  constructor(private readonly url: string) {}

  copyText(table: string, columns: string[], text: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the COPY thread is closed'));
    if (text === '') return Promise.resolve();
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ type: 'copy', id, table, columns, text } satisfies CopyRequest);
    });
  }

  /**
   * One COPY of `lines`, handed to the thread a thousand lines at a time with a turn of the event
   * loop between them, so other requests are served while a large batch is handed over.
   */
  async copyLines(table: string, columns: string[], lines: readonly string[]): Promise<void> {
    if (this.closed) throw new Error('the COPY thread is closed');
    if (lines.length === 0) return;
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    const done = new Promise<void>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    // A thread that dies meanwhile fails `done` before it is awaited below.
    done.catch(() => {});
    for (let from = 0; from < lines.length; from += LINES_PER_MESSAGE) {
      if (from > 0) await new Promise((resolve) => setImmediate(resolve));
      if (this.worker !== worker) break; // it died: `done` has failed
      const started = performance.now();
      const text = lines.slice(from, from + LINES_PER_MESSAGE).join('');
      worker.postMessage({ type: 'chunk', id, text } satisfies CopyRequest);
      tailTrace?.span('copy', started);
    }
    if (this.worker === worker) worker.postMessage({ type: 'copy', id, table, columns, text: '' } satisfies CopyRequest);
    return done;
  }

  /** Stops the thread as a crash would (tests): copies in flight fail, the next copy starts a new thread. */
  async crashForTest(): Promise<void> {
    await this.worker?.terminate();
  }

  /** Closes the thread's connection and ends the thread; call once every copy has settled. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    const exited = once(worker, 'exit');
    worker.postMessage({ type: 'close' } satisfies CopyRequest);
    await exited;
  }

  private start(): Worker {
    const worker = new Worker(tsWorkerBootstrap, { workerData: { module: workerModule.href, input: { url: this.url } } });
    worker.on('message', (reply: CopyReply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.error) waiter.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
      else waiter.resolve();
    });
    // An uncaught error ends the thread: 'exit' follows and fails what is in flight.
    worker.on('error', () => {});
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      const error = new Error(`the prediction log's COPY thread stopped (exit code ${code})`);
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    });
    this.worker = worker;
    return worker;
  }
}
