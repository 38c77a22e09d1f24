import type { TreeKernels } from './grow';
import {
  accumulateHistogram,
  binaryGradients,
  BLOCK_ROWS,
  countsToHessians,
  goesLeftTable,
  maxAbsResidual,
  mergeHistogramCopies,
  MULTI_COPY_MAX_LENGTH,
  MULTI_COPY_ROWS,
  partitionRows,
  softmaxGradients,
  squaredErrorGradients,
} from './kernels';
import type { GbdtObjective } from './params';
import { addTreeToScores, type PackedTree } from './tree';
import { type WasmArena, wasmExpMatchesMath } from './wasm-kernels';

/**
 * The arrays the hot loops work on. With helper threads they live on SharedArrayBuffers, so the
 * trainer thread and the helpers see the same memory.
 */
export interface TrainingArrays {
  rowCount: number;
  featureCount: number;
  /** Raw scores per row: 1, or K for multiclass. */
  outputs: number;
  /** Row-major bin codes, rowCount × featureCount (tree traversal). */
  bins: Uint8Array;
  /** Row-major histogram offsets of the bins (histogram building; see histogramIndex). */
  histIndex: Uint16Array | Uint32Array;
  /** Column-major bin codes, featureCount × rowCount (partitioning). */
  columnBins: Uint8Array;
  labels: Float64Array;
  /** Row-major raw scores, rowCount × outputs. */
  scores: Float64Array;
  /** Quantised gradient/hessian pairs, class-major: outputs × rowCount × 2. */
  gh: Int32Array;
  /** Row indices: the iteration's bag, partitioned leaf by leaf while a tree grows. */
  rows: Uint32Array;
  /** Partition scratch, rowCount slots. */
  scratch: Uint32Array;
  histOffsets: Int32Array;
  histLength: number;
  /**
   * Single-threaded training: the memory of the WebAssembly kernels, holding histIndex, gh, rows,
   * scratch, columnBins, labels, scores and the histograms (see wasm-kernels.ts). Absent: the
   * JavaScript kernels.
   */
  arena?: WasmArena;
}

/** Gradient scales: q = trunc(real · scale). */
export interface GradientScales {
  gradient: number;
  hessian: number;
}

export const objectiveCodes: Record<GbdtObjective, number> = { regression: 0, binary: 1, multiclass: 2 };
export const objectiveOfCode: GbdtObjective[] = ['regression', 'binary', 'multiclass'];

/**
 * Runs the per-row work of training. SerialExecutor does it all on this thread; ParallelExecutor
 * (parallel.ts) splits rows across threads. Results are bit-identical: integer sums are exact,
 * float reductions go by fixed blocks, and partitions are stable.
 */
export interface Executor extends TreeKernels {
  /** Fills `gh` for every row and returns the summed loss at the current scores. */
  gradients(objective: GbdtObjective, scales: GradientScales): number;
  /** max |score - label| over every row (regression's gradient scale). */
  maxAbsResidual(): number;
  /** scores[rows[i]·outputs + output] += leafValue[j] for i in each leaf j's range of `rows`. */
  addLeafValues(output: number, leafStart: readonly number[], leafEnd: readonly number[], leafValue: readonly number[]): void;
  /** scores[r·outputs + output] += the tree's value for every training row r. */
  addTree(tree: PackedTree, output: number): void;
  close(): Promise<void>;
}

/**
 * The kernels over row ranges, with this thread's scratch memory. The trainer thread and each
 * helper thread own one.
 */
export class KernelRunner {
  private readonly exps: Float64Array;
  private readonly copies: Float64Array;
  /** The active features, where the WebAssembly histogram can read them. */
  private readonly arenaFeatures: Int32Array | undefined;

  constructor(readonly arrays: TrainingArrays) {
    this.exps = new Float64Array(arrays.outputs);
    this.copies = arrays.arena?.allocate(Float64Array, 3 * arrays.histLength) ?? new Float64Array(3 * arrays.histLength);
    this.arenaFeatures = arrays.arena?.allocate(Int32Array, arrays.featureCount);
  }

