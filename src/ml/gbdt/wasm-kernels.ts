import { readFileSync } from 'node:fs';
import { expMatchesMath } from './exp-check';

/**
 * The histogram, partition, score-update and gradient loops in WebAssembly (kernels.wat), for
 * the single-threaded trainer: ~1.9x, ~5x and ~2x (gradients) the JavaScript loops' speed. The
 * arrays they touch must live in the module's memory, so training allocates them from a
 * WasmArena sized once, up front (growing a non-shared memory would detach every view).
 * Anything not in the arena (a histogram allocated after it filled up, a Uint32 histogram index
 * for very wide tables) goes through the JavaScript kernels, which give the same bits:
 * histogram sums are exact integers.
 */

interface KernelExports {
  histogram(
    histIndex: number,
    featureCount: number,
    features: number,
    activeCount: number,
    gh: number,
    rows: number,
    start: number,
    end: number,
    hist: number,
    copies: number,
    histBytes: number,
    unitHessian: number,
  ): void;
  histogramAllFeatures(
    histIndex: number,
    featureCount: number,
    gh: number,
    rows: number,
    start: number,
    end: number,
    hist: number,
    copies: number,
    histBytes: number,
    unitHessian: number,
  ): void;
  partition(rows: number, start: number, end: number, column: number, goesLeft: number, scratch: number): number;
  addLeafValue(scores: number, rows: number, start: number, end: number, outputs: number, output: number, value: number): void;
  expNonPositiveArray(values: number, count: number): void;
  binaryGradients(scores: number, labels: number, gh: number, start: number, end: number, gScale: number, hScale: number): number;
  maxAbsResidual(scores: number, labels: number, start: number, end: number): number;
  squaredErrorGradients(scores: number, labels: number, gh: number, start: number, end: number, gScale: number): number;
}

/** The runtime's WebAssembly API, as far as used here (neither the ES2022 lib nor @types/node 20 declares it). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
const wasm = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

const kernelsModule = new wasm.Module(readFileSync(new URL('./kernels.wasm', import.meta.url)));

/** Bytes reserved at address 0 so that no array starts there (0 means "no copies" to the histogram kernel). */
const RESERVED = 64;
const PAGE = 65_536;

function instantiate(memory: WasmMemory): KernelExports {
  return new wasm.Instance(kernelsModule, { keel: { memory, log: Math.log } }).exports as KernelExports;
}

let expChecked: boolean | undefined;

/**
 * Whether the kernels' exp gives this runtime's Math.exp bits (exp-check.ts, run once): only
 * then may gradients go through WebAssembly, since the model's bytes depend on every exp's bits.
 */
export function wasmExpMatchesMath(): boolean {
  expChecked ??= expMatchesMath((values) => {
    const memory = new wasm.Memory({ initial: Math.ceil((values.byteLength + RESERVED) / PAGE) });
    const inMemory = new Float64Array(memory.buffer, RESERVED, values.length);
    inMemory.set(values);
    instantiate(memory).expNonPositiveArray(RESERVED, values.length);
    values.set(inMemory);
  });
  return expChecked;
}

type TypedArrayConstructor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

export class WasmArena {
  private readonly memory: WasmMemory;
  private readonly kernels: KernelExports;
  private top = RESERVED;
  /** The partition's 256-byte side table. */
  private readonly goesLeft: Uint8Array;

  /** An arena of at least `bytes` bytes (plus alignment), or undefined when WebAssembly cannot give it. */
  static create(bytes: number): WasmArena | undefined {
    const pages = Math.ceil((bytes + RESERVED + 1024) / PAGE) + 1;
    if (pages > 65_536) return undefined;
    try {
      return new WasmArena(new wasm.Memory({ initial: pages }));
    } catch {
      return undefined;
    }
  }

  private constructor(memory: WasmMemory) {
    this.memory = memory;
    this.kernels = instantiate(memory);
    this.goesLeft = this.allocate(Uint8Array, 256)!;
  }

