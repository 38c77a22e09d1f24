// node:http rather than a framework: the server has a handful of routes, node:http adds no
// dependency and no per-request overhead (the benchmark compares keel with a bare node:http
// server, so every microsecond on this path shows), and body limits and shutdown are explicit
// (http/body.ts, connection-guard.ts). The routes and their handlers are under http/; this file
// assembles one server and its lifecycle. See docs/serving.md.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { pino, type Logger } from 'pino';
import { inArray } from 'drizzle-orm';
import type { Database } from '../db/database';
import { predictionLog } from '../db/schema';
import type { ArtifactStore } from '../registry/artifact-store';
import { type AccessPolicy, type ApiKeys, Authenticator, describeAccess, noKeys } from './auth';
import { FeatureEnricher } from './feature-enrichment';
import { InferencePool } from './inference-pool';
import { ServingMetrics } from './metrics';
import { registerMonitorMetrics } from './monitor-metrics';
import { ModelPool } from './model-pool';
import { COLUMNS } from './log-line';
import {
  DEFAULT_FLUSH_MS,
  databaseSink,
  type PredictionLogOptions,
  type PredictionLogSpoolOptions,
  PredictionLogWriter,
} from './prediction-log';
import { claimDeadSegments, SpoolReplay } from './spool-replay';
import { CopyThread } from './copy-thread';
import { ClientGoneError, type ConnectionEvents, guardConnections, timeoutCheckMs } from './connection-guard';
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from './request-limits';
import type { Reply, RequestContext, ServerContext } from './http/context';
import { errorReply, send } from './http/reply';
import { Router } from './http/router';
import { routes } from './http/routes';
import { isV1Predict, v1Predict } from './http/v1';

export interface ModelServerOptions {
  database: Database;
  artifacts: ArtifactStore;
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** Period of the background routing refresh; 0 turns it off. Default 2000. */
  refreshMs?: number;
  /** Larger request bodies are refused with 413. Default 1 MB. */
  maxBodyBytes?: number;
  /** Category string lengths and header/body deadlines (request-limits.ts); `npm run server` and `npm start` pass the environment's. */
  limits?: Partial<RequestLimits>;
  /** Models to serve; by default every model with a production alias. */
  models?: string[];
  /** Default: pino at level info (`npm run server` and `npm start` pass one at LOG_LEVEL). */
  logger?: Logger;
  /** Inference threads; 0 runs inference on the event loop. Default 2 (`npm run server` and `npm start` pass KEEL_INFERENCE_THREADS). */
  inferenceThreads?: number;
  /**
   * Batches expected to run within this many ms run on the event loop rather than a thread (see
   * InferencePool); 0: always a thread. Default 0.25 (`npm run server` and `npm start` pass KEEL_INFERENCE_INLINE_MS).
   */
  inlineInferenceMs?: number;
  /** Micro-batching: most rows per session.run (default 256) and longest wait for companions (default 1 ms). */
  maxBatchRows?: number;
  maxBatchDelayMs?: number;
  /** API keys (the environment's `apiKeys`: KEEL_API_KEYS, KEEL_ADMIN_KEYS, KEEL_KEYS_FILE); default none. */
  apiKeys?: ApiKeys;
  /**
   * The prediction log; with `spool`, every answered prediction is in a local spool first and
   * survives the process (see docs/serving.md). `npm run server` and `npm start` spool by default.
   */
  predictionLog?: Omit<PredictionLogOptions, 'logger' | 'onWrite' | 'spool'> & {
    spool?: Omit<PredictionLogSpoolOptions, 'onReplayNeeded'>;
  };
  /**
   * How long feedback for a prediction id not (yet) in the database keeps looking for it before
   * a 404: another process or replica may have answered it a moment ago. Default 3000 ms.
   */
  feedbackWaitMs?: number;
  /** What `GET /metrics` answers, when this server is one of several processes (src/runtime/server-cluster.ts); by default its own metrics. */
  metricsText?: () => Promise<string>;
  /**
   * Called after each explicit refresh (`POST /v1/admin/refresh`, a route set or cleared here), so
   * the other processes of the same server refresh at once instead of at their next period.
   */
  onExplicitRefresh?: () => void;
}

