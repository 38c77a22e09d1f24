import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { InvalidInputError } from '../shared/errors';

/**
 * What a pipeline input may read, as the operator allowed it (docs/security.md). Anyone who can
 * start a workflow chooses the sources; this policy, from the worker's environment, bounds them:
 *
 * - files only under `roots` (KEEL_SOURCE_ROOTS), symlinks followed first;
 * - HTTP only to listed origins (KEEL_HTTP_SOURCES), and a header value read from the
 *   environment only to an origin listed for that variable;
 * - PostgreSQL only through a connection the operator named (KEEL_POSTGRES_SOURCES), in a
 *   read-only transaction with a statement timeout.
 * Every refusal is an InvalidInputError (non-retryable) naming the field and the rule.
 */
export interface SourcePolicy {
  /** Absolute directories, and/or `vega-datasets:` for the files of that package. */
  roots: string[];
  /** Allowed origins (`https://api.example.com`), each with the variables its headers may carry. */
  http: HttpOrigin[];
  /** Connection aliases → the environment variable holding each URL. */
  postgres: Record<string, string>;
  /** statement_timeout of a postgres source's query, in ms. */
  statementTimeoutMs: number;
}

export interface HttpOrigin {
  origin: string;
  env: string[];
}

const VEGA_ROOT = 'vega-datasets:';
export const DEFAULT_STATEMENT_TIMEOUT_MS = 300_000;

/** The default: the project directory and the vega-datasets package; no HTTP, no PostgreSQL. */
export function defaultSourcePolicy(projectDir: string = process.cwd()): SourcePolicy {
  return { roots: [resolve(projectDir), VEGA_ROOT], http: [], postgres: {}, statementTimeoutMs: DEFAULT_STATEMENT_TIMEOUT_MS };
}

/** `KEEL_SOURCE_ROOTS`: comma-separated directories (relative to `base`) or `vega-datasets:`. */
export function parseSourceRoots(value: string, base: string): string[] {
  return value
    .split(',')
    .map((root) => root.trim())
    .filter(Boolean)
    .map((root) => (root === VEGA_ROOT ? root : resolve(base, root)));
}

/**
 * `KEEL_HTTP_SOURCES`: comma-separated origins, each optionally `=VAR+VAR` naming the variables
 * whose values its headers may carry: `https://api.example.com=API_TOKEN,http://127.0.0.1:9000`.
 * Returns the problem as a string when the value does not parse.
 */
export function parseHttpSources(value: string): HttpOrigin[] | string {
  const out: HttpOrigin[] = [];
  for (const item of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [origin, vars = ''] = item.split('=', 2);
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      return `"${origin}" is not an origin (scheme://host[:port])`;
    }
    if (!/^https?:$/.test(parsed.protocol) || parsed.origin !== origin.replace(/\/$/, ''))
      return `"${origin}" is not an http(s) origin (scheme://host[:port], no path)`;
    const env = vars
      .split('+')
      .map((v) => v.trim())
      .filter(Boolean);
    const badVar = env.find((v) => !/^[A-Z_][A-Z0-9_]*$/.test(v));
    if (badVar !== undefined) return `"${badVar}" (for ${origin}) is not an environment variable name`;
    out.push({ origin: parsed.origin, env });
  }
  return out;
}

/** `KEEL_POSTGRES_SOURCES`: `alias=VARIABLE,...`, each variable holding a postgres:// URL. */
export function parsePostgresSources(value: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const item of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [alias, variable] = item.split('=', 2);
    if (!/^[a-z][a-z0-9_-]*$/.test(alias ?? '')) return `"${alias}" is not an alias (lowercase letters, digits, _ and -)`;
    if (!/^[A-Z_][A-Z0-9_]*$/.test(variable ?? ''))
      return `"${alias}=${variable ?? ''}" must name an environment variable (alias=VARIABLE)`;
    out[alias] = variable;
  }
  return out;
}

