import { actorOf, type Caller } from '../auth';
import { RequestError } from '../predict';
import { clearRoute, InvalidRouteError, listRoutes, RouteConflictError, setRoute } from '../routes';
import { readJson } from './body';
import type { PathParams, Reply, RequestContext, Route, ServerContext } from './context';

/** Admin: refresh the served versions now, read and change the serving routes (canary, shadow). */

export const adminRoutes: Route[] = [
  {
    template: '/v1/admin/refresh',
    access: 'admin',
    methods: {
      POST: async (server) => {
        const report = await server.explicitRefresh().catch((error: unknown) => {
          throw new RequestError(503, `refresh failed, serving unchanged: ${(error as Error).message}`);
        });
        return { status: 200, body: report };
      },
    },
  },
  {
    template: '/v1/admin/routes',
    access: 'admin',
    methods: {
      GET: async ({ db, models, servedModels }) => {
        const rows = await listRoutes(db, servedModels);
        return { status: 200, body: { routes: rows.map((r) => ({ ...r, served: models.route(r.modelName) ?? null })) } };
      },
    },
  },
  { template: '/v1/admin/routes/{name}', access: 'admin', methods: { PUT: putRoute, DELETE: deleteRoute } },
];

async function putRoute(server: ServerContext, ctx: RequestContext, { name }: PathParams, caller: Caller): Promise<Reply> {
  const body = await readJson(ctx.req, server.maxBodyBytes, server.connections);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RequestError(400, 'the body must be {"baseline", "candidate", "candidateWeight", "shadow"?, "actor"?, "reason"?}');
  }
  const result = await setRoute(server.db, {
    ...body,
    actor: actorOf(caller, (body as { actor?: unknown }).actor, 'http:admin'),
    model: name,
  } as Parameters<typeof setRoute>[1]).catch(routeError);
  return { status: 200, body: { ...result, refresh: await server.explicitRefresh() } };
}

async function deleteRoute(server: ServerContext, _ctx: RequestContext, { name }: PathParams): Promise<Reply> {
  const result = await clearRoute(server.db, { model: name }).catch(routeError);
  return { status: 200, body: { ...result, refresh: await server.explicitRefresh() } };
}

function routeError(error: unknown): never {
  if (error instanceof InvalidRouteError) throw new RequestError(400, error.message);
  if (error instanceof RouteConflictError) throw new RequestError(409, error.message);
  throw error;
}
