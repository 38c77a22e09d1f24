import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { bodyRead, clientGone, type ConnectionEvents, readingBody } from '../connection-guard';
import { RequestError } from '../predict';

/** Reads and parses a JSON body, answering 413 as soon as it exceeds the limit. */
export function readJson(req: IncomingMessage, maxBytes: number, connections: ConnectionEvents): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (declared > maxBytes) {
    // Drain (and discard) what the client still sends, so it gets to read the 413.
    req.resume();
    return Promise.reject(bodyTooLarge(maxBytes));
  }
  return new Promise((resolve, reject) => new BodyReader(req, maxBytes, connections, resolve, reject));
}

function bodyTooLarge(maxBytes: number): RequestError {
  return new RequestError(413, `request body exceeds the limit of ${maxBytes} bytes`);
}

/**
 * Collects one request body. A class with bound methods rather than closures: this runs for
 * every request, and the TypeScript loader names every closure it creates (a defineProperty per
 * closure, per request).
 */
class BodyReader {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private readonly onData = this.data.bind(this);
  private readonly onEnd = this.end.bind(this);
  private readonly onGone = this.gone.bind(this);

  constructor(
    private readonly req: IncomingMessage,
    private readonly maxBytes: number,
    private readonly connections: ConnectionEvents,
    private readonly resolve: (value: unknown) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    readingBody(req);
    req.on('data', this.onData);
    req.on('end', this.onEnd);
    // An aborted request emits `error` ("aborted", ECONNRESET): the client is gone, not the server broken.
    req.on('error', this.onGone);
  }

  private gone(): void {
    this.reject(clientGone(this.req, this.connections));
  }

  private data(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size <= this.maxBytes) {
      this.chunks.push(chunk);
      return;
    }
    // Stop buffering but keep reading (and discarding), so the client gets to read the 413;
    // destroying the socket would show it a reset instead.
    this.req.off('data', this.onData);
    this.req.off('end', this.onEnd);
    this.req.resume();
    this.reject(bodyTooLarge(this.maxBytes));
  }

  private end(): void {
    bodyRead(this.req);
    const { chunks } = this;
    const bytes = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    // Invalid UTF-8 would decode to U+FFFD and be scored and logged as something never sent.
    if (!isUtf8(bytes)) {
      this.reject(new RequestError(400, 'the request body is not valid UTF-8 (JSON must be UTF-8)'));
      return;
    }
    const text = bytes.toString('utf8');
    if (text === '') {
      this.reject(new RequestError(400, 'empty request body: send a JSON document'));
      return;
    }
    try {
      this.resolve(JSON.parse(text));
    } catch (error) {
      this.reject(new RequestError(400, `invalid JSON body: ${(error as Error).message}`));
    }
  }
}