function describeRoots(policy: SourcePolicy): string {
  return policy.roots.length ? policy.roots.join(', ') : '(none)';
}

/**
 * The real path of a file source, or an InvalidInputError when it lies outside every root (after
 * following symlinks, so a link cannot lead out). `vegaPath` resolves `vega-datasets:<file>`.
 */
export async function allowedFilePath(
  field: string,
  path: string,
  policy: SourcePolicy,
  vegaPath: (path: string) => string,
): Promise<string> {
  const isVega = path.startsWith(VEGA_ROOT);
  if (isVega && !policy.roots.includes(VEGA_ROOT)) {
    throw new InvalidInputError(
      `${field}: ${JSON.stringify(path)} is refused: vega-datasets: is not among the allowed source roots (KEEL_SOURCE_ROOTS: ${describeRoots(policy)})`,
    );
  }
  const candidate = isVega ? vegaPath(path) : path;
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    // A file that does not exist: the source reports it, naming the file, when it opens it. Its
    // parent must still be inside a root, or the message would tell what exists outside.
    real = resolve(candidate);
  }
  const roots = await Promise.all(
    policy.roots.map(async (root) => (root === VEGA_ROOT ? realOrSelf(vegaPath(`${VEGA_ROOT}x`), true) : realOrSelf(root, false))),
  );
  if (roots.some((root) => root !== undefined && isInside(real, root))) return isVega ? candidate : real;
  throw new InvalidInputError(
    `${field}: ${JSON.stringify(path)} is refused: it resolves outside the allowed source roots (KEEL_SOURCE_ROOTS: ${describeRoots(policy)})`,
  );
}

async function realOrSelf(path: string, parentOfFile: boolean): Promise<string | undefined> {
  const dir = parentOfFile ? resolve(path, '..') : path;
  try {
    return await realpath(dir);
  } catch {
    return resolve(dir);
  }
}

function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** Throws unless `url`'s origin is allowed. */
export function checkHttpUrl(field: string, url: string, policy: SourcePolicy): void {
  const origin = originOf(url);
  if (!policy.http.some((o) => o.origin === origin)) {
    throw new InvalidInputError(
      `${field}: ${origin} is refused: not an allowed HTTP source origin (KEEL_HTTP_SOURCES: ${policy.http.map((o) => o.origin).join(', ') || '(none)'})`,
    );
  }
}

/** Throws unless `variable` may be sent (in a header) to `url`'s origin. */
export function checkHeaderVariable(field: string, variable: string, url: string, policy: SourcePolicy): void {
  const origin = originOf(url);
  if (!policy.http.some((o) => o.origin === origin && o.env.includes(variable))) {
    throw new InvalidInputError(
      `${field}: the environment variable ${variable} may not be sent to ${origin} (KEEL_HTTP_SOURCES lists the variables each origin may receive, as origin=${variable})`,
    );
  }
}

export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/** The environment variable holding the URL of a postgres source's connection, or a refusal. */
export function postgresConnectionVariable(field: string, spec: { connection?: string; urlEnv?: string }, policy: SourcePolicy): string {
  const aliases = Object.keys(policy.postgres);
  const known = `KEEL_POSTGRES_SOURCES: ${aliases.length ? aliases.join(', ') : '(none)'}`;
  if (spec.connection !== undefined) {
    const variable = policy.postgres[spec.connection];
    if (!variable)
      throw new InvalidInputError(`${field}.connection: "${spec.connection}" is refused: not a connection the operator named (${known})`);
    return variable;
  }
  // The old form names the variable itself: allowed only for a variable behind an alias.
  if (spec.urlEnv !== undefined && Object.values(policy.postgres).includes(spec.urlEnv)) return spec.urlEnv;
  const what = spec.urlEnv === undefined ? 'names no connection' : `names the variable ${spec.urlEnv}, which no connection alias uses`;
  throw new InvalidInputError(`${field}: a postgres source ${what}; set connection to one of the operator's aliases (${known})`);
}
