import { performance } from 'node:perf_hooks';

interface TrafficStats {
  requests: number;
  errors: number;
  /** Requests not sent because `maxInFlight` were still waiting: the server fell behind. */
  skipped: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Open-loop load: one prediction request every 1/rps seconds until `until` (epoch ms), each with
 * the next instance, at most `maxInFlight` outstanding. A request counts as an error unless it
 * is answered 200 with one prediction. `stats` is live; `done` settles once all have answered.
 */
export function runTraffic(options: {
  url: string;
  instances: Record<string, unknown>[];
  rps: number;
  until: number;
  maxInFlight?: number;
}) {
  const { url, instances, rps, until, maxInFlight = 64 } = options;
  const stats: TrafficStats = { requests: 0, errors: 0, skipped: 0, p50Ms: 0, p99Ms: 0 };
  const latencies: number[] = [];
  let inFlight = 0;

  async function send(instance: Record<string, unknown>) {
    inFlight++;
    const t0 = performance.now();
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ instances: [instance] }),
      });
      const body = (await response.json()) as { predictions?: unknown[] };
      if (response.status !== 200 || body.predictions?.length !== 1) stats.errors++;
    } catch {
      stats.errors++;
    } finally {
      latencies.push(performance.now() - t0);
      stats.requests++;
      inFlight--;
    }
  }

  const done = (async () => {
    const pending = new Set<Promise<void>>();
    const intervalMs = 1000 / rps;
    for (let i = 0, next = performance.now(); Date.now() < until; i++, next += intervalMs) {
      const wait = next - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (inFlight >= maxInFlight) {
        stats.skipped++;
        continue;
      }
      const request = send(instances[i % instances.length]);
      pending.add(request);
      void request.then(() => pending.delete(request));
    }
    await Promise.all(pending);
    latencies.sort((a, b) => a - b);
    stats.p50Ms = latencies[Math.floor(latencies.length * 0.5)] ?? 0;
    stats.p99Ms = latencies[Math.floor(latencies.length * 0.99)] ?? 0;
    return stats;
  })();
  return { stats, done };
}