  /** Whether a histogram over this many rows is worth the extra copies (see accumulateHistogram). */
  useCopies(rowCount: number): boolean {
    return rowCount >= MULTI_COPY_ROWS && this.arrays.histLength <= MULTI_COPY_MAX_LENGTH;
  }

  /** rows[start..end) into `hist`, complete. `unitHessian`: every row's hessian is 1 (see accumulateHistogram). */
  histogram(
    ghBase: number,
    start: number,
    end: number,
    features: Int32Array,
    activeCount: number,
    hist: Float64Array,
    unitHessian: boolean,
  ): void {
    const copies = this.useCopies(end - start);
    this.beginHistogram(copies);
    this.histogramChunk(ghBase, start, end, features, activeCount, hist, copies, unitHessian);
    this.finishHistogram(features, activeCount, hist, copies, unitHessian);
  }

  /** A histogram built from several chunks: begin, chunk…, finish (with the same `copies`). */
  beginHistogram(copies: boolean): void {
    if (copies) this.copies.fill(0);
  }

  histogramChunk(
    ghBase: number,
    start: number,
    end: number,
    features: Int32Array,
    activeCount: number,
    hist: Float64Array,
    copies: boolean,
    unitHessian: boolean,
  ): void {
    const { histIndex, featureCount, gh, rows, arena } = this.arrays;
    const copiesArray = copies ? this.copies : null;
    if (
      arena &&
      this.arenaFeatures &&
      histIndex instanceof Uint16Array &&
      arena.holds(histIndex) &&
      arena.holds(gh) &&
      arena.holds(rows) &&
      arena.holds(hist) &&
      (!copiesArray || arena.holds(copiesArray))
    ) {
      this.arenaFeatures.set(features.subarray(0, activeCount));
      arena.histogram(
        histIndex,
        featureCount,
        this.arenaFeatures,
        activeCount,
        gh,
        ghBase,
        rows,
        start,
        end,
        hist,
        copiesArray,
        unitHessian,
      );
      return;
    }
    accumulateHistogram(histIndex, featureCount, features, activeCount, gh, ghBase, rows, start, end, hist, copiesArray, unitHessian);
  }

  finishHistogram(features: Int32Array, activeCount: number, hist: Float64Array, copies: boolean, unitHessian: boolean): void {
    const { featureCount, histOffsets } = this.arrays;
    if (copies) mergeHistogramCopies(featureCount, features, activeCount, histOffsets, hist, this.copies);
    if (unitHessian) countsToHessians(featureCount, features, activeCount, histOffsets, hist);
  }

  /** Partitions rows[start..end), right rows to scratch[start..]; returns the left count. */
  partitionChunk(
    start: number,
    end: number,
    feature: number,
    thresholdBin: number,
    missingLeft: boolean,
    leftBins: Uint8Array | null,
  ): number {
    const { rows, scratch, columnBins, rowCount, arena } = this.arrays;
    const column = columnBins.subarray(feature * rowCount, (feature + 1) * rowCount);
    if (arena && arena.holds(rows) && arena.holds(scratch) && arena.holds(column)) {
      return arena.partition(rows, start, end, column, goesLeftTable(thresholdBin, missingLeft, leftBins), scratch);
    }
    return partitionRows(rows, start, end, column, thresholdBin, missingLeft, scratch, start, leftBins);
  }

