import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { InferenceSession } from 'onnxruntime-node';
import type { Logger } from 'pino';
import {
  type FeedColumns,
  type InferenceOutputs,
  type ModelSpec,
  packBatch,
  type PackedBatch,
  runSession,
  sessionOptions,
  signatureOf,
  sliceOutputs,
  type WorkerReply,
  type WorkerRequest,
} from './inference-protocol';
import type { GraphSignature } from './model-contract';
import { tailTrace } from './tail-trace';

export interface InferencePoolOptions {
  logger: Logger;
  /** Inference threads, each with its own session per loaded model. 0 runs inference on the event loop. Default 2. */
  threads?: number;
  /** Rows per batch at most; a single larger request still runs whole. Default 256. */
  maxBatchRows?: number;
  /**
   * Longest a queued request waits for companions while a thread is idle, and only while other
   * requests are still arriving (their bodies being read). Default 1 ms. Requests never wait
   * when nothing else is on its way, so a lone request pays no batching delay.
   */
  maxDelayMs?: number;
  /** Rows waiting for a thread at most; beyond, submit rejects with OverloadedError (a 503). Default 50,000. */
  maxQueuedRows?: number;
  /** The same for shadow work, which is dropped first. Default 5,000. */
  maxShadowQueuedRows?: number;
  /**
   * A primary batch whose expected `session.run` takes at most this (ms) runs on the event loop
   * instead of a thread (see InferencePool). 0 sends every batch to a thread. Default 0.25.
   */
  inlineBudgetMs?: number;
  /** Called for every batch run (metrics). */
  onBatch?: (modelKey: string, rows: number, requests: number) => void;
}

export interface InferencePoolStats {
  threads: number;
  busyThreads: number;
  queuedRows: number;
  shadowQueuedRows: number;
  /** Inference threads that died and were replaced. */
  restarts: number;
  /** Batches run on the event loop because they were cheap, and batches run by a thread. */
  inlineBatches: number;
  threadBatches: number;
}

/** The queue is full: the caller answers 503 and the client retries later. */
export class OverloadedError extends Error {
  override readonly name = 'OverloadedError';
}

/** A request's rows within its batch's outputs: rows [start, start + rows) of `outputs`. */
export interface BatchRows {
  readonly outputs: InferenceOutputs;
  readonly start: number;
  readonly rows: number;
}

/**
 * A queued request. Once its batch has run, it is itself the answer (BatchRows): the request
 * reads its rows at `start` in the batch's outputs, so no per-request views are made.
 */
class Item implements BatchRows {
  outputs: InferenceOutputs = NO_OUTPUTS;
  start = 0;

  constructor(
    readonly feeds: FeedColumns,
    readonly rows: number,
    readonly enqueuedAt: number,
    readonly resolve: (rows: BatchRows) => void,
    readonly reject: (error: unknown) => void,
  ) {}
}

const NO_OUTPUTS: InferenceOutputs = {};

interface Queue {
  modelKey: string;
  shadow: boolean;
  items: Fifo<Item>;
  rows: number;
}

/**
 * Runs ONNX inference with dynamic micro-batching. Requests for the same model version that wait
 * at the same time are concatenated into one session.run: under load, requests queue while the
 * slot they need is busy and leave together as the next batch; a lone request goes out on the
 * next turn of the event loop. Shadow work is queued apart and only runs when no primary request
 * waits.
 *
 * Where a batch runs depends on what it costs. Handing a batch to a thread and its answer back
 * (thread wake-ups, messages, copies) costs more CPU per request than a cheap model's whole
 * `session.run` of those rows (docs/serving.md has the measurement). So a primary batch expected to run within `inlineBudgetMs`
 * (0.25 ms: as long as reading a largish body) runs on the event loop, and anything dearer runs
 * on a thread, where it cannot hold up other requests. The expectation is per model version:
 * the median ms per row of its latest batches on threads (a median, because a session's first
 * runs and a preempted thread are many times slower than usual); a new version runs on the
 * threads until MIN_COST_SAMPLES batches are measured. Per row from small batches overestimates
 * large ones (a run has a fixed cost), which errs towards the threads. Models over
 * INLINE_MAX_MODEL_BYTES are never loaded on the event loop's thread.
 *
 * Over 300 lines on purpose: the queues, the batching and the hand-off to inference threads
 * share one batch state and change together.
 */
