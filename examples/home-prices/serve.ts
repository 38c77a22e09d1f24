/**
 * The home-price example's third source: a paged JSON API over api-listings.json,
 * `GET /listings?page=N&per_page=M` → `{ "data": [...], "page": N, "total": T }`.
 *
 *   npx tsx examples/home-prices/serve.ts            # http://127.0.0.1:8787/listings
 *
 * Tests start it on a free port with faults: `failFirst` answers 500 to the first requests,
 * `delayMs` answers late (to trigger timeouts), `html` answers an HTML error page.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export interface ListingsServerOptions {
  port?: number;
  /** Records per page when the request does not say (default 30). */
  pageSize?: number;
  /** Answer 500 to this many requests first. */
  failFirst?: number;
  /** Delay every answer by this long. */
  delayMs?: number;
  /** Answer with an HTML page (as a misconfigured proxy would). */
  html?: boolean;
  records?: unknown[];
}

export interface ListingsServer {
  url: string;
  requests: string[];
  close(): Promise<void>;
  server: Server;
}

export async function startListingsServer(options: ListingsServerOptions = {}): Promise<ListingsServer> {
  const records = options.records ?? (JSON.parse(readFileSync(join(here, 'api-listings.json'), 'utf8')) as unknown[]);
  const requests: string[] = [];
  let failures = options.failFirst ?? 0;
  const server = createServer((request, response) => {
    requests.push(request.url ?? '');
    const answer = () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (url.pathname !== '/listings') {
        response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
        return;
      }
      if (failures > 0) {
        failures--;
        response.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal error"}');
        return;
      }
      if (options.html) {
        response.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html><html><body><h1>Maintenance</h1></body></html>');
        return;
      }
      const page = Math.max(1, Number(url.searchParams.get('page') ?? 1));
      const size = Math.max(1, Number(url.searchParams.get('per_page') ?? options.pageSize ?? 30));
      const data = records.slice((page - 1) * size, page * size);
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data, page, total: records.length }));
    };
    if (options.delayMs) setTimeout(answer, options.delayMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/listings`,
    requests,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const server = await startListingsServer({ port: Number(process.env.PORT ?? 8787) });
  console.log(`listings API on ${server.url}?page=1 (Ctrl-C to stop)`);
}
