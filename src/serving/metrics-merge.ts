/**
 * Merges the Prometheus expositions of several model-server processes that share a port into one
 * answer: each family's HELP and TYPE once, then every process's samples with a `process` label
 * (a scrape lands on one process, and Prometheus must see them all). Sum over `process` for the
 * server's totals.
 *
 * Not prom-client's `AggregatorRegistry`: it merges the processes' samples into one series per
 * label set (counters and histograms summed, each gauge by its `aggregator`), so one process
 * whose event loop lags or whose log queue backs up disappears into a sum or an average. Labelled
 * per process, every series stays visible, and PromQL sums them where a total is wanted.
 */
export function mergeExpositions(parts: { process: string; text: string }[]): string {
  const families = new Map<string, { meta: string[]; samples: string[] }>();
  for (const { process, text } of parts) {
    const label = `process="${process.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
    let family: { meta: string[]; samples: string[] } | undefined;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      if (line.startsWith('#')) {
        // "# HELP name …" or "# TYPE name …" opens (or returns to) the family `name`.
        const [, kind, name] = line.split(' ', 3);
        if (kind !== 'HELP' && kind !== 'TYPE') continue;
        family = families.get(name);
        if (!family) families.set(name, (family = { meta: [], samples: [] }));
        if (!family.meta.some((m) => m.startsWith(`# ${kind} `))) family.meta.push(line);
        continue;
      }
      if (!family) families.set('', (family = { meta: [], samples: [] }));
      family.samples.push(withLabel(line, label));
    }
  }
  let merged = '';
  for (const { meta, samples } of families.values()) merged += `${[...meta, ...samples].join('\n')}\n`;
  return merged;
}

/** `name{a="1"} 2` → `name{process="p",a="1"} 2`; `name 2` → `name{process="p"} 2`. */
function withLabel(sample: string, label: string): string {
  const brace = sample.indexOf('{');
  const space = sample.indexOf(' ');
  if (brace !== -1 && (space === -1 || brace < space)) {
    const empty = sample[brace + 1] === '}';
    return `${sample.slice(0, brace + 1)}${label}${empty ? '' : ','}${sample.slice(brace + 1)}`;
  }
  return `${sample.slice(0, space)}{${label}}${sample.slice(space)}`;
}
