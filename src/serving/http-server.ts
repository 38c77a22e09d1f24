// node:http rather than a framework: the server has a handful of routes, node:http adds no
// dependency and no per-request overhead, and body limits and shutdown are explicit below.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { pino, type Logger } from 'pino';
import type { Database } from '../db/database';
import type { ArtifactStore } from '../registry/artifact-store';
import { ModelPool } from './model-pool';
import { parseInstances, predict, RequestError } from './predict';
import { PredictionLogWriter } from './prediction-log';

export interface ModelServerOptions {
  database: Database;
  artifacts: ArtifactStore;
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** Period of the background routing refresh; 0 turns it off. Default 2000. */
  refreshMs?: number;
  maxBodyBytes?: number;
  /** Models to serve; by default every model with a production alias. */
  models?: string[];
  logger?: Logger;
}

export interface ModelServer {
  url: string;
  port: number;
  pool: ModelPool;
  logWriter: PredictionLogWriter;
  /** Stops accepting connections, waits for in-flight requests, then flushes the prediction log. */
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Fields added to the request's log line. */
  log?: Record<string, unknown>;
}

const MODEL_PATH = /^\/v1\/models\/([^/]+?)(:predict)?$/;

export async function startModelServer(options: ModelServerOptions): Promise<ModelServer> {
  const host = options.host ?? '127.0.0.1';
  const maxBodyBytes = options.maxBodyBytes ?? 1_000_000;
  const logger = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' });
  const pool = await ModelPool.open({
    database: options.database,
    artifacts: options.artifacts,
    logger,
    models: options.models,
    refreshMs: options.refreshMs,
  });
  const logWriter = new PredictionLogWriter(options.database, { logger });

  async function route(req: IncomingMessage, path: string): Promise<Reply> {
    if (path === '/healthz') {
      requireMethod(req, 'GET');
      return { status: 200, body: { status: 'ok', models: pool.list().length } };
    }
    if (path === '/v1/models') {
      requireMethod(req, 'GET');
      const models = pool.list().map((m) => ({ name: m.name, version: m.version, loadedAt: m.loadedAt }));
      return { status: 200, body: { models } };
    }
    if (path === '/v1/admin/refresh') {
      requireMethod(req, 'POST');
      const report = await pool.refresh().catch((error: unknown) => {
        throw new RequestError(503, `refresh failed, serving unchanged: ${(error as Error).message}`);
      });
      return { status: 200, body: report };
    }
    const match = MODEL_PATH.exec(path);
    if (!match) throw new RequestError(404, `no route for ${req.method} ${path}`);
    const name = decodePathSegment(match[1]);
    if (match[2]) {
      requireMethod(req, 'POST');
      return predictRoute(req, name);
    }
    requireMethod(req, 'GET');
    const model = pool.get(name);
    if (!model) throw notServed(name);
    const refused = pool.refusal(name);
    return {
      status: 200,
      body: {
        name,
        version: model.version,
        contract: model.contract,
        loaded: true,
        loadedAt: model.loadedAt,
        artifactSha256: model.artifactSha256,
        ...(refused && { refused }),
      },
    };
  }

  async function predictRoute(req: IncomingMessage, name: string): Promise<Reply> {
    // The lease pins the version: a hot swap during this request does not change its model.
    // Taken before the body is read, so an unknown model is a 404 whatever was sent.
    const lease = pool.acquire(name);
    if (!lease) throw notServed(name);
    try {
      const body = await readJson(req, maxBodyBytes);
      if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).some((k) => k !== 'instances')) {
        throw new RequestError(400, 'the body must be {"instances": [{...feature values...}, ...]}');
      }
      const { model } = lease;
      const started = performance.now();
      const instances = parseInstances(model.contract, (body as { instances?: unknown }).instances);
      const predictions = await predict(model, instances);
      const latencyMs = performance.now() - started;
      const createdAt = new Date();
      logWriter.append(
        predictions.map((p, i) => ({
          id: p.id,
          model: name,
          version: model.version,
          inputs: instances[i],
          outputs: { probability: p.probability, label: p.label },
          latencyMs,
          createdAt,
        })),
      );
      return {
        status: 200,
        body: { model: name, version: model.version, predictions },
        log: { model: name, version: model.version, instances: instances.length },
      };
    } finally {
      lease.release();
    }
  }

  let inFlight = 0;
  let closing = false;
  let drained: (() => void) | undefined;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const path = (req.url ?? '/').split('?')[0];
    inFlight++;
    try {
      let reply: Reply;
      try {
        reply = await route(req, path);
      } catch (error) {
        reply = errorReply(error);
        if (reply.status >= 500) logger.error({ err: error, method: req.method, path }, 'request failed');
      }
      // Tell keep-alive clients to reconnect elsewhere while shutting down, and after a 413
      // whose unread rest of the body must not be parsed as a next request.
      if (closing || reply.status === 413) res.setHeader('Connection', 'close');
      send(res, reply);
      // Health checks arrive every few seconds: only failures are worth an info line.
      const level = path === '/healthz' && reply.status === 200 ? 'debug' : 'info';
      const ms = round(performance.now() - started);
      logger[level]({ method: req.method, path, status: reply.status, ms, ...reply.log }, 'request');
    } finally {
      inFlight--;
      if (inFlight === 0) drained?.();
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url, models: pool.list().map((m) => `${m.name}@${m.version}`) }, 'model server listening');

  let closed: Promise<void> | undefined;
  async function close(): Promise<void> {
    closing = true;
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
    // Every request has been answered; what is left are idle keep-alive connections.
    server.closeAllConnections();
    await stopped;
    await pool.close();
    await logWriter.close();
    logger.info({ predictionLog: logWriter.stats() }, 'model server stopped');
  }

  return { url, port, pool, logWriter, close: () => (closed ??= close()) };
}

class MethodNotAllowedError extends RequestError {
  constructor(readonly allow: string) {
    super(405, `method not allowed; use ${allow}`);
  }
}

function requireMethod(req: IncomingMessage, method: string): void {
  if (req.method !== method) throw new MethodNotAllowedError(method);
}

function notServed(name: string): RequestError {
  return new RequestError(404, `model "${name}" is not served (it has no loaded production version)`);
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RequestError(400, `malformed model name in path: ${segment}`);
  }
}

/** Reads and parses a JSON body, answering 413 as soon as it exceeds the limit. */
function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const tooLarge = () => new RequestError(413, `request body exceeds the limit of ${maxBytes} bytes`);
  const declared = Number(req.headers['content-length']);
  if (declared > maxBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      // Stop buffering but keep reading (and discarding), so the client gets to read the 413;
      // destroying the socket would show it a reset instead.
      req.off('data', onData);
      req.off('end', onEnd);
      req.resume();
      reject(tooLarge());
    };
    const onEnd = () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        reject(new RequestError(400, `invalid JSON body: ${(error as Error).message}`));
      }
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}

function errorReply(error: unknown): Reply {
  if (error instanceof MethodNotAllowedError) {
    return { status: 405, body: { error: error.message }, headers: { allow: error.allow } };
  }
  if (error instanceof RequestError) return { status: error.status, body: { error: error.message } };
  return { status: 500, body: { error: 'internal error; see the server log' } };
}

function send(res: ServerResponse, reply: Reply): void {
  const payload = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    ...reply.headers,
  });
  res.end(payload);
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
