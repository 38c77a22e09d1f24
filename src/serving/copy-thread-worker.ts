// The thread behind CopyThread (copy-thread.ts): one PostgreSQL connection, one COPY at a time
// in the order asked.
import { connect, type Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import postgres from 'postgres';
import { copyPaced } from './paced-copy';

/** `copy` writes its text after the chunks sent before it under the same id (copyLines). */
export type CopyRequest =
  | { type: 'copy'; id: number; table: string; columns: string[]; text: string }
  | { type: 'chunk'; id: number; text: string }
  | { type: 'close' };
export interface CopyReply {
  id: number;
  /** The failure, with PostgreSQL's SQLSTATE code when it has one (23505: a unique violation). */
  error?: { message: string; code?: string };
}

const port = parentPort;
if (!port) throw new Error('copy-thread-worker.ts must run in a worker thread');
const { url } = (workerData as { input: { url: string } }).input;
const sql = postgres(url, { max: 1, onnotice: () => {}, socket: connectWithoutDelay } as postgres.Options<
  Record<string, postgres.PostgresType>
>);

/**
 * A socket with Nagle's algorithm off. A COPY ends with a 5-byte CopyDone written after the data;
 * with Nagle on, it waits for the ACK of the data, which PostgreSQL's kernel delays by up to
 * 40 ms — one COPY per 40 ms, far slower than the log fills (postgres.js leaves its sockets as
 * Node makes them, Nagle on). postgres.js still negotiates TLS on this socket when asked to.
 * The first host of the URL, or its unix socket.
 *
 * Returned while still connecting, never as a promise that rejects: postgres.js queues its
 * startup message until the socket connects, and a refused connection reaches it as the socket's
 * `error` and `close`, after which it connects anew for the next query. A rejected promise instead
 * left its connection stuck in "connecting" for good: after one COPY failed while PostgreSQL was
 * down, every later COPY hung, and the prediction log stopped being written until a restart.
 */
function connectWithoutDelay(options: { host: string[]; port: number[]; path?: string }): Socket {
  const socket = options.path ? connect(options.path) : connect(options.port[0], options.host[0]);
  socket.setNoDelay(true);
  return socket;
}

const chunks = new Map<number, string[]>();

port.on('message', (request: CopyRequest) => {
  if (request.type === 'close') {
    void sql.end({ timeout: 5 }).finally(() => port.close());
    return;
  }
  if (request.type === 'chunk') {
    const sent = chunks.get(request.id);
    if (sent) sent.push(request.text);
    else chunks.set(request.id, [request.text]);
    return;
  }
  const text = [...(chunks.get(request.id) ?? []), request.text];
  chunks.delete(request.id);
  copyPaced(sql, request.table, request.columns, text).then(
    () => port.postMessage({ id: request.id } satisfies CopyReply),
    (error: unknown) => {
      const { message, code } = error as { message?: string; code?: unknown };
      port.postMessage({
        id: request.id,
        error: { message: message ?? String(error), code: typeof code === 'string' ? code : undefined },
      } satisfies CopyReply);
    },
  );
});
