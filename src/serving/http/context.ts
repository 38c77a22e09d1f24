import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { Db } from '../../db/database';
import type { Access, Authenticator, Caller } from '../auth';
import type { ConnectionEvents } from '../connection-guard';
import type { FeatureEnricher } from '../feature-enrichment';
import type { InferencePool } from '../inference-pool';
import type { ServingMetrics } from '../metrics';
import type { ModelPool, RefreshReport } from '../model-pool';
import type { PredictionLogWriter } from '../prediction-log';
import type { RequestLimits } from '../request-limits';

/**
 * What every surface of one model server shares: built once by startModelServer and passed to
 * each handler, so a handler's inputs are visible in its signature rather than in a closure.
 */
export interface ServerContext {
  readonly db: Db;
  readonly models: ModelPool;
  readonly inference: InferencePool;
  readonly metrics: ServingMetrics;
  readonly logWriter: PredictionLogWriter;
  readonly features: FeatureEnricher;
  readonly auth: Authenticator;
  readonly logger: Logger;
  readonly limits: RequestLimits;
  /** Larger request bodies are refused with 413. */
  readonly maxBodyBytes: number;
  readonly connections: ConnectionEvents;
  /** How long feedback looks for a prediction id it does not know yet (ModelServerOptions.feedbackWaitMs). */
  readonly feedbackWaitMs: number;
  /** The prediction log's flush period: how often a row answered elsewhere can newly reach the database. */
  readonly logFlushMs: number;
  /** The models this server is limited to (ModelServerOptions.models); undefined: every production model. */
  readonly servedModels: string[] | undefined;
  /** What `GET /metrics` answers instead of this process's own metrics (ModelServerOptions.metricsText). */
  readonly metricsText: (() => Promise<string>) | undefined;
  /** Set once close() begins: readiness turns false and responses ask clients to reconnect. */
  closing: boolean;
  /** A refresh asked for here; the server's other processes are told even when this one fails. */
  explicitRefresh(): Promise<RefreshReport>;
}

/** One request on its way through the router. */
export interface RequestContext {
  req: IncomingMessage;
  path: string;
  /** performance.now() when the request arrived. */
  started: number;
  /** Route template, for metrics and logs. */
  route: string;
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** A body that is already serialised (metrics). */
  raw?: { contentType: string; text: string };
  /** Fields added to the request's log line. */
  log?: Record<string, unknown>;
}

/** A route's path parameters, decoded (`{name}`) and checked (`{version}`); name is '' on routes without one. */
export interface PathParams {
  name: string;
  version: number | undefined;
}

export type Handler = (server: ServerContext, request: RequestContext, params: PathParams, caller: Caller) => Promise<Reply> | Reply;

/** One entry of the route table (http/routes.ts). */
export interface Route {
  /** The path, with `{name}` and `{version}` for its parameters; also the route's label in metrics and logs. */
  template: string;
  access: Access;
  /** Handlers by method; GET also answers HEAD. */
  methods: Partial<Record<'GET' | 'POST' | 'PUT' | 'DELETE', Handler>>;
}
