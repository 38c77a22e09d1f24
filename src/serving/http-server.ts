// node:http rather than a framework: the server has a handful of routes, node:http adds no
// dependency and no per-request overhead (the benchmark compares keel with a bare node:http
// server, so every microsecond on this path shows), and body limits and shutdown are explicit
// below. See docs/serving.md.
import { randomUUID } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { pino, type Logger } from 'pino';
import { inArray } from 'drizzle-orm';
import type { Database } from '../db/database';
import { predictionLog } from '../db/schema';
import type { ArtifactStore } from '../registry/artifact-store';
import { type Access, type AccessPolicy, type ApiKeys, Authenticator, actorOf, type Caller, describeAccess, noKeys } from './auth';
import { FeatureEnricher } from './feature-enrichment';
import { parseFeedback, predictionTargets, recordFeedback, resolveFeedback, versionTargets } from './feedback';
import { predictionId } from './ids';
import { type BatchRows, InferencePool, OverloadedError } from './inference-pool';
import { ServingMetrics, type Protocol } from './metrics';
import { registerMonitorMetrics } from './monitor-metrics';
import type { LoadedModel, ModelLease, RouteChoice } from './model-pool';
import { ModelPool } from './model-pool';
import { bindInputs, type BoundRequest, type InferenceRequest, inferenceResponse, modelMetadata, parseInferenceRequest } from './oip';
import { type Instance, instancesToColumns, parseInstances, RequestError } from './predict';
import { screenCategories } from './unknown-categories';
import { COLUMNS, type PredictionLogEntry } from './log-line';
import {
  DEFAULT_FLUSH_MS,
  databaseSink,
  type PredictionLogOptions,
  type PredictionLogSpoolOptions,
  PredictionLogWriter,
} from './prediction-log';
import { claimDeadSegments, SpoolReplay } from './spool-replay';
import { taskFormat } from './task-outputs';
import { CopyThread } from './copy-thread';
import { clearRoute, InvalidRouteError, listRoutes, RouteConflictError, setRoute } from './routes';
import {
  ClientGoneError,
  clientGone,
  bodyRead,
  type ConnectionEvents,
  guardConnections,
  readingBody,
  timeoutCheckMs,
} from './connection-guard';
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from './request-limits';
import { suggestKey } from '../shared/strict';

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

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** A body that is already serialised (metrics). */
  raw?: { contentType: string; text: string };
  /** Fields added to the request's log line. */
  log?: Record<string, unknown>;
}

interface Context {
  req: IncomingMessage;
  path: string;
  /** performance.now() when the request arrived. */
  started: number;
  /** Route template, for metrics and logs. */
  route: string;
}

const V1_MODEL = /^\/v1\/models\/([^/]+?)(:predict)?$/;
const V2_MODEL = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(?:\/(ready|infer))?$/;
const ADMIN_ROUTE = /^\/v1\/admin\/routes\/([^/]+)$/;
const ROUTE_KEY_HEADER = 'x-keel-route-key';
const SERVER_VERSION = '0.1.0';

