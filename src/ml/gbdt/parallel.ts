import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { runWorkerTask } from '../worker-thread';
import { allocate } from './allocate';
import {
  hasUnitHessian,
  KernelRunner,
  objectiveCodes,
  objectiveOfCode,
  sumBlocks,
  type Executor,
  type GradientScales,
  type TrainingArrays,
} from './executor';
import { addHistogram, BLOCK_ROWS } from './kernels';
import type { GbdtObjective } from './params';
import type { PackedTree } from './tree';

/**
 * Data-parallel training over rows with helper worker threads that share the training arrays
 * (SharedArrayBuffers). The trainer thread runs the boosting loop; each large per-row step
 * (histogram, partition, gradients, score updates) is cut into chunks of rows that the trainer
 * and the helpers claim one at a time from a shared counter (Atomics). A helper that the OS has
 * not scheduled simply claims nothing — on a busy machine the trainer does the work itself
 * instead of waiting — and the trainer only ever waits for chunks a helper has already claimed.
 *
 * Which thread ran which chunk does not change any bit of the result:
 * - histograms sum integers exactly (kernels.ts): each thread sums its chunks into its own
 *   partial histogram, and partials add up to the same bits in any grouping;
 * - a partition partitions each chunk stably in place; concatenating the chunks' left rows, then
 *   their right rows, in chunk order is exactly the serial stable partition;
 * - losses are reduced per fixed block of rows, then over blocks in order;
 * - score updates touch each row once.
 *
 * Over 300 lines on purpose: the trainer's side and the helpers' side of one shared-memory protocol
 * (commands, tickets, chunk claims) must change together.
 */

/** Rows per chunk, by step (a claim costs an atomic compare-exchange, ~0.1 µs). */
export interface ChunkSizes {
  histogram: number;
  partition: number;
  rows: number;
  gradientBlocks: number;
}
const defaultChunks: ChunkSizes = {
  histogram: 8_192,
  partition: 16_384,
  rows: 32_768,
  gradientBlocks: Math.max(1, Math.round(32_768 / BLOCK_ROWS)),
};
/** Atomics.load polls before a thread sleeps in Atomics.wait (the next command often follows at once). */
const SPINS = 10_000;
/** Chunk indices live in the low 16 bits of the ticket, the command's generation in the high bits. */
const MAX_CHUNKS = 65_535;

const enum Command {
  Histogram = 1,
  Partition = 2,
  Gradients = 3,
  MaxAbs = 4,
  Leaves = 5,
  Tree = 6,
  Exit = 7,
}

// Control block slots (Int32Array).
const GEN = 0;
const CMD = 1;
const TICKET = 2;
const CHUNKS = 3;
const COMPLETED = 4;
const ERROR = 5;
const ARGS = 8; // 8 int arguments
const PARTIAL_GEN = 16; // + helper index: the generation whose histogram that helper's partial holds
const MAX_THREADS = 32;
const ERROR_BYTES = 2048;

/** Helper threads started ahead of the data (see ParallelExecutor.launchHelpers). */
export interface LaunchedHelpers {
  helpers: { port: MessagePort; ready: Promise<void>; done: Promise<void> }[];
  /** Stops helpers that will not be used. */
  cancel(): Promise<void>;
}

/** What the helpers receive (every typed array on a SharedArrayBuffer). */
export interface HelperInput {
  index: number;
  arrays: TrainingArrays;
  shared: SharedBlock;
  chunks: ChunkSizes;
}

interface SharedBlock {
  control: Int32Array;
  floats: Float64Array;
  error: Uint8Array;
  features: Int32Array;
  blockLoss: Float64Array;
  /** Per chunk: the left count of a partition chunk, or a partial maximum. */
  chunkCounts: Int32Array;
  chunkResults: Float64Array;
  /** Per helper (index - 1): its partial histogram. */
  partials: Float64Array[];
  leafStart: Int32Array;
  leafEnd: Int32Array;
  leafValue: Float64Array;
  tree: {
    feature: Int32Array;
    thresholdBin: Int32Array;
    missingLeft: Uint8Array;
    left: Int32Array;
    right: Int32Array;
    leafValue: Float64Array;
    leftBins: Uint8Array;
  };
  /** The bins a categorical partition sends left (see leftBinTable). */
  leftBins: Uint8Array;
}