export class InferencePool {
  private readonly slots: Slot[];
  /** Runs cheap batches on the event loop, beside the threads; undefined when threads is 0 (the only slot is inline then) or inlineBudgetMs is 0. */
  private readonly inline: InlineSlot | undefined;
  private readonly inlineBudgetMs: number;
  /** Per model key: ms per row of its latest `session.run`s on a thread, and their median. */
  private readonly costs = new Map<string, { recent: number[]; msPerRow: number }>();
  private inlineBatches = 0;
  private threadBatches = 0;
  /** Loaded models by key, kept to reload them into a replacement thread. */
  private readonly models = new Map<string, LoadedGraph>();
  private readonly queues = new Map<string, Queue>();
  private readonly maxBatchRows: number;
  private readonly maxDelayMs: number;
  private readonly maxQueuedRows: number;
  private readonly maxShadowQueuedRows: number;
  private queuedRows = 0;
  private shadowQueuedRows = 0;
  private arriving = 0;
  private restarts = 0;
  private pumpScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(private readonly options: InferencePoolOptions) {
    this.maxBatchRows = options.maxBatchRows ?? 256;
    this.maxDelayMs = options.maxDelayMs ?? 1;
    this.maxQueuedRows = options.maxQueuedRows ?? 50_000;
    this.maxShadowQueuedRows = options.maxShadowQueuedRows ?? 5_000;
    const threads = options.threads ?? 2;
    const host: SlotHost = {
      models: () => this.models,
      logger: options.logger,
      onReady: () => this.pump(),
      onRestart: () => void this.restarts++,
    };
    this.slots = threads === 0 ? [new InlineSlot(0)] : Array.from({ length: threads }, (_, i) => new WorkerSlot(i, host));
    this.inlineBudgetMs = options.inlineBudgetMs ?? DEFAULT_INLINE_BUDGET_MS;
    this.inline = threads > 0 && this.inlineBudgetMs > 0 ? new InlineSlot(-1) : undefined;
  }

