/**
 * Reads the Prometheus text exposition the model server's /metrics returns: each sample's name
 * and value, labels left aside (a series split by label, e.g. by process, is summed).
 */
export type MetricSamples = Map<string, number>;

export function parseMetrics(text: string): MetricSamples {
  const samples: MetricSamples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{.*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[2]);
    if (Number.isFinite(value)) samples.set(match[1], (samples.get(match[1]) ?? 0) + value);
  }
  return samples;
}

/** The summed value of a metric, NaN when the server did not report it. */
export function sampleSum(samples: MetricSamples, name: string): number {
  return samples.get(name) ?? Number.NaN;
}