/** Claims the next chunk of command `generation`, or returns -1 when none is left (or the command is over). */
function claim(control: Int32Array, generation: number): number {
  const tag = generation & 0x7fff;
  for (;;) {
    const ticket = Atomics.load(control, TICKET);
    if (ticket >>> 16 !== tag) return -1;
    const chunk = ticket & 0xffff;
    if (chunk >= control[CHUNKS]) return -1;
    if (Atomics.compareExchange(control, TICKET, ticket, ticket + 1) === ticket) return chunk;
  }
}

function chunkRange(start: number, end: number, size: number, chunk: number): [number, number] {
  const s = start + chunk * size;
  return [s, Math.min(end, s + size)];
}

function chunkSize(length: number, preferred: number): number {
  return Math.max(preferred, Math.ceil(length / MAX_CHUNKS));
}

/** The per-chunk work of one command, run identically by the trainer and the helpers. */
interface CommandWork {
  /** Before the thread's first chunk of the command. */
  begin?(): void;
  chunk(index: number): void;
  /** After the thread's last chunk (only if it ran any). */
  finish?(): void;
}

export class ParallelExecutor implements Executor {
  private readonly runner: KernelRunner;
  private generation = 0;
  private closed = false;
  /** Steps so far, and the step until which everything runs on this thread (see parallelFor). */
  private steps = 0;
  private serialUntil = 0;
  /** One bit per recent parallel command: 1 when this thread waited long for a helper. */
  private slowHistory = 0;
  /** Whether the gradients last computed have unit hessians (see accumulateHistogram). */
  private unitHessian = false;

  private constructor(
    private readonly arrays: TrainingArrays,
    private readonly threads: number,
    private readonly shared: SharedBlock,
    private readonly helpers: Promise<void>[],
    private readonly chunks: ChunkSizes,
  ) {
    this.runner = new KernelRunner(arrays);
  }

  /**
   * Starts `count` helper threads. They load their code while the caller prepares the data, and
   * wait for the arrays (ParallelExecutor.start). Call `cancel` if start will not follow.
   */
  static launchHelpers(count: number): LaunchedHelpers {
    if (!Number.isInteger(count) || count < 1 || count > MAX_THREADS - 1)
      throw new Error(`helpers must be an integer in 1..${MAX_THREADS - 1}, got ${count}`);
    const helpers: LaunchedHelpers['helpers'] = [];
    for (let h = 0; h < count; h++) {
      const { port1, port2 } = new MessageChannel();
      let markReady!: () => void;
      let failReady!: (error: unknown) => void;
      const ready = new Promise<void>((resolve, reject) => ((markReady = resolve), (failReady = reject)));
      const done = runWorkerTask<void, 'ready'>(
        new URL('./helper-worker.ts', import.meta.url),
        { port: port2 },
        {
          transferList: [port2],
          onProgress: () => markReady(),
        },
      );
      done.catch(failReady);
      helpers.push({ port: port1, ready, done });
    }
    return {
      helpers,
      cancel: async () => {
        for (const helper of helpers) {
          helper.port.postMessage(null);
          helper.port.close();
        }
        await Promise.allSettled(helpers.map((helper) => helper.done));
      },
    };
  }

