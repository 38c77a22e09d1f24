import type { PathParams, Reply, RequestContext, Route, ServerContext } from './context';
import { infer, notServed } from './infer';
import { decodePathSegment, guard } from './router';

/** keel's own protocol: the served models, one model's state, and predict (the hot path). */

const v1PredictRoute: Route = {
  template: '/v1/models/{name}:predict',
  access: 'predict',
  methods: { POST: (server, ctx, { name }) => infer(server, ctx, name, undefined, 'v1') },
};

export const v1Routes: Route[] = [
  {
    template: '/v1/models',
    access: 'predict',
    methods: {
      GET: ({ models }) => ({
        status: 200,
        body: { models: models.list().map((m) => ({ name: m.name, version: m.version, loadedAt: m.loadedAt })) },
      }),
    },
  },
  // Before `/v1/models/{name}`, which would also match `{name}:predict`.
  v1PredictRoute,
  { template: '/v1/models/{name}', access: 'predict', methods: { GET: modelState } },
];

function modelState({ models }: ServerContext, _ctx: RequestContext, { name }: PathParams): Reply {
  const model = models.get(name);
  if (!model) throw notServed(models, name);
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

/** `/v1/models/{name}:predict`, recognised without a regular expression: the hot path. */
export function isV1Predict(path: string): boolean {
  return path.startsWith('/v1/models/') && path.endsWith(':predict') && path.indexOf('/', 11) === -1;
}

/**
 * The hot path, called by the server before the route table, whose patterns it skips.
 * Unlike the table, it checks the key and the method before it decodes the name.
 */
export function v1Predict(server: ServerContext, ctx: RequestContext): Promise<Reply> {
  guard(server, ctx, v1PredictRoute);
  return infer(server, ctx, decodePathSegment(ctx.path.slice(11, -8)), undefined, 'v1');
}
