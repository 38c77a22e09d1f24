import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { ClientGoneError } from '../connection-guard';
import { predictionId } from '../ids';
import { type BatchRows, OverloadedError } from '../inference-pool';
import type { PredictionLogEntry } from '../log-line';
import type { Protocol, ServingMetrics } from '../metrics';
import type { LoadedModel, ModelPool, RouteChoice } from '../model-pool';
import { bindInputs, type BoundRequest, type InferenceRequest, inferenceResponse, parseInferenceRequest } from '../oip';
import { instancesToColumns, RequestError } from '../predict';
import { taskFormat } from '../task-outputs';
import { screenCategories } from '../unknown-categories';
import { readJson } from './body';
import type { Reply, RequestContext, ServerContext } from './context';
import { JSON_TYPE } from './reply';
import { mirror } from './shadow';
import { bindInstances, parseV1Body, v1Response } from './v1-body';

/**
 * The prediction path shared by v1 predict and v2 infer: choose the version, read and check the
 * body, batch, log, answer (and mirror to a shadow). The hot path: keep it free of per-request
 * closures and extra awaits.
 */

const ROUTE_KEY_HEADER = 'x-keel-route-key';

/** v1 predict and v2 infer: route, read, validate, batch, log, answer (and mirror to a shadow). */
export async function infer(
  server: ServerContext,
  ctx: RequestContext,
  name: string,
  version: number | undefined,
  protocol: Protocol,
): Promise<Reply> {
  const { inference, metrics, logWriter, limits } = server;
  // The lease pins the version: a hot swap during this request does not change its model.
  // Taken before the body is read, so an unknown model is a 404 whatever was sent.
  const choice = chooseVersion(server, name, version, ctx.req);
  const { primary } = choice;
  const model = primary.model;
  const instruments = metrics.predict(name, model.version, protocol);
  inference.arrivalStarted();
  let arriving = true;
  let shadowTaken = false;
  try {
    const body = await readJson(ctx.req, server.maxBodyBytes, server.connections);
    const validationStarted = performance.now();
    let v2: InferenceRequest | undefined;
    let bound: BoundRequest;
    if (protocol === 'v1') {
      const instances = parseV1Body(body);
      bound = bindInstances(
        model,
        model.contract.featureViews ? await server.features.enrich(model.contract, instances) : instances,
        limits,
      );
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
      throw inferenceFailure(server, error, model, bound, validationStarted);
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
      mirror(server, choice.shadow, model, bound, v2, ids);
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

function chooseVersion(server: ServerContext, name: string, version: number | undefined, req: IncomingMessage): RouteChoice {
  const { models } = server;
  if (version === undefined) {
    const key = req.headers[ROUTE_KEY_HEADER];
    const choice = models.choose(name, typeof key === 'string' && key !== '' ? key : undefined);
    if (!choice) throw notServed(models, name);
    return choice;
  }
  const lease = models.acquireVersion(name, version);
  if (!lease) throw notServed(models, name, version);
  return { primary: lease, role: models.versions(name).find((v) => v.model === lease.model)?.role ?? 'baseline' };
}

/**
 * An inference failure on valid input is the model's fault: its rows are logged once, with the
 * error (so a rollout can compare error rates across replicas), and the client gets a 500.
 * A full queue is not the model's fault: 503, nothing logged.
 */
function inferenceFailure(server: ServerContext, error: unknown, model: LoadedModel, bound: BoundRequest, started: number): RequestError {
  if (error instanceof OverloadedError) return new RequestError(503, error.message);
  const message = error instanceof Error ? error.message : String(error);
  const latencyMs = performance.now() - started;
  const createdAt = new Date();
  // A failed prediction is logged for the record, not acknowledged: no answer waits for it (append never rejects).
  void server.logWriter.append(
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
  server.logger.error({ model: model.name, version: model.version, rows: bound.rows, err: error }, 'inference failed');
  return new RequestError(500, `inference failed for ${model.name} version ${model.version}: ${message}`);
}

/** Why a model (or one of its versions) cannot answer: 404 when it is not served, 503 when no version of it loads. */
export function notServed(models: ModelPool, name: string, version?: number): RequestError {
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

/** Counts unknown categories in /metrics, then applies each feature's policy (src/serving/unknown-categories.ts). */
function screenBound(model: LoadedModel, bound: BoundRequest, metrics: ServingMetrics): BoundRequest {
  const screened = screenCategories(model.categories!, bound.instances);
  metrics.unknownCategories(model.name, model.version, screened.unknown);
  if (screened.rejection) throw screened.rejection;
  return screened.rewritten ? { ...bound, feeds: instancesToColumns(model.contract, screened.rewritten) } : bound;
}
