import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { InferencePoolStats } from './inference-pool';
import type { ModelPool } from './model-pool';
import type { PredictionLogStats, VersionLogStats } from './prediction-log';

/**
 * The model server's Prometheus metrics (`GET /metrics`), in a registry of its own so two servers
 * in one process do not share counters. Model and version labels only ever carry served
 * versions — never a name taken from a request path — so a client cannot grow the label set.
 *
 * The per-request instruments are plain counters rendered in the exposition format at scrape
 * time (FastCounter, FastHistogram below): prom-client re-hashes and re-validates the label set
 * on every inc/observe, even through a child, which costs more than the rest of a request's
 * bookkeeping. Everything sampled at scrape time (queue depths, log counters, process metrics)
 * goes through prom-client.
 *
 * Over 300 lines on purpose: the fast per-request instruments and their exposition have to stay
 * byte-compatible with prom-client's output in one registry.
 */

export type Protocol = 'v1' | 'v2';

export interface PredictMetrics {
  /** One request answered by this version; `seconds` from its arrival to the reply. */
  done(seconds: number, rows: number): void;
  /** One request failed after it was routed to this version (status 4xx/5xx). */
  failed(seconds: number, status: number): void;
}

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
const LOG_WRITE_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const LOG_WRITE_ROWS_BUCKETS = [1, 10, 100, 1000, 2500, 5000, 10_000, 20_000];

export class ServingMetrics {
  readonly registry = new Registry();
  private readonly requests = new FastCounter(
    'keel_predict_requests_total',
    'Prediction requests (v1 predict and v2 infer) routed to a model version, whatever their outcome.',
  );
  private readonly errors = new FastCounter(
    'keel_predict_errors_total',
    'Prediction requests routed to a model version that failed, by HTTP status (4xx: bad input, 5xx: inference failed, 503: overloaded).',
  );
  private readonly rows = new FastCounter('keel_predict_rows_total', 'Rows predicted (and logged) per model version.');
  private readonly latency = new FastHistogram(
    'keel_predict_duration_seconds',
    'Time from the arrival of a prediction request to its reply, per model version.',
    LATENCY_BUCKETS,
  );
  private readonly batchRows = new FastHistogram('keel_inference_batch_rows', 'Rows per session.run after micro-batching.', BATCH_BUCKETS);
  private readonly batchRequests = new FastHistogram(
    'keel_inference_batch_requests',
    'Requests merged into one session.run by micro-batching.',
    BATCH_BUCKETS,
  );
  private readonly http = new FastCounter('keel_http_requests_total', 'HTTP requests by route template, method and status code.');
  private readonly shadow: Counter<'model' | 'version' | 'outcome'>;
  private readonly feedbackItems: Counter;
  private readonly unknownCategoryValues: Counter<'model' | 'version' | 'feature'>;
  private readonly timeouts: Counter<'phase'>;
  private readonly aborts: Counter;
  private readonly logWriteSeconds: Histogram;
  private readonly logWriteRows: Histogram;
  private readonly children = new Map<string, Map<number, Partial<Record<Protocol, PredictMetrics>>>>();
  private readonly batchChildren = new Map<string, { rows: HistogramChild; requests: HistogramChild }>();
  private readonly httpChildren = new Map<string, CounterChild>();

