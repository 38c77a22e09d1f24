import { setTimeout as sleep } from 'node:timers/promises';

/** One answered (or failed) request of a load run. */
export interface Sample {
  /** ms since the load started, when the request was sent. */
  at: number;
  latencyMs: number;
  /** HTTP status; 0 when the request itself failed (connection refused, reset). */
  status: number;
}

/**
 * An open-loop, bounded load: `rate` requests per second for `seconds`, each sent on schedule
 * whether or not earlier ones were answered (up to `maxInFlight`, beyond which sends are skipped
 * and counted), so a slow server shows up as latency rather than as fewer requests.
 */
export async function runLoad(options: {
  rate: number;
  seconds: number;
  maxInFlight?: number;
  send: () => Promise<number>;
}): Promise<{ samples: Sample[]; skipped: number }> {
  const samples: Sample[] = [];
  const inFlight = new Set<Promise<void>>();
  const total = Math.round(options.rate * options.seconds);
  const started = performance.now();
  let skipped = 0;
  for (let i = 0; i < total; i++) {
    const due = (i * 1000) / options.rate;
    const wait = due - (performance.now() - started);
    if (wait > 1) await sleep(wait);
    if (inFlight.size >= (options.maxInFlight ?? 256)) {
      skipped++;
      continue;
    }
    const at = performance.now() - started;
    const request = options
      .send()
      .catch(() => 0)
      .then((status) => {
        samples.push({ at, latencyMs: performance.now() - started - at, status });
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  }
  await Promise.all(inFlight);
  return { samples, skipped };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
