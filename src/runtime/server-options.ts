import type { ModelServerOptions } from '../serving/http-server';
import type { ProjectConfig } from '../shared/project-config';
import type { Environment } from './environment';

/**
 * The model server's settings that come from the environment and the project config, the same
 * for `npm start`'s in-process server and `keel serve`'s processes.
 */
export function serverOptionsFromEnvironment(
  env: Environment,
  config: ProjectConfig,
): Pick<
  ModelServerOptions,
  'port' | 'host' | 'apiKeys' | 'refreshMs' | 'models' | 'predictionLog' | 'inlineInferenceMs' | 'inferenceThreads' | 'limits'
> {
  return {
    port: env.KEEL_PORT ?? config.server.port,
    host: env.KEEL_HOST,
    apiKeys: env.apiKeys,
    refreshMs: env.KEEL_ROUTING_REFRESH_MS,
    models: env.KEEL_SERVE_MODELS,
    predictionLog: { capacity: env.KEEL_PREDICTION_LOG_CAPACITY, spool: env.predictionSpool },
    inlineInferenceMs: env.KEEL_INFERENCE_INLINE_MS,
    inferenceThreads: env.KEEL_INFERENCE_THREADS,
    limits: env.requestLimits,
  };
}