export async function startModelServer(options: ModelServerOptions): Promise<ModelServer> {
  const host = options.host ?? '127.0.0.1';
  const maxBodyBytes = options.maxBodyBytes ?? 1_000_000;
  const limits: RequestLimits = { ...DEFAULT_REQUEST_LIMITS, ...options.limits };
  const logger = options.logger ?? pino({ level: 'info' });
  const auth = new Authenticator(options.apiKeys ?? noKeys, host);
  const db = options.database.db;
  const features = new FeatureEnricher(db);

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
  const logFlushMs = options.predictionLog?.flushMs ?? DEFAULT_FLUSH_MS;
  const feedbackWaitMs = options.feedbackWaitMs ?? 3000;
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
  let closing = false;

  /** A refresh asked for here; the server's other processes are told even when this one fails. */
  async function explicitRefresh() {
    try {
      return await models.refresh();
    } finally {
      options.onExplicitRefresh?.();
    }
  }

  function keyToModel(key: string): { name: string; version: number } {
    const base = key.slice(0, key.lastIndexOf('#'));
    const at = base.lastIndexOf('@');
    return { name: base.slice(0, at), version: Number(base.slice(at + 1)) };
  }

  /** Records the route template, then checks the key and the method. */
  function guard(ctx: Context, access: Access, method: string, template: string): Caller {
    ctx.route = template;
    const caller = auth.check(ctx.req.headers, access);
    const actual = ctx.req.method;
    if (actual !== method && !(method === 'GET' && actual === 'HEAD')) throw new MethodNotAllowedError(method);
    return caller;
  }

  /** `/v1/models/{name}:predict`, recognised without a regular expression: the hot path. */
  function isV1Predict(path: string): boolean {
    return path.startsWith('/v1/models/') && path.endsWith(':predict') && path.indexOf('/', 11) === -1;
  }

  /** The hot path, called by handle directly: one promise fewer to resolve than through route(). */
  function v1Predict(ctx: Context): Promise<Reply> {
    guard(ctx, 'predict', 'POST', '/v1/models/{name}:predict');
    return inferRoute(ctx, decodePathSegment(ctx.path.slice(11, -8)), undefined, 'v1');
  }

  async function route(ctx: Context): Promise<Reply> {
    const { req, path } = ctx;
    switch (path) {
      case '/healthz':
        guard(ctx, 'open', 'GET', path);
        return { status: 200, body: { status: 'ok', models: models.list().length } };
      case '/metrics': {
        guard(ctx, 'open', 'GET', path);
        const { contentType, body } = await metrics.render();
        const text = options.metricsText ? await options.metricsText() : body;
        return { status: 200, body: undefined, raw: { contentType, text } };
      }
      case '/v2':
        guard(ctx, 'open', 'GET', path);
        return { status: 200, body: { name: 'keel', version: SERVER_VERSION, extensions: [] } };
      case '/v2/health/live':
        guard(ctx, 'open', 'GET', path);
        return { status: 200, body: { live: true } };
      case '/v2/health/ready': {
        guard(ctx, 'open', 'GET', path);
        const unavailable = models.unavailable();
        const ready = !closing && unavailable.length === 0 && models.list().length > 0;
        return ready
          ? { status: 200, body: { ready: true } }
          : {
              status: 400,
              body: {
                ready: false,
                error: closing
                  ? 'shutting down'
                  : unavailable.length > 0
                    ? `no loadable version of: ${unavailable.join(', ')}`
                    : 'no model is served yet',
              },
            };
      }
      case '/v1/models':
        guard(ctx, 'predict', 'GET', path);
        return { status: 200, body: { models: models.list().map((m) => ({ name: m.name, version: m.version, loadedAt: m.loadedAt })) } };
      case '/v1/feedback': {
        guard(ctx, 'predict', 'POST', path);
        const items = parseFeedback(await readJson(req, maxBodyBytes, connections));
        const ids = items.map((item) => item.predictionId);
        // Feedback right after the answer: the prediction may still be in this server's log
        // queue (or in a write committing now); those ids are resolved from the queue, and only
        // what neither knows is looked up once more.
        const pending = logWriter.pending(ids);
        const targets = await predictionTargets(
          db,
          ids.filter((id) => !pending.has(id)),
        );
        for (const [id, target] of await versionTargets(db, pending)) targets.set(id, target);
        if (targets.size < new Set(ids).size) {
          for (const [id, target] of await predictionTargets(
            db,
            ids.filter((id) => !targets.has(id)),
          ))
            targets.set(id, target);
        }
        // Answered by another process or replica a moment ago: its row reaches the database
        // within that server's flush period, later on a busy machine. Look again every period
        // until the wait is over; only then is an id unknown.
        const deadline = Date.now() + feedbackWaitMs;
        while (targets.size < new Set(ids).size && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, Math.min(logFlushMs, Math.max(1, deadline - Date.now()))));
          for (const [id, target] of await predictionTargets(
            db,
            ids.filter((id) => !targets.has(id)),
          ))
            targets.set(id, target);
        }
        const rows = resolveFeedback(items, targets);
        await recordFeedback(db, rows);
        metrics.feedback(items.length);
        return { status: 200, body: { recorded: items.length } };
      }
      case '/v1/admin/refresh': {
        guard(ctx, 'admin', 'POST', path);
        const report = await explicitRefresh().catch((error: unknown) => {
          throw new RequestError(503, `refresh failed, serving unchanged: ${(error as Error).message}`);
        });
        return { status: 200, body: report };
      }
      case '/v1/admin/routes': {
        guard(ctx, 'admin', 'GET', path);
        const rows = await listRoutes(db, options.models);
        return { status: 200, body: { routes: rows.map((r) => ({ ...r, served: models.route(r.modelName) ?? null })) } };
      }
    }

    let match = V2_MODEL.exec(path);
    if (match) {
      const name = decodePathSegment(match[1]);
      const version = match[2] === undefined ? undefined : parseVersion(decodePathSegment(match[2]));
      const versioned = version === undefined ? '' : '/versions/{version}';
      if (match[3] === 'infer') {
        guard(ctx, 'predict', 'POST', `/v2/models/{name}${versioned}/infer`);
        return inferRoute(ctx, name, version, 'v2');
      }
      if (match[3] === 'ready') {
        guard(ctx, 'open', 'GET', `/v2/models/{name}${versioned}/ready`);
        const lease = version === undefined ? models.acquire(name) : models.acquireVersion(name, version);
        if (lease) {
          lease.release();
          return { status: 200, body: { name, ...(version !== undefined && { version: String(version) }), ready: true } };
        }
        const reason = notServed(name, version);
        if (reason.status === 404) throw reason;
        return { status: 400, body: { name, ready: false, error: reason.message } };
      }
      guard(ctx, 'predict', 'GET', `/v2/models/{name}${versioned}`);
      const lease = version === undefined ? models.acquire(name) : models.acquireVersion(name, version);
      if (!lease) throw notServed(name, version);
      lease.release();
      return {
        status: 200,
        body: modelMetadata(
          name,
          models.versions(name).map((v) => v.model.version),
          lease.model.contract,
        ),
      };
    }

    match = V1_MODEL.exec(path);
    if (match) {
      const name = decodePathSegment(match[1]);
      if (match[2]) {
        guard(ctx, 'predict', 'POST', '/v1/models/{name}:predict');
        return inferRoute(ctx, name, undefined, 'v1');
      }
      guard(ctx, 'predict', 'GET', '/v1/models/{name}');
      const model = models.get(name);
      if (!model) throw notServed(name);
      const refused = models.refusal(name);
      const staleRoute = models.staleRoute(name);
      return {
        status: 200,
        body: {
          name,
          version: model.version,
          contract: model.contract,
          loaded: true,
          loadedAt: model.loadedAt,
          artifactSha256: model.artifactSha256,
          versions: models
            .versions(name)
            .map(({ model: m, role }) => ({ version: m.version, role, loadedAt: m.loadedAt, artifactSha256: m.artifactSha256 })),
          route: models.route(name) ?? null,
          ...(staleRoute && { staleRoute }),
          ...(refused && { refused }),
          ...(models.refusalsOf(name).length > 0 && { refusedVersions: models.refusalsOf(name) }),
        },
      };
    }

    match = ADMIN_ROUTE.exec(path);
    if (match) {
      const name = decodePathSegment(match[1]);
      ctx.route = '/v1/admin/routes/{name}';
      const caller = auth.check(req.headers, 'admin');
      if (req.method === 'PUT') {
        const body = await readJson(req, maxBodyBytes, connections);
        if (typeof body !== 'object' || body === null || Array.isArray(body)) {
          throw new RequestError(400, 'the body must be {"baseline", "candidate", "candidateWeight", "shadow"?, "actor"?, "reason"?}');
        }
        const result = await setRoute(db, {
          ...(body as object),
          actor: actorOf(caller, (body as { actor?: unknown }).actor, 'http:admin'),
          model: name,
        } as Parameters<typeof setRoute>[1]).catch(routeError);
        return { status: 200, body: { ...result, refresh: await explicitRefresh() } };
      }
      if (req.method === 'DELETE') {
        const result = await clearRoute(db, { model: name }).catch(routeError);
        return { status: 200, body: { ...result, refresh: await explicitRefresh() } };
      }
      throw new MethodNotAllowedError('PUT, DELETE');
    }
    ctx.route = 'unmatched';
    throw new RequestError(404, `no route for ${req.method} ${path}`);
  }

  /** v1 predict and v2 infer: route, read, validate, batch, log, answer (and mirror to a shadow). */
  async function inferRoute(ctx: Context, name: string, version: number | undefined, protocol: Protocol): Promise<Reply> {
    // The lease pins the version: a hot swap during this request does not change its model.
    // Taken before the body is read, so an unknown model is a 404 whatever was sent.
    const choice = chooseVersion(name, version, ctx.req);
    const { primary } = choice;
    const model = primary.model;
    const instruments = metrics.predict(name, model.version, protocol);
    inference.arrivalStarted();
    let arriving = true;
    let shadowTaken = false;
    try {
      const body = await readJson(ctx.req, maxBodyBytes, connections);
      const validationStarted = performance.now();
      let v2: InferenceRequest | undefined;
      let bound: BoundRequest;
      if (protocol === 'v1') {
        const instances = parseV1Body(body);
        bound = bindInstances(model, model.contract.featureViews ? await features.enrich(model.contract, instances) : instances, limits);
      } else {
        v2 = parseInferenceRequest(body);
        bound = bindInputs(v2, model.contract, limits);
      }
      if (model.categories) bound = screenBound(model, bound, metrics);
      arriving = false;
      inference.arrivalEnded();
      let answer: BatchRows;
      try {
        // v1 reads its rows in place in the batch's outputs; v2 answers whole output tensors (views).
        answer =
          protocol === 'v1'
            ? await inference.submitRows(model.key, bound.feeds, bound.rows)
            : { outputs: await inference.submit(model.key, bound.feeds, bound.rows), start: 0, rows: bound.rows };
      } catch (error) {
        throw inferenceFailure(error, model, bound, validationStarted);
      }
      const latencyMs = performance.now() - validationStarted;
      const createdAt = new Date();
      const now = createdAt.getTime();
      const format = taskFormat(model.contract);
      const ids = new Array<string>(bound.rows);
      // v1: each row's answer fields, formatted once for the response and the log.
      const fields = protocol === 'v1' ? new Array<string>(bound.rows) : undefined;
      const entries = new Array<PredictionLogEntry>(bound.rows);
      // This request's rows are rows start… of its batch's outputs.
      const { outputs, start } = answer;
      for (let i = 0; i < bound.rows; i++) {
        const id = predictionId(now);
        ids[i] = id;
        const v1 = fields ? (fields[i] = format.v1(outputs, start + i)) : undefined;
        entries[i] = {
          id,
          model: name,
          version: model.version,
          inputs: bound.instances[i],
          outputs: format.log(outputs, start + i, v1),
          latencyMs,
          createdAt,
        };
      }
      const spooled = logWriter.append(entries);
      // An answer goes out only once its predictions are in the spool (with one): then they survive this process.
      if (spooled && !(await spooled))
        throw new RequestError(503, 'the prediction could not be logged (writing the prediction spool failed); try again');
      if (choice.shadow) {
        shadowTaken = true;
        mirror(choice.shadow, model, bound, v2, ids);
      }
      instruments.done((performance.now() - ctx.started) / 1000, bound.rows);
      const replyLog = { model: name, version: model.version, role: choice.role, rows: bound.rows };
      if (protocol === 'v1')
        return { status: 200, body: undefined, raw: { contentType: JSON_TYPE, text: v1Response(model, ids, fields!) }, log: replyLog };
      return {
        status: 200,
        body: inferenceResponse({
          model: name,
          version: model.version,
          id: v2!.id ?? randomUUID(),
          contract: model.contract,
          requested: bound.outputs!,
          outputs,
          predictionIds: ids,
        }),
        log: replyLog,
      };
    } catch (error) {
      // A client gone is no failure of this version (a rollout compares their error rates).
      if (!(error instanceof ClientGoneError))
        instruments.failed((performance.now() - ctx.started) / 1000, error instanceof RequestError ? error.status : 500);
      throw error;
    } finally {
      if (arriving) inference.arrivalEnded();
      primary.release();
      if (!shadowTaken) choice.shadow?.release();
    }
  }

  function chooseVersion(name: string, version: number | undefined, req: IncomingMessage): RouteChoice {
    if (version === undefined) {
      const key = req.headers[ROUTE_KEY_HEADER];
      const choice = models.choose(name, typeof key === 'string' && key !== '' ? key : undefined);
      if (!choice) throw notServed(name);
      return choice;
    }
    const lease = models.acquireVersion(name, version);
    if (!lease) throw notServed(name, version);
    return { primary: lease, role: models.versions(name).find((v) => v.model === lease.model)?.role ?? 'baseline' };
  }

  /**
   * An inference failure on valid input is the model's fault: its rows are logged once, with the
   * error (so a rollout can compare error rates across replicas), and the client gets a 500.
   * A full queue is not the model's fault: 503, nothing logged.
   */
  function inferenceFailure(error: unknown, model: LoadedModel, bound: BoundRequest, started: number): RequestError {
    if (error instanceof OverloadedError) return new RequestError(503, error.message);
    const message = error instanceof Error ? error.message : String(error);
    const latencyMs = performance.now() - started;
    const createdAt = new Date();
    logWriter.append(
      bound.instances.map((inputs) => ({
        id: predictionId(),
        model: model.name,
        version: model.version,
        inputs,
        outputs: null,
        latencyMs,
        createdAt,
        error: message,
      })),
    );
    logger.error({ model: model.name, version: model.version, rows: bound.rows, err: error }, 'inference failed');
    return new RequestError(500, `inference failed for ${model.name} version ${model.version}: ${message}`);
  }

  /** Scores the request with the shadow version in the background; logs its answers, returns nothing. */
  function mirror(
    lease: ModelLease,
    primaryModel: LoadedModel,
    bound: BoundRequest,
    v2: InferenceRequest | undefined,
    primaryIds: string[],
  ): void {
    const shadowModel = lease.model;
    const outcome = (what: 'ok' | 'invalid' | 'failed' | 'dropped') => metrics.shadowOutcome(shadowModel.name, shadowModel.version, what);
    let shadowBound: BoundRequest;
    try {
      if (sameInputs(shadowModel, primaryModel)) shadowBound = bound;
      else if (v2) shadowBound = bindInputs(v2, shadowModel.contract, limits);
      else shadowBound = bindInstances(shadowModel, bound.instances, limits);
    } catch (error) {
      outcome('invalid');
      logger.debug({ model: shadowModel.name, version: shadowModel.version, err: error }, 'shadow version rejects the input');
      lease.release();
      return;
    }
    const started = performance.now();
    inference
      .submit(shadowModel.key, shadowBound.feeds, shadowBound.rows, { shadow: true })
      .then(
        (outputs) => {
          const latencyMs = performance.now() - started;
          const createdAt = new Date();
          const format = taskFormat(shadowModel.contract);
          logWriter.append(
            shadowBound.instances.map((inputs, i) => ({
              id: predictionId(),
              model: shadowModel.name,
              version: shadowModel.version,
              inputs,
              outputs: format.log(outputs, i),
              latencyMs,
              createdAt,
              shadow: true,
              primaryId: primaryIds[i],
            })),
          );
          outcome('ok');
        },
        (error: unknown) => {
          if (error instanceof OverloadedError) {
            outcome('dropped');
            return;
          }
          outcome('failed');
          const message = error instanceof Error ? error.message : String(error);
          const latencyMs = performance.now() - started;
          const createdAt = new Date();
          logWriter.append(
            shadowBound.instances.map((inputs, i) => ({
              id: predictionId(),
              model: shadowModel.name,
              version: shadowModel.version,
              inputs,
              outputs: null,
              latencyMs,
              createdAt,
              shadow: true,
              primaryId: primaryIds[i],
              error: message,
            })),
          );
        },
      )
      .finally(() => lease.release());
  }

  function notServed(name: string, version?: number): RequestError {
    if (version !== undefined) {
      const refused = models.refusalsOf(name).find((r) => r.version === version);
      if (refused) return new RequestError(503, `version ${version} of model "${name}" could not be loaded: ${refused.error}`);
      const loaded = models.versions(name).map((v) => v.model.version);
      return new RequestError(
        404,
        loaded.length > 0
          ? `model "${name}" has no version ${version} loaded (loaded versions: ${loaded.join(', ')})`
          : `model "${name}" is not served (it has no loaded production version)`,
      );
    }
    if (models.isTarget(name)) {
      const refused = models.refusal(name);
      return new RequestError(
        503,
        `model "${name}" has no loadable version${refused ? `: version ${refused.version} was refused: ${refused.error}` : ''}`,
      );
    }
    return new RequestError(404, `model "${name}" is not served (it has no loaded production version)`);
  }

  let inFlight = 0;
  let drained: (() => void) | undefined;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const ctx: Context = { req, path: query === -1 ? url : url.slice(0, query), started, route: 'unmatched' };
    inFlight++;
    try {
      let reply: Reply;
      try {
        reply = await (isV1Predict(ctx.path) ? v1Predict(ctx) : route(ctx));
      } catch (error) {
        // Nobody to answer: counted (connection-guard.ts), not logged as a failure.
        if (error instanceof ClientGoneError) return;
        reply = errorReply(error);
        if (reply.status >= 500) logger.error({ err: error, method: req.method, path: ctx.path }, 'request failed');
      }
      // Tell keep-alive clients to reconnect elsewhere while shutting down, and after a 413
      // whose unread rest of the body must not be parsed as a next request.
      if (closing || reply.status === 413) res.setHeader('Connection', 'close');
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

  const connections: ConnectionEvents = { timedOut: (phase) => metrics.requestTimedOut(phase), aborted: () => metrics.requestAborted() };
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
    closing = true;
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

const JSON_TYPE = 'application/json; charset=utf-8';

/** The v1 answer, written directly: it is on every request's path, and JSON.stringify of objects costs more. */
function v1Response(model: LoadedModel, ids: string[], fields: string[]): string {
  let text = `{"model":${JSON.stringify(model.name)},"version":${model.version},"predictions":[`;
  for (let i = 0; i < ids.length; i++) text += `${i === 0 ? '' : ','}{"id":"${ids[i]}",${fields[i]}}`;
  return `${text}]}`;
}

function parseV1Body(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new RequestError(400, 'the body must be {"instances": [{...feature values...}, ...]}');
  for (const key in body) {
    if (key !== 'instances')
      throw new RequestError(
        400,
        `unknown field "${key}"${suggestKey(key, ['instances']) ? ' (did you mean instances?)' : ''}: the body must be {"instances": [{...feature values...}, ...]}`,
      );
  }
  return (body as { instances?: unknown }).instances;
}

function bindInstances(model: LoadedModel, value: unknown, limits: RequestLimits): BoundRequest {
  const instances: Instance[] = parseInstances(model.contract, value, limits);
  return { rows: instances.length, feeds: instancesToColumns(model.contract, instances), instances };
}

/** Counts unknown categories in /metrics, then applies each feature's policy (src/serving/unknown-categories.ts). */
function screenBound(model: LoadedModel, bound: BoundRequest, metrics: ServingMetrics): BoundRequest {
  const screened = screenCategories(model.categories!, bound.instances);
  metrics.unknownCategories(model.name, model.version, screened.unknown);
  if (screened.rejection) throw screened.rejection;
  return screened.rewritten ? { ...bound, feeds: instancesToColumns(model.contract, screened.rewritten) } : bound;
}

function sameInputs(a: LoadedModel, b: LoadedModel): boolean {
  const x = a.contract.inputs;
  const y = b.contract.inputs;
  return x.length === y.length && x.every((input, i) => input.name === y[i].name && input.type === y[i].type);
}

function routeError(error: unknown): never {
  if (error instanceof InvalidRouteError) throw new RequestError(400, error.message);
  if (error instanceof RouteConflictError) throw new RequestError(409, error.message);
  throw error;
}

class MethodNotAllowedError extends RequestError {
  constructor(readonly allow: string) {
    super(405, `method not allowed; use ${allow}`);
  }
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RequestError(400, `malformed path segment: ${segment}`);
  }
}