  constructor(sources: {
    logStats: () => PredictionLogStats;
    logByVersion: () => VersionLogStats[];
    inferenceStats: () => InferencePoolStats;
    pool: () => ModelPool | undefined;
  }) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    // Gauges that prom-client names with a counter's `_total` suffix; `promtool check metrics`
    // rejects them, and they say little that process_* and nodejs_eventloop_* do not.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      this.registry.removeSingleMetric(name);
    }
    this.shadow = new Counter({
      name: 'keel_shadow_predictions_total',
      help: 'Shadow requests (candidate scoring mirrored traffic, logged, never returned) by outcome: ok, invalid (the candidate rejects the input), failed, dropped (queue full).',
      labelNames: ['model', 'version', 'outcome'],
      registers,
    });
    this.feedbackItems = new Counter({ name: 'keel_feedback_total', help: 'Feedback items (ground truth) stored.', registers });
    this.unknownCategoryValues = new Counter({
      name: 'keel_unknown_category_values_total',
      help: 'Categorical values outside the training categories (after canonicalisation), per model version and feature, whatever the policy (bucket, reject, nearest).',
      labelNames: ['model', 'version', 'feature'],
      registers,
    });
    this.timeouts = new Counter({
      name: 'keel_http_request_timeouts_total',
      help: 'Requests closed with a 408 because their headers (KEEL_HEADERS_TIMEOUT_S) or whole request (KEEL_REQUEST_TIMEOUT_S) arrived too slowly, by phase.',
      labelNames: ['phase'],
      registers,
    });
    this.aborts = new Counter({
      name: 'keel_http_aborted_requests_total',
      help: 'Requests whose client went away before the request had arrived (nobody to answer).',
      registers,
    });

    new Gauge({
      name: 'keel_prediction_log_queue_depth',
      help: 'Predictions accepted for the log and not yet written.',
      registers,
      collect() {
        this.set(sources.logStats().queued);
      },
    });
    /** The log's figures per version, with a zero for every loaded version: its series exist before anything is queued or lost. */
    const logByServedVersion = (): VersionLogStats[] => {
      const byKey = new Map<string, VersionLogStats>();
      const pool = sources.pool();
      for (const model of pool?.list() ?? []) {
        for (const { model: loaded } of pool!.versions(model.name)) {
          const version = String(loaded.version);
          byKey.set(`${loaded.name}\u0000${version}`, { model: loaded.name, version, queued: 0, dropped: 0 });
        }
      }
      for (const v of sources.logByVersion()) byKey.set(`${v.model}\u0000${v.version}`, v);
      return [...byKey.values()];
    };
    new Gauge({
      name: 'keel_prediction_log_queued_rows',
      help: 'keel_prediction_log_queue_depth by model and version: predictions accepted for the log and not yet written.',
      labelNames: ['model', 'version'],
      registers,
      collect() {
        this.reset();
        for (const v of logByServedVersion()) this.set({ model: v.model, version: v.version }, v.queued);
      },
    });
    const droppedSeen = new Map<string, number>();
    new Counter({
      name: 'keel_prediction_log_dropped_rows_total',
      help: 'keel_prediction_log_dropped_total by model and version: predictions never written to the log. Should stay 0.',
      labelNames: ['model', 'version'],
      registers,
      collect() {
        for (const v of logByServedVersion()) {
          const key = `${v.model}\u0000${v.version}`;
          this.inc({ model: v.model, version: v.version }, v.dropped - (droppedSeen.get(key) ?? 0));
          droppedSeen.set(key, v.dropped);
        }
      },
    });
    mirrorTotal(
      registers,
      'keel_prediction_log_written_total',
      'Predictions written to the prediction_log table.',
      () => sources.logStats().written,
    );
    mirrorTotal(
      registers,
      'keel_prediction_log_dropped_total',
      'Predictions never written to the log. With the spool (KEEL_PREDICTION_SPOOL on or fsync, the default): only lines the database rejects for their data. With KEEL_PREDICTION_SPOOL=off: also a full queue or a batch failing 5 times; and every answered prediction still queued (up to KEEL_PREDICTION_LOG_CAPACITY per process) is lost uncounted when the process dies. Should stay 0.',
      () => sources.logStats().dropped,
    );
    mirrorTotal(
      registers,
      'keel_prediction_log_spooled_total',
      "Predictions left to the spool's replay instead of the memory queue (queue full, or a batch failed repeatedly); written later, not lost.",
      () => sources.logStats().leftInSpool,
    );
    mirrorTotal(
      registers,
      'keel_prediction_log_replayed_total',
      "Predictions written to the log by the spool's replay (segments of dead processes, or left by this one).",
      () => sources.logStats().replayed,
    );
    // A few writes per second: prom-client's own histograms cost nothing here.
    this.logWriteSeconds = new Histogram({
      name: 'keel_prediction_log_write_seconds',
      help: 'Time to write one batch of the prediction log (one COPY, its commit and WAL flush included). Seconds here mean the database is slow: the queue grows.',
      buckets: LOG_WRITE_SECONDS_BUCKETS,
      registers,
    });
    this.logWriteRows = new Histogram({
      name: 'keel_prediction_log_write_rows',
      help: 'Rows per write of the prediction log; batches grow with the backlog.',
      buckets: LOG_WRITE_ROWS_BUCKETS,
      registers,
    });
    mirrorTotal(
      registers,
      'keel_prediction_log_failed_flushes_total',
      'Failed attempts to write a batch of the prediction log (retried).',
      () => sources.logStats().failedFlushes,
    );
    new Gauge({
      name: 'keel_inference_queue_rows',
      help: 'Rows waiting for an inference thread.',
      labelNames: ['kind'],
      registers,
      collect() {
        const stats = sources.inferenceStats();
        this.set({ kind: 'primary' }, stats.queuedRows);
        this.set({ kind: 'shadow' }, stats.shadowQueuedRows);
      },
    });
    new Gauge({
      name: 'keel_inference_threads',
      help: 'Inference threads, and how many are running a batch now.',
      labelNames: ['state'],
      registers,
      collect() {
        const stats = sources.inferenceStats();
        this.set({ state: 'total' }, stats.threads);
        this.set({ state: 'busy' }, stats.busyThreads);
      },
    });
    mirrorTotals(
      registers,
      'keel_inference_batches_total',
      'Batches run, by where: inline (on the event loop, cheap enough) or thread.',
      'where',
      () => {
        const stats = sources.inferenceStats();
        return { inline: stats.inlineBatches, thread: stats.threadBatches };
      },
    );
    mirrorTotal(
      registers,
      'keel_inference_thread_restarts_total',
      'Inference threads that died and were replaced.',
      () => sources.inferenceStats().restarts,
    );
    new Gauge({
      name: 'keel_model_version_info',
      help: 'Loaded model versions and their role (baseline = production, candidate = routed by a canary).',
      labelNames: ['model', 'version', 'role'],
      registers,
      collect() {
        this.reset();
        const pool = sources.pool();
        for (const model of pool?.list() ?? []) {
          for (const { model: loaded, role } of pool!.versions(model.name))
            this.set({ model: loaded.name, version: String(loaded.version), role }, 1);
        }
      },
    });
    new Gauge({
      name: 'keel_route_candidate_weight',
      help: 'Fraction of traffic routed (or, in shadow mode, mirrored) to the candidate, as this replica applies it.',
      labelNames: ['model', 'mode'],
      registers,
      collect() {
        this.reset();
        const pool = sources.pool();
        for (const model of pool?.list() ?? []) {
          const route = pool!.route(model.name);
          if (route) this.set({ model: model.name, mode: route.shadow ? 'shadow' : 'split' }, route.candidateWeight);
        }
      },
    });
  }

  /** Instruments for one (model, version, protocol), cached: the hot path does no label work. */
  predict(model: string, version: number, protocol: Protocol): PredictMetrics {
    let versions = this.children.get(model);
    if (!versions) this.children.set(model, (versions = new Map<number, Partial<Record<Protocol, PredictMetrics>>>()));
    let pair = versions.get(version);
    if (!pair) versions.set(version, (pair = {}));
    let child = pair[protocol];
    if (!child) {
      const labels = { model, version: String(version), protocol };
      const requests = this.requests.child(labels);
      const latency = this.latency.child(labels);
      const rows = this.rows.child({ model, version: String(version) });
      const errors = new Map<number, CounterChild>();
      child = {
        done: (seconds, n) => {
          requests.inc(1);
          latency.observe(seconds);
          rows.inc(n);
        },
        failed: (seconds, status) => {
          requests.inc(1);
          latency.observe(seconds);
          let counter = errors.get(status);
          if (!counter) errors.set(status, (counter = this.errors.child({ ...labels, code: String(status) })));
          counter.inc(1);
        },
      };
      pair[protocol] = child;
    }
    return child;
  }

  batch(model: string, version: number, rows: number, requests: number): void {
    const key = `${model}\u0000${version}`;
    let child = this.batchChildren.get(key);
    if (!child) {
      const labels = { model, version: String(version) };
      child = { rows: this.batchRows.child(labels), requests: this.batchRequests.child(labels) };
      this.batchChildren.set(key, child);
    }
    child.rows.observe(rows);
    child.requests.observe(requests);
  }

  unknownCategories(model: string, version: number, counts: Record<string, number>): void {
    for (const feature in counts) this.unknownCategoryValues.inc({ model, version: String(version), feature }, counts[feature]);
  }

  shadowOutcome(model: string, version: number, outcome: 'ok' | 'invalid' | 'failed' | 'dropped'): void {
    this.shadow.inc({ model, version: String(version), outcome });
  }

  httpRequest(route: string, method: string, status: number): void {
    const key = `${route}\u0000${method}\u0000${status}`;
    let child = this.httpChildren.get(key);
    if (!child) {
      child = this.http.child({ route, method, code: String(status) });
      this.httpChildren.set(key, child);
    }
    child.inc(1);
  }

  feedback(items: number): void {
    this.feedbackItems.inc(items);
  }

  /** A request closed because its headers or body arrived too slowly (connection-guard.ts). */
  requestTimedOut(phase: 'headers' | 'body'): void {
    this.timeouts.inc({ phase });
  }

  /** A client that went away before its request had arrived. */
  requestAborted(): void {
    this.aborts.inc();
  }

  /** One batch of the prediction log written. */
  logWrite(rows: number, seconds: number): void {
    this.logWriteRows.observe(rows);
    this.logWriteSeconds.observe(seconds);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    const fast = [this.requests, this.errors, this.rows, this.latency, this.batchRows, this.batchRequests, this.http]
      .map((m) => m.render())
      .join('');
    return { contentType: this.registry.contentType, body: `${await this.registry.metrics()}${fast}` };
  }
}

