import type { Caller } from '../auth';
import { RequestError } from '../predict';
import type { Handler, PathParams, Reply, RequestContext, Route, ServerContext } from './context';

/**
 * Finds a request's route in the table: fixed paths by a map lookup, paths with parameters by
 * their templates in table order (compiled once to regular expressions, as hono's RegExpRouter
 * does). A parameter is one path segment; it is decoded (and a version checked) before the key
 * and the method are, so a malformed path is a 400 whoever asks.
 */
export class Router {
  private readonly fixed = new Map<string, Route>();
  private readonly patterns: { regex: RegExp; params: string[]; route: Route }[] = [];

  constructor(routes: readonly Route[]) {
    for (const route of routes) {
      const params = [...route.template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      if (params.length === 0) {
        this.fixed.set(route.template, route);
        continue;
      }
      const source = route.template
        .split(/\{\w+\}/)
        .map((literal) => literal.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
        .join('([^/]+)');
      this.patterns.push({ regex: new RegExp(`^${source}$`), params, route });
    }
  }

  /** Routes, checks and answers one request; a path no route matches is a 404. */
  serve(server: ServerContext, ctx: RequestContext): Promise<Reply> | Reply {
    const fixed = this.fixed.get(ctx.path);
    if (fixed) {
      const caller = guard(server, ctx, fixed);
      return handlerOf(fixed, ctx.req.method)!(server, ctx, NO_PARAMS, caller);
    }
    for (const { regex, params, route } of this.patterns) {
      const match = regex.exec(ctx.path);
      if (!match) continue;
      const decoded: PathParams = { name: '', version: undefined };
      for (let i = 0; i < params.length; i++) {
        const value = decodePathSegment(match[i + 1]);
        if (params[i] === 'version') decoded.version = parseVersion(value);
        else decoded.name = value;
      }
      const caller = guard(server, ctx, route);
      return handlerOf(route, ctx.req.method)!(server, ctx, decoded, caller);
    }
    ctx.route = 'unmatched';
    throw new RequestError(404, `no route for ${ctx.req.method} ${ctx.path}`);
  }
}

const NO_PARAMS: PathParams = Object.freeze({ name: '', version: undefined });

/** Records the route template, then checks the key and the method. */
export function guard(server: ServerContext, ctx: RequestContext, route: Route): Caller {
  ctx.route = route.template;
  const caller = server.auth.check(ctx.req.headers, route.access);
  if (!handlerOf(route, ctx.req.method)) throw new MethodNotAllowedError(Object.keys(route.methods).join(', '));
  return caller;
}

function handlerOf(route: Route, method: string | undefined): Handler | undefined {
  if (method === 'GET' || method === 'POST' || method === 'PUT' || method === 'DELETE') return route.methods[method];
  return method === 'HEAD' ? route.methods.GET : undefined;
}

export class MethodNotAllowedError extends RequestError {
  constructor(readonly allow: string) {
    super(405, `method not allowed; use ${allow}`);
  }
}

export function decodePathSegment(segment: string): string {
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