function parseVersion(text: string): number {
  if (!/^[1-9][0-9]{0,8}$/.test(text)) throw new RequestError(400, `model version must be a positive integer, got "${text}"`);
  return Number(text);
}

/** Reads and parses a JSON body, answering 413 as soon as it exceeds the limit. */
function readJson(req: IncomingMessage, maxBytes: number, connections: ConnectionEvents): Promise<unknown> {
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

function errorReply(error: unknown): Reply {
  if (error instanceof MethodNotAllowedError) {
    return { status: 405, body: { error: error.message }, headers: { allow: error.allow } };
  }
  if (error instanceof RequestError) {
    const headers: Record<string, string> = {};
    if (error.status === 401) headers['www-authenticate'] = 'Bearer';
    if (error.status === 503) headers['retry-after'] = '1';
    return { status: error.status, body: { error: error.message }, headers };
  }
  return { status: 500, body: { error: 'internal error; see the server log' } };
}

function send(res: ServerResponse, reply: Reply, head: boolean): void {
  const contentType = reply.raw?.contentType ?? JSON_TYPE;
  const payload = reply.raw?.text ?? JSON.stringify(reply.body);
  const headers: Record<string, string | number> = { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) };
  if (reply.headers) Object.assign(headers, reply.headers);
  res.writeHead(reply.status, headers);
  res.end(head ? undefined : payload);
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
