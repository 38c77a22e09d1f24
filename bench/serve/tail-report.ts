import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Reads the model server's tail traces (src/serving/tail-trace.ts, one file per process) and
 * sums them per load run: which stage overlapped the requests slower than their second's p99,
 * and the event-loop delay and GC pauses of the run.
 */

export interface TraceWindow {
  name: string;
  /** Epoch ms. */
  from: number;
  to: number;
}

const KINDS = ['inline', 'thread', 'queue', 'spool', 'copy', 'gc'] as const;
type Kind = (typeof KINDS)[number];
type SpanFigures = { n: number; ms: number; max: number };
type TraceRecord =
  | ({ type: 'slow'; t: number; ms: number } & Record<Kind, number>)
  | ({
      type: 'second';
      t: number;
      requests: number;
      p99_ms: number;
      max_ms: number;
      loop_delay_p99_ms: number;
      loop_delay_max_ms: number;
    } & Record<Kind, SpanFigures>);

interface TailFigures {
  run: string;
  /** Requests over their second's p99 (server side, all processes). */
  slow_requests: number;
  slow_ms_mean: number;
  /** The largest per-second server-side p99 of any process, and the slowest request. */
  server_p99_ms_max: number;
  server_max_ms: number;
  /** Mean ms of a slow request that each stage overlapped. */
  overlap_ms_mean: Record<Kind, number>;
  /** Slow requests whose largest overlap was this stage, or `none` (under a third of the request overlapped). */
  dominant: Record<string, number>;
  loop_delay_p99_ms_max: number;
  loop_delay_max_ms: number;
  gc_ms_per_s: number;
  gc_pause_max_ms: number;
  /** The longest span of each stage in the run. */
  span_max_ms: Record<Kind, number>;
}

export async function readTraces(dir: string): Promise<TraceRecord[]> {
  const records: TraceRecord[] = [];
  for (const name of await readdir(dir)) {
    if (!name.startsWith('tail-trace.') || !name.endsWith('.jsonl')) continue;
    for (const line of (await readFile(join(dir, name), 'utf8')).split('\n')) if (line) records.push(JSON.parse(line) as TraceRecord);
  }
  return records;
}

export function tailReport(records: TraceRecord[], windows: TraceWindow[]): TailFigures[] {
  return windows.map(({ name, from, to }) => {
    const inRun = records.filter((r) => r.t >= from && r.t <= to);
    const slow = inRun.filter((r): r is Extract<TraceRecord, { type: 'slow' }> => r.type === 'slow');
    // A per-second line covers the second before it: skip the first second of the run.
    const seconds = inRun.filter((r): r is Extract<TraceRecord, { type: 'second' }> => r.type === 'second' && r.t >= from + 1000);
    const overlap = Object.fromEntries(KINDS.map((k) => [k, mean(slow.map((r) => r[k]))])) as Record<Kind, number>;
    const dominant: Record<string, number> = {};
    for (const r of slow) {
      const top = KINDS.reduce((a, b) => (r[b] > r[a] ? b : a));
      const key = r[top] >= r.ms / 3 ? top : 'none';
      dominant[key] = (dominant[key] ?? 0) + 1;
    }
    return {
      run: name,
      slow_requests: slow.length,
      slow_ms_mean: mean(slow.map((r) => r.ms)),
      server_p99_ms_max: max(seconds.map((s) => s.p99_ms)),
      server_max_ms: max(seconds.map((s) => s.max_ms)),
      overlap_ms_mean: overlap,
      dominant,
      loop_delay_p99_ms_max: max(seconds.map((s) => s.loop_delay_p99_ms)),
      loop_delay_max_ms: max(seconds.map((s) => s.loop_delay_max_ms)),
      // Each per-second line is one process's second.
      gc_ms_per_s: mean(seconds.map((s) => s.gc.ms)),
      gc_pause_max_ms: max(seconds.map((s) => s.gc.max)),
      span_max_ms: Object.fromEntries(KINDS.map((k) => [k, max(seconds.map((s) => s[k].max))])) as Record<Kind, number>,
    };
  });
}

export function describeTail(figures: TailFigures[]): string[] {
  return figures.map(
    (f) =>
      `tail ${f.run}: ${f.slow_requests} slow requests (mean ${f.slow_ms_mean} ms; server p99 ≤ ${f.server_p99_ms_max}, max ${f.server_max_ms} ms); ` +
      `overlapped on average by ${KINDS.map((k) => `${k} ${f.overlap_ms_mean[k]}`).join(', ')} ms; ` +
      `dominant ${Object.entries(f.dominant)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}; ` +
      `event-loop delay p99 ≤ ${f.loop_delay_p99_ms_max}, max ${f.loop_delay_max_ms} ms; GC ${f.gc_ms_per_s} ms/s, longest pause ${f.gc_pause_max_ms} ms; ` +
      `longest ${KINDS.map((k) => `${k} ${f.span_max_ms[k]}`).join(', ')} ms`,
  );
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : round(values.reduce((a, b) => a + b, 0) / values.length);
}

function max(values: number[]): number {
  return values.reduce((a, b) => Math.max(a, b), 0);
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