  static async create(options: InferencePoolOptions): Promise<InferencePool> {
    const pool = new InferencePool(options);
    try {
      await Promise.all([...pool.slots, ...(pool.inline ? [pool.inline] : [])].map((slot) => slot.start()));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /** Creates a session for the model in every thread; returns what the graph declares. `spec`: feed order and outputs read. */
  async load(key: string, bytes: Uint8Array, spec: ModelSpec): Promise<GraphSignature> {
    if (this.closed) throw new Error('the inference pool is closed');
    this.models.set(key, { bytes, spec });
    try {
      // A thread being replaced picks the model up from `models` when it starts.
      const running = this.slots.filter((slot) => slot.running);
      if (running.length === 0) throw new Error('no inference thread is running');
      if (this.inline && bytes.byteLength <= INLINE_MAX_MODEL_BYTES) running.push(this.inline);
      const [signature] = await Promise.all(running.map((slot) => slot.load(key, bytes, spec)));
      return signature;
    } catch (error) {
      this.unload(key);
      throw error;
    }
  }

  /** Frees the model's sessions. The caller guarantees that no request for it is queued or running. */
  unload(key: string): void {
    this.models.delete(key);
    this.costs.delete(key);
    for (const slot of this.slots) slot.unload(key);
    this.inline?.unload(key);
  }

  /**
   * A request whose body is still being read: while any is, a partial batch may wait up to
   * maxDelayMs for it. Pair every call with arrivalEnded() once it was submitted or failed.
   */
  arrivalStarted(): void {
    this.arriving++;
  }

  arrivalEnded(): void {
    this.arriving--;
  }

  /** Queues `rows` rows for the model; resolves with their outputs (views into the batch's). */
  async submit(modelKey: string, feeds: FeedColumns, rows: number, options: { shadow?: boolean } = {}): Promise<InferenceOutputs> {
    const spec = this.models.get(modelKey)?.spec;
    const answer = await this.submitRows(modelKey, feeds, rows, options);
    return sliceOutputs(answer.outputs, spec!.outputs, answer.start, answer.start + answer.rows);
  }

  /**
   * Queues `rows` rows for the model; resolves with where they are in their batch's outputs.
   * The request path reads its rows in place (submit makes views, for callers that want them).
   */
  submitRows(modelKey: string, feeds: FeedColumns, rows: number, { shadow = false } = {}): Promise<BatchRows> {
    if (this.closed) return Promise.reject(new Error('the inference pool is closed'));
    if (!this.models.has(modelKey)) return Promise.reject(new Error(`model ${modelKey} is not loaded`));
    if (
      shadow
        ? this.shadowQueuedRows > 0 && this.shadowQueuedRows + rows > this.maxShadowQueuedRows
        : this.queuedRows > 0 && this.queuedRows + rows > this.maxQueuedRows
    ) {
      return Promise.reject(
        new OverloadedError(`inference queue full (${shadow ? this.shadowQueuedRows : this.queuedRows} rows waiting); retry later`),
      );
    }
    return new Promise<BatchRows>((resolve, reject) => {
      const queueKey = shadow ? `${modelKey}\u0000shadow` : modelKey;
      let queue = this.queues.get(queueKey);
      if (!queue) {
        queue = { modelKey, shadow, items: new Fifo(), rows: 0 };
        this.queues.set(queueKey, queue);
      }
      queue.items.push(new Item(feeds, rows, performance.now(), resolve, reject));
      queue.rows += rows;
      if (shadow) this.shadowQueuedRows += rows;
      else this.queuedRows += rows;
      // Requests parsed in this turn of the event loop join the same batch.
      if (!this.pumpScheduled) {
        this.pumpScheduled = true;
        setImmediate(this.scheduledPump);
      }
    });
  }

  private readonly scheduledPump = (): void => {
    this.pumpScheduled = false;
    this.pump();
  };

  stats(): InferencePoolStats {
    return {
      threads: this.slots.length,
      busyThreads: this.slots.filter((s) => s.busy).length,
      queuedRows: this.queuedRows,
      shadowQueuedRows: this.shadowQueuedRows,
      restarts: this.restarts,
      inlineBatches: this.inlineBatches,
      threadBatches: this.threadBatches,
    };
  }

  /** Stops an inference thread as a crash would (tests): its batch fails, a replacement starts. */
  async crashThreadForTest(index: number): Promise<void> {
    await this.slots[index]?.crash();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    for (const queue of this.queues.values()) {
      for (let item = queue.items.shift(); item; item = queue.items.shift()) item.reject(new Error('the model server is shutting down'));
    }
    this.queues.clear();
    await Promise.all([...this.slots, ...(this.inline ? [this.inline] : [])].map((slot) => slot.close()));
  }

  private pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (!this.closed) {
      const queue = this.nextQueue();
      if (!queue) return;
      // The queue that has waited longest goes first, where its cost says; it waits for that slot
      // (an inline run ends within the budget).
      const slot = this.runsInline(queue) ? this.inline! : this.slots.find((s) => s.ready && !s.busy);
      if (!slot || !slot.ready || slot.busy) return;
      // A partial batch waits (at most maxDelayMs) only for requests whose bodies are still
      // being read; with nothing on its way it leaves at once.
      if (!queue.shadow && this.arriving > 0 && queue.rows < this.maxBatchRows) {
        const waited = performance.now() - queue.items.peek()!.enqueuedAt;
        if (waited < this.maxDelayMs) {
          this.timer = setTimeout(() => this.pump(), this.maxDelayMs - waited);
          return;
        }
      }
      this.dispatch(slot, queue);
    }
  }

  /** A primary batch of this queue is expected to run within the inline budget. Shadow work always goes to a thread. */
  private runsInline(queue: Queue): boolean {
    if (!this.inline || queue.shadow || !this.inline.has(queue.modelKey)) return false;
    const cost = this.costs.get(queue.modelKey);
    if (!cost || cost.recent.length < MIN_COST_SAMPLES) return false;
    // The rows dispatch would take: up to maxBatchRows, but a larger request goes whole.
    const rows = Math.max(queue.items.peek()!.rows, Math.min(queue.rows, this.maxBatchRows));
    return rows * cost.msPerRow <= this.inlineBudgetMs;
  }

  private observeCost(modelKey: string, rows: number, runMs: number): void {
    let cost = this.costs.get(modelKey);
    if (!cost) this.costs.set(modelKey, (cost = { recent: [], msPerRow: Number.POSITIVE_INFINITY }));
    cost.recent.push(runMs / rows);
    if (cost.recent.length > COST_SAMPLES_KEPT) cost.recent.shift();
    const sorted = [...cost.recent].sort((a, b) => a - b);
    cost.msPerRow = sorted[sorted.length >> 1]!;
  }

  /** Primary work before shadow work; within each, the queue whose head has waited longest. */
  private nextQueue(): Queue | undefined {
    let best: Queue | undefined;
    for (const queue of this.queues.values()) {
      if (
        !best ||
        (best.shadow && !queue.shadow) ||
        (best.shadow === queue.shadow && queue.items.peek()!.enqueuedAt < best.items.peek()!.enqueuedAt)
      ) {
        best = queue;
      }
    }
    return best;
  }

  private dispatch(slot: Slot, queue: Queue): void {
    const items: Item[] = [];
    let rows = 0;
    while (queue.items.length > 0 && (items.length === 0 || rows + queue.items.peek()!.rows <= this.maxBatchRows)) {
      const item = queue.items.shift()!;
      items.push(item);
      rows += item.rows;
    }
    queue.rows -= rows;
    if (queue.shadow) this.shadowQueuedRows -= rows;
    else this.queuedRows -= rows;
    if (queue.items.length === 0) this.queues.delete(queue.shadow ? `${queue.modelKey}\u0000shadow` : queue.modelKey);

    slot.busy = true;
    if (slot === this.inline) this.inlineBatches++;
    else this.threadBatches++;
    this.options.onBatch?.(queue.modelKey, rows, items.length);
    const { spec } = this.models.get(queue.modelKey)!;
    const dispatched = performance.now();
    tailTrace?.span('queue', items[0].enqueuedAt, dispatched);
    let running: Promise<SlotRun>;
    try {
      running = slot.run(queue.modelKey, packBatch(spec.inputs, items, rows));
    } catch (error) {
      running = Promise.reject(error);
    }
    // An inline batch runs within slot.run, on the event loop.
    if (slot === this.inline) tailTrace?.span('inline', dispatched);
    running
      .then(
        ({ outputs, runMs }) => {
          if (slot !== this.inline) tailTrace?.span('thread', dispatched);
          if (runMs !== undefined && this.models.has(queue.modelKey)) this.observeCost(queue.modelKey, rows, runMs);
          let offset = 0;
          for (const item of items) {
            item.outputs = outputs;
            item.start = offset;
            offset += item.rows;
            item.resolve(item);
          }
        },
        (error: unknown) => {
          for (const item of items) item.reject(error);
        },
      )
      .finally(() => {
        slot.busy = false;
        // Requests that queued while this batch ran leave now, as the next batch.
        this.pump();
      });
  }
}

const DEFAULT_INLINE_BUDGET_MS = 0.25;
/** Batches of a model version measured on threads before its cost decides where it runs. */
const MIN_COST_SAMPLES = 5;
const COST_SAMPLES_KEPT = 15;
/** Larger models are not loaded a second time on the event loop's thread (memory). */
const INLINE_MAX_MODEL_BYTES = 64 * 1024 * 1024;

interface LoadedGraph {
  bytes: Uint8Array;
  spec: ModelSpec;
}

/** A batch's outputs and, from a thread, how long its `session.run` took there (ms). */
interface SlotRun {
  outputs: InferenceOutputs;
  runMs?: number;
}

interface SlotHost {
  models(): ReadonlyMap<string, LoadedGraph>;
  logger: Logger;
  onReady(): void;
  onRestart(): void;
}

interface Slot {
  /** Running a batch; the scheduler sends one batch per slot at a time. */
  busy: boolean;
  /** Started, with every loaded model. */
  ready: boolean;
  /** Started or starting: accepts loads. */
  readonly running: boolean;
  start(): Promise<void>;
  load(key: string, bytes: Uint8Array, spec: ModelSpec): Promise<GraphSignature>;
  unload(key: string): void;
  run(key: string, batch: PackedBatch): Promise<SlotRun>;
  crash(): Promise<void>;
  close(): Promise<void>;
}

/** Inference on the event loop itself: every batch with threads 0, otherwise the cheap ones. */
class InlineSlot implements Slot {
  busy = false;
  ready = false;
  readonly running = true;
  private readonly sessions = new Map<string, { session: InferenceSession; spec: ModelSpec }>();