  /** A zeroed array in the arena, or undefined when it does not fit. */
  allocate<T>(ctor: TypedArrayConstructor<T>, length: number): T | undefined {
    const start = (this.top + 63) & ~63;
    const end = start + length * ctor.BYTES_PER_ELEMENT;
    if (end > this.memory.buffer.byteLength) return undefined;
    this.top = end;
    return new ctor(this.memory.buffer, start, length);
  }

  holds(array: ArrayBufferView): boolean {
    return array.buffer === this.memory.buffer;
  }

  /** accumulateHistogram (kernels.ts) for a Uint16 histogram index; every array must be in the arena. */
  histogram(
    histIndex: Uint16Array,
    featureCount: number,
    features: Int32Array,
    activeCount: number,
    gh: Int32Array,
    ghBase: number,
    rows: Uint32Array,
    start: number,
    end: number,
    hist: Float64Array,
    copies: Float64Array | null,
    unitHessian: boolean,
  ): void {
    const gh0 = gh.byteOffset + ghBase * Int32Array.BYTES_PER_ELEMENT;
    if (copies && activeCount === featureCount) {
      this.kernels.histogramAllFeatures(
        histIndex.byteOffset,
        featureCount,
        gh0,
        rows.byteOffset,
        start,
        end,
        hist.byteOffset,
        copies.byteOffset,
        hist.byteLength,
        unitHessian ? 1 : 0,
      );
      return;
    }
    this.kernels.histogram(
      histIndex.byteOffset,
      featureCount,
      features.byteOffset,
      activeCount,
      gh0,
      rows.byteOffset,
      start,
      end,
      hist.byteOffset,
      copies ? copies.byteOffset : 0,
      hist.byteLength,
      unitHessian ? 1 : 0,
    );
  }

  /** partitionRows (kernels.ts) with scratchStart = start; `goesLeft` (256 entries) may live anywhere. */
  partition(rows: Uint32Array, start: number, end: number, column: Uint8Array, goesLeft: Uint8Array, scratch: Uint32Array): number {
    this.goesLeft.set(goesLeft);
    return this.kernels.partition(rows.byteOffset, start, end, column.byteOffset, this.goesLeft.byteOffset, scratch.byteOffset);
  }

  /**
   * binaryGradients (kernels.ts) over rows [start, end): the same gh bits and the same loss, when
   * wasmExpMatchesMath. Every array must be in the arena.
   */
  binaryGradients(
    scores: Float64Array,
    labels: Float64Array,
    gh: Int32Array,
    start: number,
    end: number,
    gScale: number,
    hScale: number,
  ): number {
    return this.kernels.binaryGradients(scores.byteOffset, labels.byteOffset, gh.byteOffset, start, end, gScale, hScale);
  }

  /** maxAbsResidual (kernels.ts) over rows [start, end); both arrays must be in the arena. */
  maxAbsResidual(scores: Float64Array, labels: Float64Array, start: number, end: number): number {
    return this.kernels.maxAbsResidual(scores.byteOffset, labels.byteOffset, start, end);
  }

  /** squaredErrorGradients (kernels.ts) over rows [start, end), to its bits; every array must be in the arena. */
  squaredErrorGradients(scores: Float64Array, labels: Float64Array, gh: Int32Array, start: number, end: number, gScale: number): number {
    return this.kernels.squaredErrorGradients(scores.byteOffset, labels.byteOffset, gh.byteOffset, start, end, gScale);
  }

  /** scores[rows[i] · outputs + output] += value for i in [start, end) (the executor's addLeafRange). */
  addLeafValue(scores: Float64Array, rows: Uint32Array, start: number, end: number, outputs: number, output: number, value: number): void {
    this.kernels.addLeafValue(scores.byteOffset, rows.byteOffset, start, end, outputs, output, value);
  }
}
