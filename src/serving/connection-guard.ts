import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { RequestLimits } from './request-limits';

/**
 * Slow and abandoned connections cost a counter and, for a slow one, one debug line: never an
 * error-level line with a stack trace, which 1,000 abandoned connections would turn into 1,000.
 *
 * - A request whose headers (or whole request, body included) have not arrived within
 *   `headersTimeoutMs` (`requestTimeoutMs`) is answered 408, and its connection closed (slowloris). Node.js checks those deadlines every
 *   `connectionsCheckingInterval` ms, which createServer must set (timeoutCheckMs).
 * - A client that goes away while its request arrives is counted as aborted; its handler gets
 *   ClientGoneError and answers nobody.
 */
export interface ConnectionEvents {
  timedOut(phase: 'headers' | 'body'): void;
  aborted(): void;
}

/** A request whose client went away (or was cut off by a timeout) before it was read. */
export class ClientGoneError extends Error {
  override readonly name = 'ClientGoneError';
}

/** How often Node.js checks the deadlines: a tenth of the shorter one, at most every second. */
export function timeoutCheckMs(limits: Pick<RequestLimits, 'headersTimeoutMs' | 'requestTimeoutMs'>): number {
  return Math.max(10, Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 10)));
}

// The request being read on a socket: a timeout then cuts off a body, not headers.
const reading = new WeakMap<Socket, IncomingMessage>();
const timedOut = new WeakSet<Socket>();

/** Sets the deadlines on `server` and answers its client errors. */
export function guardConnections(
  server: Server,
  limits: Pick<RequestLimits, 'headersTimeoutMs' | 'requestTimeoutMs'>,
  events: ConnectionEvents,
  logger: Logger,
): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      const request = reading.get(socket);
      const phase = request && !request.complete ? 'body' : 'headers';
      timedOut.add(socket);
      events.timedOut(phase);
      logger.debug(
        { phase, remote: socket.remoteAddress, limitMs: phase === 'body' ? limits.requestTimeoutMs : limits.headersTimeoutMs },
        'slow request closed',
      );
      closeWith(socket, 'HTTP/1.1 408 Request Timeout');
      return;
    }
    if (error.code === 'ECONNRESET' || error.code === 'EPIPE') {
      events.aborted();
      socket.destroy();
      return;
    }
    // What Node.js answers by default when no listener is set.
    closeWith(socket, error.code === 'HPE_HEADER_OVERFLOW' ? 'HTTP/1.1 431 Request Header Fields Too Large' : 'HTTP/1.1 400 Bad Request');
  });
}

function closeWith(socket: Socket, statusLine: string): void {
  if (socket.writable && socket.bytesWritten === 0) socket.write(`${statusLine}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

/** Marks the body of `req` as being read, until it has arrived or its client is gone. */
export function readingBody(req: IncomingMessage): void {
  reading.set(req.socket, req);
}

export function bodyRead(req: IncomingMessage): void {
  reading.delete(req.socket);
}

/**
 * The error for a request whose body stopped arriving: counted as aborted unless a timeout cut it
 * off (counted there already).
 */
export function clientGone(req: IncomingMessage, events: ConnectionEvents): ClientGoneError {
  reading.delete(req.socket);
  if (!timedOut.has(req.socket)) events.aborted();
  return new ClientGoneError('the client went away before its request arrived');
}