  constructor(readonly index: number) {}

  async start(): Promise<void> {
    this.ready = true;
  }

  async load(key: string, bytes: Uint8Array, spec: ModelSpec): Promise<GraphSignature> {
    const session = await InferenceSession.create(bytes, sessionOptions);
    this.sessions.set(key, { session, spec });
    return signatureOf(session);
  }

  has(key: string): boolean {
    return this.sessions.has(key);
  }

  unload(key: string): void {
    this.sessions
      .get(key)
      ?.session.release()
      .catch(() => {});
    this.sessions.delete(key);
  }

  async run(key: string, batch: PackedBatch): Promise<SlotRun> {
    const loaded = this.sessions.get(key);
    if (!loaded) throw new Error(`model ${key} is not loaded`);
    return { outputs: await runSession(loaded.session, loaded.spec, batch) };
  }

  async crash(): Promise<void> {
    throw new Error('an inline inference slot cannot crash');
  }

  async close(): Promise<void> {
    for (const key of [...this.sessions.keys()]) this.unload(key);
    this.ready = false;
  }
}

const threadEntry = new URL('./inference-thread.mjs', import.meta.url);
const RESTART_BACKOFF_MS = 1000;
const CLOSE_TIMEOUT_MS = 5000;

/**
 * One inference thread. If it dies (a native crash, out of memory), the batch it was running
 * fails with a 500, and a replacement thread starts and reloads every loaded model.
 */
class WorkerSlot implements Slot {
  busy = false;
  ready = false;
  private worker: Worker | undefined;
  private nextId = 1;
  private pending = new Map<number, { resolve: (reply: WorkerReply & { ok: true }) => void; reject: (error: Error) => void }>();
  private closed = false;
  private generation = 0;