interface CounterChild {
  inc(by: number): void;
}

interface HistogramChild {
  observe(value: number): void;
}

type Labels = Record<string, string>;

/** A counter family whose children are plain numbers. */
/**
 * A counter that mirrors running totals kept by another component (the log writer, the inference
 * pool), read at scrape time: each scrape adds what each total grew by since the last one.
 */
function mirrorTotals(registers: Registry[], name: string, help: string, label: string, totals: () => Record<string, number>): void {
  const seen = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames: [label],
    registers,
    collect() {
      for (const [value, total] of Object.entries(totals())) {
        this.inc({ [label]: value }, total - (seen.get(value) ?? 0));
        seen.set(value, total);
      }
    },
  });
}

/** mirrorTotals for one unlabelled total. */
function mirrorTotal(registers: Registry[], name: string, help: string, total: () => number): void {
  let seen = 0;
  new Counter({
    name,
    help,
    registers,
    collect() {
      const now = total();
      this.inc(now - seen);
      seen = now;
    },
  });
}

class FastCounter {
  private readonly series: { labels: Labels; value: number }[] = [];

  constructor(
    private readonly name: string,
    private readonly help: string,
  ) {}

  child(labels: Labels): CounterChild {
    const series = { labels, value: 0 };
    this.series.push(series);
    return {
      inc: (by) => {
        series.value += by;
      },
    };
  }