export interface ModelServer {
  url: string;
  /** Who may call what (src/serving/auth.ts). */
  access: AccessPolicy;
  port: number;
  pool: ModelPool;
  logWriter: PredictionLogWriter;
  /** The spool's replay (with a spool): tests wait for it. */
  replay: SpoolReplay | undefined;
  inference: InferencePool;
  metrics: ServingMetrics;
  /** Stops accepting connections, waits for in-flight requests, then flushes the prediction log. */
  close(): Promise<void>;
}

export async function startModelServer(options: ModelServerOptions): Promise<ModelServer> {
  const host = options.host ?? '127.0.0.1';
  const maxBodyBytes = options.maxBodyBytes ?? 1_000_000;
  const limits: RequestLimits = { ...DEFAULT_REQUEST_LIMITS, ...options.limits };
  const logger = options.logger ?? pino({ level: 'info' });
  const auth = new Authenticator(options.apiKeys ?? noKeys, host);
  const db = options.database.db;

  let pool: ModelPool | undefined;
  // On PostgreSQL the log's COPYs go out from a thread of their own (see copy-thread.ts); PGlite
  // lives in this thread, so its COPYs run here.
  const copyThread = options.database.url ? new CopyThread(options.database.url) : undefined;
  const copyTarget = copyThread ?? options.database;
  const spool = options.predictionLog?.spool;
  const replay = spool
    ? new SpoolReplay({
        copy: (lines) => copyTarget.copyText('prediction_log', COLUMNS, lines.join('')),
        existingIds: async (ids) =>
          new Set((await db.select({ id: predictionLog.id }).from(predictionLog).where(inArray(predictionLog.id, ids))).map((r) => r.id)),
        logger,
        onReplayed: (rows) => logWriter.countReplayed(rows),
        onDropped: (lines) => logWriter.countDropped(lines),
      })
    : undefined;
  const logWriter = new PredictionLogWriter(databaseSink(copyTarget), {
    ...options.predictionLog,
    logger,
    // Writes start with the first prediction, after `metrics` exists.
    onWrite: (rows, seconds) => metrics.logWrite(rows, seconds),
    spool: spool && { ...spool, onReplayNeeded: (path) => replay!.add(path) },
  });
  await logWriter.open();
  if (spool && replay) {
    // What dead processes (an earlier run, a sibling that died) answered but did not write.
    const claimed = await claimDeadSegments(spool.dir, logWriter.spoolDir!);
    if (claimed.length > 0) logger.info({ segments: claimed.length }, 'replaying the prediction spool of dead server processes');
    for (const path of claimed) replay.add(path);
  }
  const closeLog = async () => {
    // Segments not replayed yet stay for the next start.
    await replay?.stop();
    await logWriter.close();
    await copyThread?.close();
  };
  const inference = await InferencePool.create({
    logger,
    threads: options.inferenceThreads ?? 2,
    inlineBudgetMs: options.inlineInferenceMs,
    maxBatchRows: options.maxBatchRows,
    maxDelayMs: options.maxBatchDelayMs,
    onBatch: (key, rows, requests) => {
      const model = keyToModel(key);
      metrics.batch(model.name, model.version, rows, requests);
    },
  });
  const metrics = new ServingMetrics({
    logStats: () => logWriter.stats(),
    logByVersion: () => logWriter.byVersion(),
    inferenceStats: () => inference.stats(),
    pool: () => pool,
  });
  registerMonitorMetrics({ db, models: () => pool?.list().map((m) => m.name) ?? [], logger, registers: [metrics.registry] });
  try {
    pool = await ModelPool.open({
      database: options.database,
      artifacts: options.artifacts,
      inference,
      logger,
      models: options.models,
      refreshMs: options.refreshMs,
    });
  } catch (error) {
    await inference.close();
    await closeLog();
    throw error;
  }
  const models = pool;
  const connections: ConnectionEvents = { timedOut: (phase) => metrics.requestTimedOut(phase), aborted: () => metrics.requestAborted() };
  const context: ServerContext = {
    db,
    models,
    inference,
    metrics,
    logWriter,
    features: new FeatureEnricher(db),
    auth,
    logger,
    limits,
    maxBodyBytes,
    connections,
    feedbackWaitMs: options.feedbackWaitMs ?? 3000,
    logFlushMs: options.predictionLog?.flushMs ?? DEFAULT_FLUSH_MS,
    servedModels: options.models,
    metricsText: options.metricsText,
    closing: false,
    async explicitRefresh() {
      try {
        return await models.refresh();
      } finally {
        options.onExplicitRefresh?.();
      }
    },
  };
  const router = new Router(routes);
  let inFlight = 0;
  let drained: (() => void) | undefined;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const ctx: RequestContext = { req, path: query === -1 ? url : url.slice(0, query), started, route: 'unmatched' };
    inFlight++;
    try {
      let reply: Reply;
      try {
        reply = await (isV1Predict(ctx.path) ? v1Predict(context, ctx) : router.serve(context, ctx));
      } catch (error) {
        // Nobody to answer: counted (connection-guard.ts), not logged as a failure.
        if (error instanceof ClientGoneError) return;
        reply = errorReply(error);
        if (reply.status >= 500) logger.error({ err: error, method: req.method, path: ctx.path }, 'request failed');
      }
      // Tell keep-alive clients to reconnect elsewhere while shutting down, and after a 413
      // whose unread rest of the body must not be parsed as a next request.
      if (context.closing || reply.status === 413) res.setHeader('Connection', 'close');
      send(res, reply, req.method === 'HEAD');
      metrics.httpRequest(ctx.route, req.method ?? 'GET', reply.status);
      // Successful predictions and probes are the bulk of the traffic: debug. Everything else: info.
      const routine = reply.status < 400 && (reply.log !== undefined || req.method === 'GET');
      if (logger.isLevelEnabled(routine ? 'debug' : 'info')) {
        const ms = round(performance.now() - started);
        logger[routine ? 'debug' : 'info']({ method: req.method, path: ctx.path, status: reply.status, ms, ...reply.log }, 'request');
      }
    } finally {
      inFlight--;
      if (inFlight === 0) drained?.();
    }
  }

  const server = createServer({ connectionsCheckingInterval: timeoutCheckMs(limits) }, (req, res) => void handle(req, res));
  guardConnections(server, limits, connections, logger);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (error: unknown) => {
    await models.close();
    await inference.close();
    await closeLog();
    throw error;
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info(
    { url, models: models.list().map((m) => `${m.name}@${m.version}`), inferenceThreads: inference.stats().threads },
    'model server listening',
  );
  logger[auth.policy.admin === 'open' || auth.policy.predict === 'open' ? 'warn' : 'info'](
    { url, access: auth.policy },
    describeAccess(auth.policy, 'model server'),
  );

  let closed: Promise<void> | undefined;
  async function close(): Promise<void> {
    context.closing = true;
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
    // Every request has been answered; what is left are idle keep-alive connections.
    server.closeAllConnections();
    await stopped;
    await models.close();
    // Shadow work still queued finishes (or fails) before the log is closed.
    await inference.close();
    await closeLog();
    logger.info({ predictionLog: logWriter.stats() }, 'model server stopped');
  }

  return { url, access: auth.policy, port, pool: models, logWriter, replay, inference, metrics, close: () => (closed ??= close()) };
}

/** The inference pool's batch key (`name@version#…`) back to the model's name and version, for metrics. */
function keyToModel(key: string): { name: string; version: number } {
  const base = key.slice(0, key.lastIndexOf('#'));
  const at = base.lastIndexOf('@');
  return { name: base.slice(0, at), version: Number(base.slice(at + 1)) };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