  /** The summed loss of each block in [firstBlock, endBlock), into blockLoss. */
  gradientBlocks(objective: GbdtObjective, scales: GradientScales, firstBlock: number, endBlock: number, blockLoss: Float64Array): void {
    const { scores, labels, gh, rowCount, outputs, arena } = this.arrays;
    const inArena = arena && arena.holds(scores) && arena.holds(labels) && arena.holds(gh);
    const wasmBinary = inArena && wasmExpMatchesMath();
    for (let b = firstBlock; b < endBlock; b++) {
      const start = b * BLOCK_ROWS;
      const end = Math.min(rowCount, start + BLOCK_ROWS);
      switch (objective) {
        case 'binary':
          blockLoss[b] = wasmBinary
            ? arena.binaryGradients(scores, labels, gh, start, end, scales.gradient, scales.hessian)
            : binaryGradients(scores, labels, gh, start, end, scales.gradient, scales.hessian);
          break;
        case 'regression':
          blockLoss[b] = inArena
            ? arena.squaredErrorGradients(scores, labels, gh, start, end, scales.gradient)
            : squaredErrorGradients(scores, labels, gh, start, end, scales.gradient);
          break;
        case 'multiclass':
          blockLoss[b] = softmaxGradients(scores, labels, gh, rowCount, outputs, start, end, scales.gradient, scales.hessian, this.exps);
          break;
      }
    }
  }

  maxAbsResidual(start: number, end: number): number {
    const { scores, labels, arena } = this.arrays;
    if (arena && arena.holds(scores) && arena.holds(labels)) return arena.maxAbsResidual(scores, labels, start, end);
    return maxAbsResidual(scores, labels, start, end);
  }

  addLeafRange(output: number, start: number, end: number, value: number): void {
    const { scores, rows, outputs, arena } = this.arrays;
    if (arena && arena.holds(scores) && arena.holds(rows)) {
      arena.addLeafValue(scores, rows, start, end, outputs, output, value);
      return;
    }
    for (let i = start; i < end; i++) scores[rows[i] * outputs + output] += value;
  }

  addTree(tree: PackedTree, output: number, start: number, end: number): void {
    const { bins, featureCount, scores, outputs } = this.arrays;
    addTreeToScores(tree, bins, featureCount, scores, outputs, output, start, end);
  }
}

function blockCount(rowCount: number): number {
  return Math.ceil(rowCount / BLOCK_ROWS);
}

/** Sum of per-block values, in block order (the fixed order that makes it thread-independent). */
export function sumBlocks(values: Float64Array): number {
  let sum = 0;
  for (let b = 0; b < values.length; b++) sum += values[b];
  return sum;
}

/** Whether an objective's quantised hessian is 1 on every row (histograms may then skip it). */
export function hasUnitHessian(objective: GbdtObjective): boolean {
  return objective === 'regression';
}

export class SerialExecutor implements Executor {
  private readonly runner: KernelRunner;
  private readonly blockLoss: Float64Array;
  /** Whether the gradients last computed have unit hessians. */
  private unitHessian = false;

  constructor(private readonly arrays: TrainingArrays) {
    this.runner = new KernelRunner(arrays);
    this.blockLoss = new Float64Array(blockCount(arrays.rowCount));
  }

  buildHistogram(ghBase: number, start: number, end: number, features: Int32Array, activeCount: number, hist: Float64Array): void {
    this.runner.histogram(ghBase, start, end, features, activeCount, hist, this.unitHessian);
  }

  partition(start: number, end: number, feature: number, thresholdBin: number, missingLeft: boolean, leftBins: Uint8Array | null): number {
    const left = this.runner.partitionChunk(start, end, feature, thresholdBin, missingLeft, leftBins);
    const { rows, scratch } = this.arrays;
    rows.set(scratch.subarray(start, start + (end - start - left)), start + left);
    return start + left;
  }

  gradients(objective: GbdtObjective, scales: GradientScales): number {
    this.unitHessian = hasUnitHessian(objective);
    this.runner.gradientBlocks(objective, scales, 0, this.blockLoss.length, this.blockLoss);
    return sumBlocks(this.blockLoss);
  }

  maxAbsResidual(): number {
    return this.runner.maxAbsResidual(0, this.arrays.rowCount);
  }

  addLeafValues(output: number, leafStart: readonly number[], leafEnd: readonly number[], leafValue: readonly number[]): void {
    for (let j = 0; j < leafValue.length; j++) this.runner.addLeafRange(output, leafStart[j], leafEnd[j], leafValue[j]);
  }

  addTree(tree: PackedTree, output: number): void {
    this.runner.addTree(tree, output, 0, this.arrays.rowCount);
  }

  async close(): Promise<void> {}
}
