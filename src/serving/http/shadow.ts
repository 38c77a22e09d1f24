import { performance } from 'node:perf_hooks';
import { OverloadedError } from '../inference-pool';
import { predictionId } from '../ids';
import type { LoadedModel, ModelLease } from '../model-pool';
import { bindInputs, type BoundRequest, type InferenceRequest } from '../oip';
import { taskFormat } from '../task-outputs';
import type { ServerContext } from './context';
import { bindInstances } from './v1-body';

/**
 * Shadow mirroring: with a route's `shadow`, every request answered by the primary version is
 * also scored by the shadow version, in the background; its answers are logged (with the
 * primary's prediction id), never returned.
 */

/** Scores the request with the shadow version in the background; logs its answers, returns nothing. */
export function mirror(
  server: ServerContext,
  lease: ModelLease,
  primaryModel: LoadedModel,
  bound: BoundRequest,
  v2: InferenceRequest | undefined,
  primaryIds: string[],
): void {
  const { inference, logWriter, logger, metrics, limits } = server;
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
        // Shadow answers are never returned, so nothing waits for their log lines (append never rejects).
        void logWriter.append(
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
        // Shadow answers are never returned, so nothing waits for their log lines (append never rejects).
        void logWriter.append(
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

function sameInputs(a: LoadedModel, b: LoadedModel): boolean {
  const x = a.contract.inputs;
  const y = b.contract.inputs;
  return x.length === y.length && x.every((input, i) => input.name === y[i].name && input.type === y[i].type);
}
