import type { ModelPool } from '../model-pool';
import { modelMetadata } from '../oip';
import type { PathParams, Reply, Route, ServerContext } from './context';
import { infer, notServed } from './infer';

/** The Open Inference Protocol (v2, KServe): server and model metadata, health, readiness, infer. */

const SERVER_VERSION = '0.1.0';

export const v2Routes: Route[] = [
  {
    template: '/v2',
    access: 'open',
    methods: { GET: () => ({ status: 200, body: { name: 'keel', version: SERVER_VERSION, extensions: [] } }) },
  },
  { template: '/v2/health/live', access: 'open', methods: { GET: () => ({ status: 200, body: { live: true } }) } },
  { template: '/v2/health/ready', access: 'open', methods: { GET: serverReady } },
  ...['/v2/models/{name}', '/v2/models/{name}/versions/{version}'].flatMap((model): Route[] => [
    { template: model, access: 'predict', methods: { GET: (server, _ctx, params) => metadata(server.models, params) } },
    { template: `${model}/ready`, access: 'open', methods: { GET: (server, _ctx, params) => modelReady(server.models, params) } },
    {
      template: `${model}/infer`,
      access: 'predict',
      methods: { POST: (server, ctx, { name, version }) => infer(server, ctx, name, version, 'v2') },
    },
  ]),
];

function serverReady({ models, closing }: ServerContext): Reply {
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

function modelReady(models: ModelPool, { name, version }: PathParams): Reply {
  const lease = version === undefined ? models.acquire(name) : models.acquireVersion(name, version);
  if (lease) {
    lease.release();
    return { status: 200, body: { name, ...(version !== undefined && { version: String(version) }), ready: true } };
  }
  const reason = notServed(models, name, version);
  if (reason.status === 404) throw reason;
  return { status: 400, body: { name, ready: false, error: reason.message } };
}

function metadata(models: ModelPool, { name, version }: PathParams): Reply {
  const lease = version === undefined ? models.acquire(name) : models.acquireVersion(name, version);
  if (!lease) throw notServed(models, name, version);
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
