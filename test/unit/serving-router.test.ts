import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { Authenticator, noKeys } from '../../src/serving/auth';
import type { Handler, PathParams, RequestContext, Route, ServerContext } from '../../src/serving/http/context';
import { MethodNotAllowedError, Router } from '../../src/serving/http/router';
import { routes } from '../../src/serving/http/routes';
import { RequestError } from '../../src/serving/predict';

// The router alone, with handlers that report what they were called with: no pools, no sockets.
const server = (keys = noKeys) => ({ auth: new Authenticator(keys, '127.0.0.1') }) as unknown as ServerContext;
const request = (method: string, path: string, headers: Record<string, string> = {}): RequestContext => ({
  req: { method, headers } as unknown as IncomingMessage,
  path,
  started: 0,
  route: 'unmatched',
});
const echo =
  (template: string): Handler =>
  (_server, ctx, params: PathParams) => ({ status: 200, body: { template, params, method: ctx.req.method } });
/** The real table, each handler replaced by one that names its route. */
const echoTable = routes.map((route): Route => ({
  ...route,
  methods: Object.fromEntries(Object.keys(route.methods).map((method) => [method, echo(route.template)])),
}));
const serve = (router: Router, ctx: RequestContext, keys = noKeys) =>
  router.serve(server(keys), ctx) as { status: number; body: { template: string; params: PathParams; method: string } };

describe('the model server route table', () => {
  it('has one route per template, and each template reaches its own route (none shadows another)', () => {
    const templates = routes.map((r) => r.template);
    expect(new Set(templates).size).toBe(templates.length);
    const router = new Router(echoTable);
    for (const route of routes) {
      const path = route.template.replace('{name}', 'flights').replace('{version}', '3');
      const method = Object.keys(route.methods)[0];
      const ctx = request(method, path);
      expect(serve(router, ctx).body.template, path).toBe(route.template);
      expect(ctx.route).toBe(route.template);
    }
  });

  it('decodes the name and reads the version as a number', () => {
    const router = new Router(echoTable);
    expect(serve(router, request('POST', '/v2/models/late%20flights/versions/12/infer')).body.params).toEqual({
      name: 'late flights',
      version: 12,
    });
    expect(serve(router, request('POST', '/v1/models/a:b:predict')).body).toMatchObject({
      template: '/v1/models/{name}:predict',
      params: { name: 'a:b' },
    });
    expect(serve(router, request('GET', '/v2/models/versions')).body.params).toEqual({ name: 'versions', version: undefined });
  });

  it('refuses a malformed segment or version with 400 before it checks the key, and leaves the route unmatched', () => {
    const router = new Router(echoTable);
    const closed = { predict: ['k'], admin: ['a'], named: [] };
    for (const path of ['/v2/models/%E0/infer', '/v2/models/m/versions/0/infer', '/v2/models/m/versions/x']) {
      const ctx = request('POST', path);
      expect(() => serve(router, ctx, closed)).toThrow(expect.objectContaining({ status: 400 }) as RequestError);
      expect(ctx.route).toBe('unmatched');
    }
    expect(() => serve(router, request('POST', '/v2/models/m/infer'), closed)).toThrow(
      expect.objectContaining({ status: 401 }) as RequestError,
    );
  });

  it('answers HEAD with the GET handler, and 405 naming every method of the route otherwise', () => {
    const router = new Router(echoTable);
    expect(serve(router, request('HEAD', '/healthz')).body.template).toBe('/healthz');
    expect(() => serve(router, request('POST', '/healthz'))).toThrow(new MethodNotAllowedError('GET'));
    const admin = request('GET', '/v1/admin/routes/flights');
    expect(() => serve(router, admin)).toThrow(new MethodNotAllowedError('PUT, DELETE'));
    expect(admin.route).toBe('/v1/admin/routes/{name}');
  });

  it('answers 404 for a path no route matches', () => {
    const router = new Router(echoTable);
    for (const path of ['/', '/v1/models/a/b', '/v2/models/m/versions/3/explain', '/v1/admin/routes/']) {
      const ctx = request('GET', path);
      expect(() => serve(router, ctx)).toThrow(new RequestError(404, `no route for GET ${path}`));
      expect(ctx.route).toBe('unmatched');
    }
  });
});