  render(): string {
    let text = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} counter\n`;
    for (const { labels, value } of this.series) text += `${this.name}${formatLabels(labels)} ${value}\n`;
    return text;
  }
}

/** A histogram family whose children are plain bucket counts. */
class FastHistogram {
  private readonly series: { labels: Labels; counts: Float64Array; sum: number; count: number }[] = [];

  constructor(
    private readonly name: string,
    private readonly help: string,
    private readonly bounds: number[],
  ) {}

  child(labels: Labels): HistogramChild {
    const series = { labels, counts: new Float64Array(this.bounds.length), sum: 0, count: 0 };
    this.series.push(series);
    const { bounds } = this;
    return {
      observe: (value) => {
        series.sum += value;
        series.count++;
        for (let i = 0; i < bounds.length; i++) {
          if (value <= bounds[i]) {
            series.counts[i]++;
            return;
          }
        }
      },
    };
  }

  render(): string {
    let text = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} histogram\n`;
    for (const { labels, counts, sum, count } of this.series) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += counts[i];
        text += `${this.name}_bucket${formatLabels({ ...labels, le: String(this.bounds[i]) })} ${cumulative}\n`;
      }
      text += `${this.name}_bucket${formatLabels({ ...labels, le: '+Inf' })} ${count}\n`;
      text += `${this.name}_sum${formatLabels(labels)} ${sum}\n`;
      text += `${this.name}_count${formatLabels(labels)} ${count}\n`;
    }
    return text;
  }
}

function formatLabels(labels: Labels): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}