  /**
   * Hands `arrays` (which must live on SharedArrayBuffers) to launched helpers, one per thread
   * beyond this one, and waits until they are ready. `maxLeaves` sizes the shared leaf buffers.
   * `chunkRows` overrides the rows per chunk of every step (tests use small chunks to exercise
   * the parallel paths).
   */
  static async start(arrays: TrainingArrays, launched: LaunchedHelpers, maxLeaves: number, chunkRows?: number): Promise<ParallelExecutor> {
    const chunks: ChunkSizes =
      chunkRows === undefined
        ? defaultChunks
        : { histogram: chunkRows, partition: chunkRows, rows: chunkRows, gradientBlocks: Math.max(1, Math.round(chunkRows / BLOCK_ROWS)) };
    const threads = launched.helpers.length + 1;
    const capacity = maxLeaves + 1;
    const shared: SharedBlock = {
      control: allocate(Int32Array, PARTIAL_GEN + MAX_THREADS, true),
      floats: allocate(Float64Array, 8, true),
      error: allocate(Uint8Array, ERROR_BYTES, true),
      features: allocate(Int32Array, arrays.featureCount, true),
      blockLoss: allocate(Float64Array, Math.ceil(arrays.rowCount / BLOCK_ROWS), true),
      chunkCounts: allocate(Int32Array, MAX_CHUNKS, true),
      chunkResults: allocate(Float64Array, MAX_CHUNKS, true),
      partials: Array.from({ length: threads - 1 }, () => allocate(Float64Array, arrays.histLength, true)),
      leafStart: allocate(Int32Array, capacity, true),
      leafEnd: allocate(Int32Array, capacity, true),
      leafValue: allocate(Float64Array, capacity, true),
      tree: {
        feature: allocate(Int32Array, capacity, true),
        thresholdBin: allocate(Int32Array, capacity, true),
        missingLeft: allocate(Uint8Array, capacity, true),
        left: allocate(Int32Array, capacity, true),
        right: allocate(Int32Array, capacity, true),
        leafValue: allocate(Float64Array, capacity, true),
        leftBins: allocate(Uint8Array, 256 * capacity, true),
      },
      leftBins: allocate(Uint8Array, 256, true),
    };
    for (let h = 1; h < threads; h++) shared.control[PARTIAL_GEN + h] = -1;
    launched.helpers.forEach(({ port }, i) => {
      const input: HelperInput = { index: i + 1, arrays, shared, chunks };
      port.postMessage(input);
      port.close();
    });
    const executor = new ParallelExecutor(
      arrays,
      threads,
      shared,
      launched.helpers.map((helper) => helper.done),
      chunks,
    );
    try {
      await Promise.all(launched.helpers.map((helper) => helper.ready));
    } catch (error) {
      await executor.close().catch(() => undefined);
      throw error;
    }
    return executor;
  }

  /**
   * Runs a command over `chunks` chunks: publishes it, claims and runs chunks until none is left,
   * then waits until the chunks the helpers claimed are done.
   */
  private run(command: Command, chunks: number, args: number[], work: CommandWork): void {
    const { control } = this.shared;
    if (chunks > MAX_CHUNKS) throw new Error(`internal error: ${chunks} chunks`);
    const generation = ++this.generation;
    const tag = (generation & 0x7fff) << 16;
    // First an exhausted ticket of the new command: a thread still claiming for the previous
    // command can no longer succeed (its compare-exchange sees another ticket), so it cannot
    // read the new chunk count or arguments as the old command's.
    Atomics.store(control, TICKET, tag | 0xffff);
    control[CMD] = command;
    control[CHUNKS] = chunks;
    for (let i = 0; i < args.length; i++) control[ARGS + i] = args[i];
    Atomics.store(control, COMPLETED, 0);
    Atomics.store(control, TICKET, tag);
    Atomics.store(control, GEN, generation);
    Atomics.notify(control, GEN);

    const started = performance.now();
    let mine = 0;
    for (let chunk = claim(control, generation); chunk >= 0; chunk = claim(control, generation)) {
      if (mine === 0) work.begin?.();
      work.chunk(chunk);
      mine++;
    }
    if (mine > 0) work.finish?.();
    const worked = performance.now();
    let completed = Atomics.add(control, COMPLETED, mine) + mine;
    let spins = 0;
    while (completed < chunks) {
      if (spins++ >= SPINS) Atomics.wait(control, COMPLETED, completed, 1000);
      completed = Atomics.load(control, COMPLETED);
    }
    this.noteWait(worked - started, performance.now() - worked);
    if (Atomics.load(control, ERROR) !== 0) {
      const bytes = this.shared.error;
      const end = bytes.indexOf(0);
      throw new Error(`a training helper thread failed: ${new TextDecoder().decode(bytes.slice(0, end < 0 ? bytes.length : end))}`);
    }
  }

  /**
   * Whether a step over `rows` rows should run in parallel: not when it is small, and not for a
   * while after helpers kept this thread waiting — on a machine whose cores are busy with other
   * work, a helper descheduled in the middle of its chunk costs a scheduler time slice, more than
   * its share of the work saves. Either way the result is the same (see above).
   */
  private parallelFor(rows: number, minChunk: number): boolean {
    this.steps++;
    return rows >= 2 * minChunk && this.steps >= this.serialUntil;
  }

