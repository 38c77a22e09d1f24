import { createServer, type Server } from 'node:http';

/**
 * The worker process's health endpoints, for orchestrators (Kubernetes probes, docker-compose
 * healthchecks): `GET /livez` answers 200 whenever the event loop does — a loop blocked by heavy
 * work that should be on a worker thread makes it time out; `GET /readyz` answers 200 only while
 * every Temporal worker of the process is RUNNING (503 with the states otherwise: starting,
 * draining after SIGTERM, failed). Nothing else is served; no secret is in the answers.
 */
export async function startWorkerHealth(options: {
  host: string;
  port: number;
  states: () => string[];
}): Promise<Server & { port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, { error: 'GET only' });
    if (path === '/livez') return answer(res, 200, { live: true });
    if (path === '/readyz') {
      const states = options.states();
      const ready = states.length > 0 && states.every((state) => state === 'RUNNING');
      return answer(res, ready ? 200 : 503, { ready, workers: states });
    }
    return answer(res, 404, { error: `no route ${path}` });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  return Object.assign(server, { port: typeof address === 'object' && address ? address.port : options.port });
}

function answer(res: import('node:http').ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