  constructor(
    readonly index: number,
    private readonly host: SlotHost,
  ) {}

  get running(): boolean {
    return this.worker !== undefined;
  }

  async start(): Promise<void> {
    const generation = ++this.generation;
    const worker = new Worker(threadEntry);
    this.worker = worker;
    worker.on('message', (reply: WorkerReply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply);
      else waiter.reject(new Error(reply.error));
    });
    worker.on('error', (error) => {
      this.host.logger.error({ err: error, thread: this.index }, 'inference thread failed');
    });
    worker.on('exit', (code) => {
      if (generation !== this.generation) return;
      this.worker = undefined;
      this.ready = false;
      this.busy = false;
      const pending = [...this.pending.values()];
      this.pending.clear();
      const error = new Error(`inference thread ${this.index} stopped (exit code ${code})`);
      for (const waiter of pending) waiter.reject(error);
      if (this.closed) return;
      this.host.onRestart();
      this.host.logger.error({ thread: this.index, code }, 'inference thread stopped; starting a replacement');
      const restart = () => {
        if (this.closed) return;
        this.start().then(
          () => this.host.onReady(),
          (startError: unknown) => {
            this.host.logger.error({ err: startError, thread: this.index }, 'restarting the inference thread failed; retrying');
            setTimeout(restart, RESTART_BACKOFF_MS).unref();
          },
        );
      };
      restart();
    });
    await this.request({ type: 'ping' });
    for (const [key, { bytes, spec }] of this.host.models()) await this.request({ type: 'load', key, bytes, spec });
    if (generation === this.generation) this.ready = true;
  }

  async load(key: string, bytes: Uint8Array, spec: ModelSpec): Promise<GraphSignature> {
    const reply = await this.request({ type: 'load', key, bytes, spec });
    if (!reply.signature) throw new Error('the inference thread did not describe the loaded graph');
    return reply.signature;
  }

  unload(key: string): void {
    this.worker?.postMessage({ type: 'unload', key } satisfies WorkerRequest);
  }

  async run(key: string, batch: PackedBatch): Promise<SlotRun> {
    // The typed arrays were made for this message: move them instead of copying.
    const transfer = [batch.floats.buffer as ArrayBuffer, batch.doubles.buffer as ArrayBuffer, batch.lengths.buffer as ArrayBuffer];
    const reply = await this.request({ type: 'run', key, batch }, transfer);
    if (!reply.outputs) throw new Error('the inference thread returned no outputs');
    return { outputs: reply.outputs, runMs: reply.runMs };
  }

  async crash(): Promise<void> {
    await this.worker?.terminate();
  }

  /**
   * Asks the thread to release its sessions and end by itself; terminates it if it has not within
   * CLOSE_TIMEOUT_MS. Terminating a thread that holds onnxruntime sessions tears its environment
   * down under them, and onnxruntime-node then sometimes aborts the whole process.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.ready = false;
    const worker = this.worker;
    if (!worker) return;
    const exited = once(worker, 'exit');
    worker.postMessage({ type: 'close' } satisfies WorkerRequest);
    const timer = setTimeout(() => void worker.terminate(), CLOSE_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  private request(message: DistributiveOmit<WorkerRequest, 'id'>, transfer: ArrayBuffer[] = []): Promise<WorkerReply & { ok: true }> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new Error(`inference thread ${this.index} is not running`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...message, id }, transfer);
    });
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A queue with O(1) shift (Array#shift is O(n), and queues grow long under load). */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