  /** Records one parallel command: `worked` ms on this thread, then `waited` ms for helpers. */
  private noteWait(worked: number, waited: number): void {
    const slow = waited > Math.max(1, worked) ? 1 : 0;
    this.slowHistory = ((this.slowHistory << 1) | slow) & 0xffff;
    let count = 0;
    for (let bits = this.slowHistory; bits; bits &= bits - 1) count++;
    if (count >= 6) {
      this.serialUntil = this.steps + 256;
      this.slowHistory = 0;
    }
  }

  buildHistogram(ghBase: number, start: number, end: number, features: Int32Array, activeCount: number, hist: Float64Array): void {
    if (!this.parallelFor(end - start, this.chunks.histogram)) {
      this.runner.histogram(ghBase, start, end, features, activeCount, hist, this.unitHessian);
      return;
    }
    this.shared.features.set(features.subarray(0, activeCount));
    const size = chunkSize(end - start, this.chunks.histogram);
    const chunks = Math.ceil((end - start) / size);
    const copies = this.runner.useCopies(size);
    const unitHessian = this.unitHessian;
    this.run(Command.Histogram, chunks, [ghBase, start, end, activeCount, size, copies ? 1 : 0, unitHessian ? 1 : 0], {
      begin: () => this.runner.beginHistogram(copies),
      chunk: (c) => {
        const [s, e] = chunkRange(start, end, size, c);
        this.runner.histogramChunk(ghBase, s, e, features, activeCount, hist, copies, unitHessian);
      },
      finish: () => this.runner.finishHistogram(features, activeCount, hist, copies, unitHessian),
    });
    const { control, partials } = this.shared;
    const { featureCount, histOffsets } = this.arrays;
    for (let h = 1; h < this.threads; h++) {
      if (control[PARTIAL_GEN + h] === this.generation)
        addHistogram(featureCount, features, activeCount, histOffsets, hist, partials[h - 1]);
    }
  }

  partition(start: number, end: number, feature: number, thresholdBin: number, missingLeft: boolean, leftBins: Uint8Array | null): number {
    const { rows, scratch } = this.arrays;
    if (!this.parallelFor(end - start, this.chunks.partition)) {
      const left = this.runner.partitionChunk(start, end, feature, thresholdBin, missingLeft, leftBins);
      rows.set(scratch.subarray(start, start + (end - start - left)), start + left);
      return start + left;
    }
    const size = chunkSize(end - start, this.chunks.partition);
    const chunks = Math.ceil((end - start) / size);
    const counts = this.shared.chunkCounts;
    if (leftBins) this.shared.leftBins.set(leftBins);
    this.run(Command.Partition, chunks, [start, end, feature, thresholdBin, missingLeft ? 1 : 0, size, leftBins ? 1 : 0], {
      chunk: (c) => {
        const [s, e] = chunkRange(start, end, size, c);
        counts[c] = this.runner.partitionChunk(s, e, feature, thresholdBin, missingLeft, leftBins);
      },
    });
    // Left rows of each chunk in chunk order, then right rows of each chunk in chunk order: the
    // serial stable partition of the whole range.
    let position = start;
    for (let c = 0; c < chunks; c++) {
      const [s] = chunkRange(start, end, size, c);
      if (s !== position) rows.copyWithin(position, s, s + counts[c]);
      position += counts[c];
    }
    const mid = position;
    for (let c = 0; c < chunks; c++) {
      const [s, e] = chunkRange(start, end, size, c);
      const right = e - s - counts[c];
      rows.set(scratch.subarray(s, s + right), position);
      position += right;
    }
    return mid;
  }

  gradients(objective: GbdtObjective, scales: GradientScales): number {
    this.unitHessian = hasUnitHessian(objective);
    const { floats, blockLoss } = this.shared;
    const blocks = blockLoss.length;
    if (!this.parallelFor(this.arrays.rowCount, this.chunks.rows)) {
      this.runner.gradientBlocks(objective, scales, 0, blocks, blockLoss);
      return sumBlocks(blockLoss);
    }
    floats[0] = scales.gradient;
    floats[1] = scales.hessian;
    const per = this.chunks.gradientBlocks;
    const chunks = Math.ceil(blocks / per);
    this.run(Command.Gradients, chunks, [objectiveCodes[objective]], {
      chunk: (c) => this.runner.gradientBlocks(objective, scales, c * per, Math.min(blocks, (c + 1) * per), blockLoss),
    });
    return sumBlocks(blockLoss);
  }

