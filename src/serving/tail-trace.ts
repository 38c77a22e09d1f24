import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createHistogram, monitorEventLoopDelay, PerformanceObserver, performance, type RecordableHistogram } from 'node:perf_hooks';

/**
 * Where the model server's slow requests spend their time: a diagnostic for `bench:serve`
 * (KEEL_TAIL_TRACE, off by default). The prediction path's modules report spans of their stages
 * (an inline batch, a thread batch, a batch's wait in its queue, a spool write, the COPY
 * hand-over); V8 reports its GC pauses. Requests are timed from their parsed headers to their
 * answer's last byte (node:http's diagnostics channels: no hook in the router). Each request
 * slower than the previous second's p99 is written as a line with the time each kind of span
 * overlapped it; each second adds a line of server-side percentiles, event-loop delay and GC.
 * Overlap is not proof of cause, but a stage that never overlaps the slow requests is not their
 * cause, and one that overlaps most of them, for most of their time, is the one to fix.
 */

type SpanKind =
  /** A batch run on the event loop (blocks it). */
  | 'inline'
  /** A batch on an inference thread, from dispatch to its answer. */
  | 'thread'
  /** A batch's oldest request waiting in its queue before dispatch. */
  | 'queue'
  /** A spool group write, from its start to its lines being durable. */
  | 'spool'
  /** The prediction log's COPY hand-over on the event loop (lines joined and posted to the COPY thread). */
  | 'copy'
  /** A V8 garbage collection pause (blocks the event loop). */
  | 'gc';

const KINDS: SpanKind[] = ['inline', 'thread', 'queue', 'spool', 'copy', 'gc'];
const RING = 8192;

class SpanRing {
  private readonly starts = new Float64Array(RING);
  private readonly ends = new Float64Array(RING);
  private next = 0;
  private size = 0;
  /** Longest span since the last per-second line (ms). */
  max = 0;
  total = 0;
  count = 0;

  add(start: number, end: number): void {
    this.starts[this.next] = start;
    this.ends[this.next] = end;
    this.next = (this.next + 1) % RING;
    if (this.size < RING) this.size++;
    const ms = end - start;
    if (ms > this.max) this.max = ms;
    this.total += ms;
    this.count++;
  }

  /** Time (ms) within [from, to] covered by spans, newest first; spans are added roughly in end order. */
  overlap(from: number, to: number): number {
    let covered = 0;
    let lastStart = Number.POSITIVE_INFINITY;
    for (let n = 0, i = (this.next - 1 + RING) % RING; n < this.size; n++, i = (i - 1 + RING) % RING) {
      const end = this.ends[i];
      if (end < from - 1000) break; // older than any span that could still overlap
      const start = Math.max(this.starts[i], from);
      const stop = Math.min(end, to, lastStart);
      if (stop > start) covered += stop - start;
      if (this.starts[i] < lastStart) lastStart = Math.max(this.starts[i], from);
    }
    return covered;
  }

  resetSecond(): { max: number; total: number; count: number } {
    const figures = { max: this.max, total: this.total, count: this.count };
    this.max = this.total = this.count = 0;
    return figures;
  }
}

class TailTrace {
  private readonly rings = new Map<SpanKind, SpanRing>(KINDS.map((k) => [k, new SpanRing()]));
  private readonly out: WriteStream;
  private readonly requestMs: RecordableHistogram = createHistogram();
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 1 });
  private readonly gc: PerformanceObserver;
  private readonly timer: NodeJS.Timeout;
  /** Requests slower than this are written; the previous second's p99 once there is one. */
  private threshold = 1;
  private readonly started = new WeakMap<IncomingMessage, number>();
  private readonly onStart = (message: unknown) => this.started.set((message as { request: IncomingMessage }).request, performance.now());
  private readonly onFinish = (message: unknown) => this.finish((message as { request: IncomingMessage }).request);

  constructor(file: string) {
    this.out = createWriteStream(file, { flags: 'a' });
    this.gc = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) this.span('gc', entry.startTime, entry.startTime + entry.duration);
    });
    this.gc.observe({ entryTypes: ['gc'] });
    this.loopDelay.enable();
    subscribe('http.server.request.start', this.onStart);
    subscribe('http.server.response.finish', this.onFinish);
    this.timer = setInterval(() => this.second(), 1000);
    this.timer.unref();
  }

  span(kind: SpanKind, start: number, end = performance.now()): void {
    this.rings.get(kind)!.add(start, end);
  }

  private finish(request: IncomingMessage): void {
    const start = this.started.get(request);
    if (start === undefined) return;
    const end = performance.now();
    const ms = end - start;
    this.requestMs.record(Math.max(1, Math.round(ms * 1000)));
    if (ms < this.threshold) return;
    const overlaps: Record<string, number> = {};
    for (const kind of KINDS) overlaps[kind] = round(this.rings.get(kind)!.overlap(start, end));
    this.write({ type: 'slow', t: epochMs(end), ms: round(ms), ...overlaps });
  }

  /** One line per second: the server-side request percentiles (µs), event-loop delay, and each span kind's count, total and longest. */
  private second(): void {
    const h = this.requestMs;
    const requests = h.count;
    const p99us = requests > 0 ? h.percentile(99) : 0;
    // The next second's slow requests are those over this second's p99 (at least 1 ms).
    this.threshold = Math.max(1, p99us / 1000);
    const spans: Record<string, unknown> = {};
    for (const kind of KINDS) {
      const { max, total, count } = this.rings.get(kind)!.resetSecond();
      spans[kind] = { n: count, ms: round(total), max: round(max) };
    }
    this.write({
      type: 'second',
      t: epochMs(performance.now()),
      requests,
      p50_ms: requests > 0 ? round(h.percentile(50) / 1000) : 0,
      p99_ms: round(p99us / 1000),
      max_ms: requests > 0 ? round(h.max / 1000) : 0,
      loop_delay_p99_ms: round(this.loopDelay.percentile(99) / 1e6),
      loop_delay_max_ms: round(this.loopDelay.max / 1e6),
      ...spans,
    });
    h.reset();
    this.loopDelay.reset();
  }

  private write(record: Record<string, unknown>): void {
    this.out.write(`${JSON.stringify(record)}\n`);
  }

  close(): Promise<void> {
    clearInterval(this.timer);
    unsubscribe('http.server.request.start', this.onStart);
    unsubscribe('http.server.response.finish', this.onFinish);
    this.second();
    this.gc.disconnect();
    this.loopDelay.disable();
    return new Promise((resolve) => this.out.end(resolve));
  }
}

function epochMs(now: number): number {
  return Math.round((performance.timeOrigin + now) * 1000) / 1000;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** The trace of this process, when one is on: the prediction path's modules report to it. */
export let tailTrace: TailTrace | undefined;

/** Starts tracing this process into `<prefix>.<pid>.jsonl` (KEEL_TAIL_TRACE). */
export function startTailTrace(prefix: string): TailTrace {
  tailTrace = new TailTrace(`${prefix}.${process.pid}.jsonl`);
  return tailTrace;
}

export async function stopTailTrace(): Promise<void> {
  const trace = tailTrace;
  tailTrace = undefined;
  await trace?.close();
}
