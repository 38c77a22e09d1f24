import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { mergeExpositions } from '../serving/metrics-merge';

/**
 * Several model-server processes on one port (KEEL_SERVER_PROCESSES > 1). One process's event
 * loop is the limit of a busy server — HTTP parsing, validation, answers and the prediction log
 * all run there while the inference threads wait for work — so a machine with idle cores serves
 * more with more processes, as gunicorn or uvicorn workers do. The primary only forks, restarts
 * and relays: node:cluster hands each new connection to a process in turn, and a keep-alive
 * connection stays with its process. Every process follows the same routing state in the
 * database; `/metrics` answers for all of them (samples labelled `process`).
 */

const RESTART_DELAY_MS = 1000;
const METRICS_TIMEOUT_MS = 2000;

type PrimaryMessage =
  | { type: 'keel:metrics-request'; request: number }
  | { type: 'keel:metrics-result'; request: number; text: string }
  | { type: 'keel:refresh-request' };
type ProcessMessage =
  { type: 'keel:metrics'; request: number } | { type: 'keel:metrics-reply'; request: number; text: string } | { type: 'keel:refreshed' };

/**
 * Runs the primary: forks `processes` servers, replaces those that die, stops them on
 * SIGINT/SIGTERM. The exit code is 1 when a process did not stop cleanly.
 */
export async function runServerPrimary({ processes, logger }: { processes: number; logger: Logger }): Promise<void> {
  let stopping = false;
  let nextRequest = 1;
  /** Scrapes in progress: the replies gathered so far, and whom to answer. */
  const scrapes = new Map<
    number,
    { asker: Worker; askerRequest: number; waiting: Set<number>; parts: { process: string; text: string }[]; timer: NodeJS.Timeout }
  >();

  const finish = (request: number) => {
    const scrape = scrapes.get(request);
    if (!scrape) return;
    scrapes.delete(request);
    clearTimeout(scrape.timer);
    scrape.parts.sort((a, b) => Number(a.process) - Number(b.process));
    if (scrape.asker.isConnected())
      send(scrape.asker, { type: 'keel:metrics-result', request: scrape.askerRequest, text: mergeExpositions(scrape.parts) });
  };

  const liveWorkers = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());

  const onMessage = (worker: Worker, message: ProcessMessage) => {
    if (message?.type === 'keel:refreshed') {
      for (const w of liveWorkers()) if (w !== worker) send(w, { type: 'keel:refresh-request' });
    } else if (message?.type === 'keel:metrics') {
      const request = nextRequest++;
      const live = liveWorkers();
      const scrape = {
        asker: worker,
        askerRequest: message.request,
        waiting: new Set(live.map((w) => w.id)),
        parts: [],
        timer: setTimeout(() => finish(request), METRICS_TIMEOUT_MS),
      };
      scrapes.set(request, scrape);
      for (const w of live) send(w, { type: 'keel:metrics-request', request });
    } else if (message?.type === 'keel:metrics-reply') {
      const scrape = scrapes.get(message.request);
      if (!scrape || !scrape.waiting.delete(worker.id)) return;
      scrape.parts.push({ process: String(worker.id), text: message.text });
      if (scrape.waiting.size === 0) finish(message.request);
    }
  };

  const fork = () => {
    const worker = cluster.fork();
    worker.on('message', (message: ProcessMessage) => onMessage(worker, message));
  };
  for (let i = 0; i < processes; i++) fork();
  logger.info({ processes }, 'model server processes starting');

  await new Promise<void>((resolve) => {
    cluster.on('exit', (worker, code, signal) => {
      if (stopping) {
        // A process that did not stop cleanly may have lost answered predictions not yet logged.
        if (code !== 0) {
          logger.error({ process: worker.id, code, signal }, 'a model server process did not stop cleanly');
          process.exitCode = 1;
        }
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve();
        return;
      }
      logger.error({ process: worker.id, code, signal }, 'a model server process stopped; starting a replacement');
      setTimeout(fork, RESTART_DELAY_MS).unref();
    });
    const stop = () => {
      if (stopping) return;
      stopping = true;
      const workers = Object.values(cluster.workers ?? {});
      if (workers.length === 0) resolve();
      for (const worker of workers) worker?.process.kill('SIGTERM');
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** In a server process: answers the primary's requests for this process's metrics. */
export function answerMetricsRequests(render: () => Promise<string>): void {
  process.on('message', (message: PrimaryMessage) => {
    if (message?.type !== 'keel:metrics-request') return;
    void render().then(
      (text) => process.send?.({ type: 'keel:metrics-reply', request: message.request, text } satisfies ProcessMessage),
      () => process.send?.({ type: 'keel:metrics-reply', request: message.request, text: '' } satisfies ProcessMessage),
    );
  });
}

/**
 * In a server process: refreshes when another process was asked to (admin refresh, route change),
 * and returns what tells the others after this one was asked. Without it they would follow within
 * their refresh period, and a client reading right after a route change could meet the old route.
 */
export function shareExplicitRefreshes(refresh: () => Promise<unknown>, logger: Logger): () => void {
  process.on('message', (message: PrimaryMessage) => {
    if (message?.type !== 'keel:refresh-request') return;
    refresh().catch((error: unknown) => logger.warn({ err: error }, 'refresh asked by another server process failed; serving unchanged'));
  });
  return () => process.send?.({ type: 'keel:refreshed' } satisfies ProcessMessage);
}

/** In a server process: every process's metrics, merged (through the primary). */
export function clusterMetrics(): () => Promise<string> {
  let nextRequest = 1;
  const waiting = new Map<number, (text: string) => void>();
  process.on('message', (message: PrimaryMessage) => {
    if (message?.type !== 'keel:metrics-result') return;
    waiting.get(message.request)?.(message.text);
    waiting.delete(message.request);
  });
  return () =>
    new Promise((resolve, reject) => {
      const request = nextRequest++;
      const timer = setTimeout(() => {
        waiting.delete(request);
        reject(new Error('the primary process did not answer for the metrics'));
      }, METRICS_TIMEOUT_MS * 2);
      waiting.set(request, (text) => {
        clearTimeout(timer);
        resolve(text);
      });
      process.send?.({ type: 'keel:metrics', request } satisfies ProcessMessage);
    });
}

function send(worker: Worker, message: PrimaryMessage): void {
  worker.send(message);
}