  maxAbsResidual(): number {
    const { rowCount } = this.arrays;
    if (!this.parallelFor(rowCount, this.chunks.rows)) return this.runner.maxAbsResidual(0, rowCount);
    const size = chunkSize(rowCount, this.chunks.rows);
    const chunks = Math.ceil(rowCount / size);
    const results = this.shared.chunkResults;
    this.run(Command.MaxAbs, chunks, [size], {
      chunk: (c) => {
        const [s, e] = chunkRange(0, rowCount, size, c);
        results[c] = this.runner.maxAbsResidual(s, e);
      },
    });
    let max = 0;
    for (let c = 0; c < chunks; c++) max = Math.max(max, results[c]);
    return max;
  }

  addLeafValues(output: number, leafStart: readonly number[], leafEnd: readonly number[], leafValue: readonly number[]): void {
    const { shared } = this;
    const leaves = leafValue.length;
    let total = 0;
    for (let j = 0; j < leaves; j++) total = Math.max(total, leafEnd[j]);
    if (!this.parallelFor(total, this.chunks.rows)) {
      for (let j = 0; j < leaves; j++) this.runner.addLeafRange(output, leafStart[j], leafEnd[j], leafValue[j]);
      return;
    }
    shared.leafStart.set(leafStart);
    shared.leafEnd.set(leafEnd);
    shared.leafValue.set(leafValue);
    const size = chunkSize(total, this.chunks.rows);
    this.run(Command.Leaves, Math.ceil(total / size), [output, leaves, total, size], {
      chunk: (c) => addLeafChunk(this.runner, shared, output, leaves, chunkRange(0, total, size, c)),
    });
  }

