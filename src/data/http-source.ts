import type { HttpSourceSpec } from '../shared/dataset-spec';
import { InvalidInputError } from '../shared/errors';
import { redactSecrets, redactUrl } from '../shared/redact';
import type { OpenedSource, SourceOptions, SourceRecord } from './source-types';
import { checkHeaderVariable, checkHttpUrl, originOf } from './source-policy';

/**
 * A paged HTTP JSON endpoint. One page is in memory at a time. Each request has a timeout;
 * timeouts, network errors, 408, 425, 429 and 5xx are retried with exponential backoff (honouring
 * Retry-After up to the maximum delay), then fail with every attempt's reason. Answers that can
 * never succeed fail at once: other 4xx, HTML or anything else that is not JSON, a page without
 * its records array.
 *
 * With a policy (./source-policy), every request — the first page, the next pages, each redirect
 * — goes only to an allowed origin, and a header read from the environment only to an origin
 * allowed for that variable. Redirects are followed here, not by fetch: a header read from the
 * environment is never sent to another origin than the page's.
 */
export async function openHttpSource(spec: HttpSourceSpec, name: string, options: SourceOptions = {}): Promise<OpenedSource> {
  // The whole environment: `urlEnv` and header `{ env }` name variables the operator allowed (KEEL_HTTP_SOURCES).
  const env = options.env ?? process.env;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const where = `http source "${name}"`;
  const field = options.field ?? 'source';
  const policy = options.policy;
  const plainHeaders: Record<string, string> = { accept: 'application/json' };
  const envHeaders: { header: string; variable: string; value: string }[] = [];
  for (const [header, value] of Object.entries(spec.headers ?? {})) {
    if (typeof value === 'string') plainHeaders[header] = value;
    else {
      if (policy) checkHeaderVariable(`${field}.headers.${header}`, value.env, spec.url, policy);
      const fromEnv = env[value.env];
      if (fromEnv === undefined)
        throw new InvalidInputError(`${where}: header ${header} needs the environment variable ${value.env}, which is not set`);
      envHeaders.push({ header, variable: value.env, value: fromEnv });
    }
  }
  const secrets = envHeaders.map((h) => h.value);

  /** The headers for one request: those read from the environment only where allowed. */
  function headersFor(url: string, firstOrigin: string): Record<string, string> {
    const headers = { ...plainHeaders };
    for (const { header, variable, value } of envHeaders) {
      if (originOf(url) !== firstOrigin) continue;
      if (policy) checkHeaderVariable(`${field}.headers.${header}`, variable, url, policy);
      headers[header] = value;
    }
    return headers;
  }

  /** GET with redirects followed by hand (at most 5), each target checked against the policy. */
  async function get(url: string): Promise<Response> {
    let current = url;
    const origin = originOf(url);
    for (let hop = 0; ; hop++) {
      if (policy) checkHttpUrl(`${field}.url`, current, policy);
      const response = await fetch(current, {
        headers: headersFor(current, origin),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return response;
      await response.body?.cancel();
      if (hop >= 5) throw new InvalidInputError(`${where}: more than 5 redirects from GET ${redactUrl(url)}`);
      current = new URL(location, current).toString();
    }
  }
  const timeoutMs = spec.timeoutMs ?? 10_000;
  const retries = { attempts: 4, initialDelayMs: 500, maxDelayMs: 10_000, ...spec.retries };
  const pagination = spec.pagination ?? { type: 'none' as const };
  const maxPages = spec.maxPages ?? 100_000;

  async function getJson(url: string, page: number): Promise<unknown> {
    const failures: string[] = [];
    let delay = retries.initialDelayMs;
    for (let attempt = 1; attempt <= retries.attempts; attempt++) {
      let wait = delay;
      try {
        const response = await get(url);
        const type = response.headers.get('content-type') ?? '';
        const body = await response.text();
        if (response.ok) return parseBody(body, type, `${where}: page ${page} (GET ${redactUrl(url)})`);
        const status = `${response.status} ${response.statusText}`.trim();
        if (!RETRYABLE.has(response.status) && response.status < 500) {
          throw new InvalidInputError(
            `${where}: page ${page} (GET ${redactUrl(url)}) answered ${status}: ${clip(redactSecrets(body.trim(), secrets), 200)}`,
          );
        }
        failures.push(`attempt ${attempt}: ${status}`);
        const retryAfter = Number(response.headers.get('retry-after'));
        if (Number.isFinite(retryAfter) && retryAfter > 0) wait = Math.max(wait, retryAfter * 1000);
      } catch (error) {
        if (error instanceof InvalidInputError) throw error;
        const e = error as Error & { cause?: { code?: string; message?: string } };
        const reason =
          e.name === 'TimeoutError' || e.name === 'AbortError'
            ? `timed out after ${timeoutMs} ms`
            : (e.cause?.code ?? e.cause?.message ?? e.message);
        failures.push(`attempt ${attempt}: ${reason}`);
      }
      if (attempt < retries.attempts) {
        await sleep(Math.min(wait, retries.maxDelayMs));
        delay = Math.min(delay * 2, retries.maxDelayMs);
      }
    }
    throw new Error(`${where}: page ${page} (GET ${redactUrl(url)}) failed after ${retries.attempts} attempts: ${failures.join('; ')}`);
  }

  async function* records(): AsyncGenerator<SourceRecord> {
    let recordNumber = 0;
    let url: string | undefined = spec.url;
    let pageNumber = pagination.type === 'page' ? pagination.start : 1;
    if (pagination.type === 'page')
      url = withParams(spec.url, {
        [pagination.param]: pageNumber,
        ...(pagination.sizeParam && pagination.size ? { [pagination.sizeParam]: pagination.size } : {}),
      });
    for (let pages = 1; url !== undefined; pages++) {
      if (pages > maxPages)
        throw new InvalidInputError(`${where}: more than maxPages = ${maxPages} pages; raise maxPages if that is expected`);
      const body = await getJson(url, pages);
      const list = spec.recordsPath ? valueAt(body, spec.recordsPath) : body;
      if (!Array.isArray(list)) {
        const found = list === undefined ? 'nothing' : Array.isArray(body) ? 'an array' : typeof list;
        throw new InvalidInputError(
          `${where}: page ${pages} (GET ${redactUrl(url)}) has no array of records at ${spec.recordsPath ?? 'the top level'} (found ${found}${isObject(body) ? `; keys: ${Object.keys(body).slice(0, 10).join(', ')}` : ''})`,
        );
      }
      for (const value of list) {
        if (isObject(value)) yield { recordNumber: recordNumber++, record: value };
        else
          yield {
            recordNumber: recordNumber++,
            record: { value },
            unreadable: `page ${pages}: a record is not an object (got ${clip(JSON.stringify(value) ?? String(value), 40)})`,
          };
      }
      switch (pagination.type) {
        case 'none':
          url = undefined;
          break;
        case 'page':
          if (list.length === 0 || (pagination.size !== undefined && list.length < pagination.size)) url = undefined;
          else {
            pageNumber++;
            url = withParams(url, { [pagination.param]: pageNumber });
          }
          break;
        case 'cursor': {
          const next = valueAt(body, pagination.nextPath);
          url = next === undefined || next === null || next === '' ? undefined : withParams(spec.url, { [pagination.param]: String(next) });
          break;
        }
        case 'next-url': {
          const next = valueAt(body, pagination.nextPath);
          url = typeof next === 'string' && next !== '' ? new URL(next, url).toString() : undefined;
          break;
        }
      }
    }
  }

  return {
    name,
    where: `${where} (${redactUrl(spec.url)})`,
    fields: null,
    records: records(),
    fraction: () => undefined,
    close: async () => {},
  };
}

const RETRYABLE = new Set([408, 425, 429]);

function parseBody(body: string, type: string, where: string): unknown {
  const start = body.trimStart();
  if (/\bhtml\b/i.test(type) || start.startsWith('<')) {
    throw new InvalidInputError(
      `${where} answered ${type || 'no content type'} that looks like HTML, not JSON: ${clip(start.replace(/\s+/g, ' '), 80)}`,
    );
  }
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new InvalidInputError(
      `${where} answered ${type || 'no content type'} that is not JSON (${(error as Error).message}): ${clip(start, 80)}`,
    );
  }
}

function withParams(url: string, params: Record<string, string | number>): string {
  const parsed = new URL(url);
  for (const [key, value] of Object.entries(params)) parsed.searchParams.set(key, String(value));
  return parsed.toString();
}

function valueAt(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}
