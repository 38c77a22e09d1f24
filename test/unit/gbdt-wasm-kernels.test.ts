import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { prepareGbdt, trainingArrays } from '../../src/ml/gbdt/booster';
import { expMatchesMath } from '../../src/ml/gbdt/exp-check';
import {
  accumulateHistogram,
  BIN_STRIDE,
  binaryGradients,
  goesLeftTable,
  histogramIndex,
  maxAbsResidual,
  partitionRows,
  squaredErrorGradients,
} from '../../src/ml/gbdt/kernels';
import { toGbdtTable, trainGbdt } from '../../src/ml/gbdt/train';
import { WasmArena, wasmExpMatchesMath } from '../../src/ml/gbdt/wasm-kernels';
import { assembleKernels, kernelsWasmPath } from '../../scripts/wasm-assembly';
import { randomBinnedRows } from './support/binned-rows';
import { flightFeatures, seededRandom, syntheticFlights } from './support/synthetic';

/**
 * The WebAssembly kernels (src/ml/gbdt/kernels.wat) must compute exactly what the JavaScript
 * kernels compute: the single-threaded trainer runs them, the multi-threaded one the JavaScript,
 * and both must train the same bytes.
 */
describe('the WebAssembly kernels', () => {
  it('are committed as the binary their source assembles to (npm run build:wasm)', async () => {
    expect(Buffer.from(await readFile(kernelsWasmPath)).equals(Buffer.from(await assembleKernels()))).toBe(true);
  });

  const binsPerFeature = [7, 256, 2, 40];
  const rowCount = 9_003; // not a multiple of 4
  const random = seededRandom(23);
  const { featureCount, histOffsets, histLength, bins } = randomBinnedRows(binsPerFeature, rowCount, random);
  const arena = WasmArena.create(4_000_000)!;
  const histIndex = arena.allocate(Uint16Array, bins.length)!;
  histogramIndex(bins, featureCount, histOffsets, histLength, histIndex);
  const gh = arena.allocate(Int32Array, 2 * rowCount + 8)!;
  for (let i = 0; i < gh.length; i += 2) {
    gh[i] = Math.round((random() - 0.5) * 2 ** 30);
    gh[i + 1] = Math.floor(random() * 2 ** 29);
  }
  // A leaf's rows: about two in three, in order, as after a partition.
  const leaf = Uint32Array.from(Array.from({ length: rowCount }, (_, r) => r).filter(() => random() < 0.66));
  const rows = arena.allocate(Uint32Array, leaf.length)!;
  rows.set(leaf);

  it('build the histogram the JavaScript kernel builds: all features or a subset, copies or not, any row range', () => {
    expect(arena.holds(histIndex) && arena.holds(gh) && arena.holds(rows)).toBe(true);
    const arenaFeatures = arena.allocate(Int32Array, featureCount)!;
    for (const features of [Int32Array.from([0, 1, 2, 3]), Int32Array.from([3, 1])]) {
      arenaFeatures.set(features);
      for (const withCopies of [true, false]) {
        for (const unitHessian of [false, true]) {
          for (const [start, end, ghBase] of [
            [0, rows.length, 0],
            [5, rows.length - 2, 2],
            [17, 18, 0],
          ]) {
            const js = new Float64Array(histLength);
            const jsCopies = withCopies ? new Float64Array(3 * histLength) : null;
            accumulateHistogram(histIndex, featureCount, features, features.length, gh, ghBase, rows, start, end, js, jsCopies, false);
            const hist = arena.allocate(Float64Array, histLength)!;
            const copies = withCopies ? arena.allocate(Float64Array, 3 * histLength)! : null;
            arena.histogram(
              histIndex,
              featureCount,
              arenaFeatures,
              features.length,
              gh,
              ghBase,
              rows,
              start,
              end,
              hist,
              copies,
              unitHessian,
            );
            const sum = (h: Float64Array, c: Float64Array | null) =>
              Array.from(h, (v, j) => v + (c ? c[j] + c[histLength + j] + c[2 * histLength + j] : 0));
            const expected = sum(js, jsCopies);
            const actual = sum(hist, copies);
            // With unit hessians the kernel leaves the hessian sums to countsToHessians.
            for (let j = 0; j < histLength; j++) if (unitHessian && j % BIN_STRIDE === 1) expected[j] = 0;
            expect(actual).toEqual(expected);
            expect(actual.some((v) => v !== 0)).toBe(end > start);
          }
        }
      }
    }
  });

  it('partition rows as the JavaScript kernel does, by threshold or by a category table', () => {
    const column = arena.allocate(Uint8Array, rowCount)!;
    for (let r = 0; r < rowCount; r++) column[r] = bins[r * featureCount + 1];
    const scratch = arena.allocate(Uint32Array, leaf.length)!;
    const leftBins = new Uint8Array(256).map(() => (random() < 0.5 ? 1 : 0));
    for (const [thresholdBin, missingLeft, table] of [
      [100, true, null],
      [3, false, null],
      [0, false, leftBins],
    ] as const) {
      const jsRows = leaf.slice();
      const jsScratch = new Uint32Array(leaf.length);
      const jsLeft = partitionRows(jsRows, 9, leaf.length - 4, column, thresholdBin, missingLeft, jsScratch, 9, table);
      rows.set(leaf);
      const left = arena.partition(rows, 9, leaf.length - 4, column, goesLeftTable(thresholdBin, missingLeft, table), scratch);
      expect(left).toBe(jsLeft);
      expect(left).toBeGreaterThan(0);
      expect(Array.from(rows)).toEqual(Array.from(jsRows));
      expect(Array.from(scratch.subarray(9, leaf.length - 4 - left))).toEqual(Array.from(jsScratch.subarray(9, leaf.length - 4 - left)));
    }
  });

  it('add a leaf value to the scores of its rows, as the JavaScript loop does', () => {
    const outputs = 3;
    const scores = arena.allocate(Float64Array, rowCount * outputs)!;
    for (let j = 0; j < scores.length; j++) scores[j] = random() - 0.5;
    const expected = scores.slice();
    for (let i = 4; i < rows.length - 1; i++) expected[rows[i] * outputs + 2] += 0.125 / 3;
    arena.addLeafValue(scores, rows, 4, rows.length - 1, outputs, 2, 0.125 / 3);
    expect(Array.from(scores)).toEqual(Array.from(expected));
  });

  it("compute binary gradients and log loss to the JavaScript kernel's bits, any row range, extreme scores included", () => {
    // The exp in WebAssembly must give Math.exp's bits here, or training would not use it.
    if (process.arch === 'x64') expect(wasmExpMatchesMath()).toBe(true);
    const n = 5_001;
    const scores = arena.allocate(Float64Array, n)!;
    const labels = arena.allocate(Float64Array, n)!;
    const wasmGh = arena.allocate(Int32Array, 2 * n)!;
    for (let r = 0; r < n; r++) {
      scores[r] = r % 97 === 0 ? [0, -0, 800, -800, 1e-30, -40][r % 6] : (random() - 0.5) * 12;
      labels[r] = random() < 0.3 ? 1 : 0;
    }
    for (const [start, end] of [
      [0, n],
      [1, n - 1],
      [7, 8],
      [3, 3],
    ]) {
      const jsGh = new Int32Array(2 * n);
      wasmGh.fill(0);
      const jsLoss = binaryGradients(scores, labels, jsGh, start, end, 2 ** 29, 2 ** 30);
      const wasmLoss = arena.binaryGradients(scores, labels, wasmGh, start, end, 2 ** 29, 2 ** 30);
      expect(Object.is(wasmLoss, jsLoss)).toBe(true);
      expect(Array.from(wasmGh)).toEqual(Array.from(jsGh));
    }
  });

  it("compute squared-error gradients, loss and largest residual to the JavaScript kernels' bits", () => {
    const n = 3_001;
    const scores = arena.allocate(Float64Array, n)!;
    const labels = arena.allocate(Float64Array, n)!;
    const wasmGh = arena.allocate(Int32Array, 2 * n)!;
    for (let r = 0; r < n; r++) {
      scores[r] = (random() - 0.5) * 40;
      labels[r] = r === 1_234 ? NaN : (random() - 0.2) * 300;
    }
    for (const [start, end] of [
      [0, n],
      [1, n - 1],
      [5, 6],
      [1_235, n],
    ]) {
      const jsGh = new Int32Array(2 * n);
      wasmGh.fill(0);
      const gScale = 2 ** 30 / 400;
      const jsLoss = squaredErrorGradients(scores, labels, jsGh, start, end, gScale);
      expect(Object.is(arena.squaredErrorGradients(scores, labels, wasmGh, start, end, gScale), jsLoss)).toBe(true);
      expect(Array.from(wasmGh)).toEqual(Array.from(jsGh));
      expect(arena.maxAbsResidual(scores, labels, start, end)).toBe(maxAbsResidual(scores, labels, start, end));
    }
  });

  it("use their exp only where a check finds Math.exp's bits, a check that a one-ulp error fails", () => {
    const lastBitOff = (values: Float64Array) => {
      for (let i = 0; i < values.length; i++) values[i] = Math.exp(values[i]);
      values[1000] = values[1000] * (1 + 2 ** -52);
    };
    const viaExpm1 = (values: Float64Array) => {
      for (let i = 0; i < values.length; i++) values[i] = Math.expm1(values[i]) + 1;
    };
    expect(expMatchesMath((values) => values.forEach((x, i) => (values[i] = Math.exp(x))))).toBe(true);
    expect(expMatchesMath(lastBitOff)).toBe(false);
    expect(expMatchesMath(viaExpm1)).toBe(false);
  });

  it('run in single-threaded training, which trains the bytes the JavaScript kernels of two threads train (multiclass, sampled)', async () => {
    const train = syntheticFlights(20_000, 7).map((row) => ({ ...row, band: ['early', 'on time', 'late'][Number(row.hour) % 3] }));
    const table = () =>
      toGbdtTable({
        features: [...flightFeatures],
        target: 'band',
        params: { objective: 'multiclass', numTrees: 8, maxLeaves: 15, subsample: 0.8, colsample: 0.6, seed: 3 },
        train,
      });
    expect(trainingArrays(prepareGbdt(table()), false).arena).toBeDefined();
    expect(await trainGbdt(table(), { threads: 1 })).toEqual(await trainGbdt(table(), { threads: 2, chunkRows: 2048 }));
  });
});