  addTree(tree: PackedTree, output: number): void {
    const { rowCount } = this.arrays;
    if (!this.parallelFor(rowCount, this.chunks.rows)) {
      this.runner.addTree(tree, output, 0, rowCount);
      return;
    }
    const buffer = this.shared.tree;
    buffer.feature.set(tree.feature);
    buffer.thresholdBin.set(tree.thresholdBin);
    buffer.missingLeft.set(tree.missingLeft);
    buffer.left.set(tree.left);
    buffer.right.set(tree.right);
    buffer.leafValue.set(tree.leafValue);
    if (tree.leftBins) buffer.leftBins.set(tree.leftBins);
    const size = chunkSize(rowCount, this.chunks.rows);
    this.run(Command.Tree, Math.ceil(rowCount / size), [output, tree.splits, size, tree.leftBins ? 1 : 0], {
      chunk: (c) => {
        const [s, e] = chunkRange(0, rowCount, size, c);
        this.runner.addTree(tree, output, s, e);
      },
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const { control } = this.shared;
    const generation = ++this.generation;
    Atomics.store(control, TICKET, ((generation & 0x7fff) << 16) | 0xffff);
    control[CMD] = Command.Exit;
    Atomics.store(control, GEN, generation);
    Atomics.notify(control, GEN);
    await Promise.all(this.helpers);
  }
}

function addLeafChunk(runner: KernelRunner, shared: SharedBlock, output: number, leaves: number, [cs, ce]: [number, number]): void {
  for (let j = 0; j < leaves; j++) {
    const s = Math.max(shared.leafStart[j], cs);
    const e = Math.min(shared.leafEnd[j], ce);
    if (s < e) runner.addLeafRange(output, s, e, shared.leafValue[j]);
  }
}

/** A helper thread's loop: waits for a command, claims and runs chunks of it, reports them done. */
export function runHelper({ index, arrays, shared, chunks }: HelperInput, reportReady: () => void): void {
  const runner = new KernelRunner(arrays);
  const { control } = shared;
  const partial = shared.partials[index - 1];
  let seen = Atomics.load(control, GEN);
  reportReady();
  for (;;) {
    let spins = 0;
    let generation = Atomics.load(control, GEN);
    while (generation === seen) {
      if (spins++ >= SPINS) Atomics.wait(control, GEN, seen, 1000);
      generation = Atomics.load(control, GEN);
    }
    seen = generation;
    const command: Command = control[CMD];
    if (command === Command.Exit) return;

    let mine = 0;
    let work: CommandWork | null = null;
    try {
      for (let chunk = claim(control, generation); chunk >= 0; chunk = claim(control, generation)) {
        // Counted as soon as claimed: even if it fails, the trainer must not wait for it forever.
        mine++;
        // The command, its generation and its arguments are read after a successful claim: the
        // trainer cannot move on to the next command before this chunk is done, so they are the
        // claimed command's (even if this thread slept through many commands in between).
        if (!work) {
          generation = Atomics.load(control, GEN);
          work = helperWork(control[CMD], runner, arrays, shared, partial, index, generation, chunks);
          work.begin?.();
        }
        work.chunk(chunk);
      }
      if (work) work.finish?.();
    } catch (error) {
      const message = new TextEncoder().encode(String((error as Error)?.stack ?? error)).subarray(0, ERROR_BYTES - 1);
      shared.error.set(message);
      Atomics.store(control, ERROR, 1);
    }
    if (mine > 0) {
      Atomics.add(control, COMPLETED, mine);
      Atomics.notify(control, COMPLETED);
    }
    seen = generation;
  }
}

function helperWork(
  command: number,
  runner: KernelRunner,
  arrays: TrainingArrays,
  shared: SharedBlock,
  partial: Float64Array,
  index: number,
  generation: number,
  chunks: ChunkSizes,
): CommandWork {
  const { control } = shared;
  const a = (i: number) => control[ARGS + i];
  switch (command as Command) {
    case Command.Histogram: {
      const [ghBase, start, end, activeCount, size, copies, unitHessian] = [a(0), a(1), a(2), a(3), a(4), a(5) === 1, a(6) === 1];
      return {
        begin: () => {
          partial.fill(0);
          runner.beginHistogram(copies);
        },
        chunk: (c) => {
          const [s, e] = chunkRange(start, end, size, c);
          runner.histogramChunk(ghBase, s, e, shared.features, activeCount, partial, copies, unitHessian);
        },
        finish: () => {
          runner.finishHistogram(shared.features, activeCount, partial, copies, unitHessian);
          control[PARTIAL_GEN + index] = generation;
        },
      };
    }
    case Command.Partition: {
      const [start, end, feature, thresholdBin, missingLeft, size] = [a(0), a(1), a(2), a(3), a(4) === 1, a(5)];
      const leftBins = a(6) === 1 ? shared.leftBins : null;
      return {
        chunk: (c) => {
          const [s, e] = chunkRange(start, end, size, c);
          shared.chunkCounts[c] = runner.partitionChunk(s, e, feature, thresholdBin, missingLeft, leftBins);
        },
      };
    }
    case Command.Gradients: {
      const objective = objectiveOfCode[a(0)];
      const scales = { gradient: shared.floats[0], hessian: shared.floats[1] };
      const blocks = shared.blockLoss.length;
      const per = chunks.gradientBlocks;
      return { chunk: (c) => runner.gradientBlocks(objective, scales, c * per, Math.min(blocks, (c + 1) * per), shared.blockLoss) };
    }
    case Command.MaxAbs: {
      const size = a(0);
      return {
        chunk: (c) => {
          const [s, e] = chunkRange(0, arrays.rowCount, size, c);
          shared.chunkResults[c] = runner.maxAbsResidual(s, e);
        },
      };
    }
    case Command.Leaves: {
      const [output, leaves, total, size] = [a(0), a(1), a(2), a(3)];
      return { chunk: (c) => addLeafChunk(runner, shared, output, leaves, chunkRange(0, total, size, c)) };
    }
    case Command.Tree: {
      const [output, splits, size] = [a(0), a(1), a(2)];
      const tree: PackedTree = { splits, ...shared.tree, leftBins: a(3) === 1 ? shared.tree.leftBins : null };
      return {
        chunk: (c) => {
          const [s, e] = chunkRange(0, arrays.rowCount, size, c);
          runner.addTree(tree, output, s, e);
        },
      };
    }
    default:
      throw new Error(`unknown command ${command}`);
  }
}
