import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fitGbdt, type GbdtCheckpoint, type GbdtProgress, type GbdtTable } from '../../src/ml/gbdt/booster';
import { toGbdtTable, trainGbdt, trainGbdtInWorkerThread } from '../../src/ml/gbdt/train';
import { exportGbdtOnnx } from '../../src/ml/onnx/export-gbdt';
import { flightFeatures, syntheticFlights } from './support/synthetic';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

// Enough rows that the parallel paths (≥ 16 384 rows per step) run, with bagging and column
// sampling so that the PRNG state matters.
const rows = syntheticFlights(40_000, 41);
const validation = syntheticFlights(5_000, 42);
const params = { objective: 'binary', numTrees: 30, maxLeaves: 31, minSamplesLeaf: 20, subsample: 0.8, colsample: 0.8, seed: 5 } as const;
const makeTable = (): GbdtTable => toGbdtTable({ features: [...flightFeatures], target: 'delayed', params, train: rows, validation });

class Interrupted extends Error {}

describe('checkpoint and resume', () => {
  it('12 iterations + resume to 30 gives the model of 30 straight (identical ONNX)', () => {
    const straight = fitGbdt(makeTable());
    let checkpoint: GbdtCheckpoint | undefined;
    expect(() =>
      fitGbdt(makeTable(), {
        checkpointEvery: 4,
        onProgress: (progress) => {
          if (progress.checkpoint) checkpoint = JSON.parse(JSON.stringify(progress.checkpoint)) as GbdtCheckpoint;
          // The process dies after iteration 13: the last checkpoint is the one of iteration 12.
          if (progress.iteration === 13) throw new Interrupted();
        },
      }),
    ).toThrow(Interrupted);
    expect(checkpoint?.iteration).toBe(12);
    const resumedProgress: number[] = [];
    const resumed = fitGbdt(makeTable(), { resumeFrom: checkpoint, onProgress: (p) => resumedProgress.push(p.iteration) });
    expect(resumedProgress).toEqual(Array.from({ length: 18 }, (_, i) => 13 + i));
    expect(sha256(exportGbdtOnnx(resumed))).toBe(sha256(exportGbdtOnnx(straight)));
    expect(resumed).toEqual(straight); // learning curves included
  });

  it('refuses a checkpoint of other data or parameters', () => {
    let checkpoint: GbdtCheckpoint | undefined;
    fitGbdt(makeTable(), { checkpointEvery: 5, onProgress: (p) => (checkpoint ??= p.checkpoint) });
    const other = toGbdtTable({
      features: [...flightFeatures],
      target: 'delayed',
      params: { ...params, learningRate: 0.2 },
      train: rows,
      validation,
    });
    expect(() => fitGbdt(other, { resumeFrom: checkpoint })).toThrow(/other training data or parameters/);
  });
});

describe('threads', () => {
  it('1 and 2 threads train byte-identical models', async () => {
    const one = await trainGbdt(makeTable(), { threads: 1 });
    const two = await trainGbdt(makeTable(), { threads: 2 });
    expect(sha256(exportGbdtOnnx(two))).toBe(sha256(exportGbdtOnnx(one)));
    expect(two).toEqual(one);
  });

  it('stays byte-identical with many small chunks shared by 3 threads (every parallel step)', async () => {
    const one = await trainGbdt(makeTable(), { threads: 1 });
    // 1 024-row chunks: histograms, partitions, gradients and score updates all run in parallel,
    // with chunks claimed by whichever thread is free.
    const three = await trainGbdt(makeTable(), { threads: 3, chunkRows: 1024 });
    expect(sha256(exportGbdtOnnx(three))).toBe(sha256(exportGbdtOnnx(one)));
    expect(three).toEqual(one);
    const regression = toGbdtTable({
      features: [...flightFeatures].filter((f) => f.name !== 'distance'),
      target: 'distance',
      params: { objective: 'regression', numTrees: 10, maxLeaves: 15, subsample: 1 },
      train: rows.filter((row) => row.distance !== null),
    });
    const serial = await trainGbdt(regression, { threads: 1 });
    expect(await trainGbdt(regression, { threads: 2, chunkRows: 2048 })).toEqual(serial);
  });

  it('resumes a 2-thread run from a checkpoint into the same model', async () => {
    const table = toGbdtTable({
      features: [...flightFeatures],
      target: 'delayed',
      params: { ...params, objective: 'binary', subsample: 1 },
      train: rows,
    });
    const straight = await trainGbdt(table, { threads: 2 });
    let checkpoint: GbdtCheckpoint | undefined;
    await expect(
      trainGbdt(table, {
        threads: 2,
        checkpointEvery: 10,
        onProgress: (p) => {
          checkpoint = p.checkpoint ?? checkpoint;
          if (p.iteration === 10) throw new Interrupted();
        },
      }),
    ).rejects.toThrow(Interrupted);
    const resumed = await trainGbdt(table, { threads: 2, resumeFrom: checkpoint });
    expect(sha256(exportGbdtOnnx(resumed))).toBe(sha256(exportGbdtOnnx(straight)));
  });
});

describe('trainGbdtInWorkerThread', () => {
  it('trains the same model off the main thread, reporting progress and checkpoints', async () => {
    const progress: GbdtProgress[] = [];
    const inWorker = await trainGbdtInWorkerThread(
      { features: [...flightFeatures], target: 'delayed', params, train: rows, validation },
      { threads: 2, checkpointEvery: 10, onProgress: (p) => progress.push(p) },
    );
    expect(inWorker).toEqual(fitGbdt(makeTable()));
    expect(progress.map((p) => p.iteration)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(progress.filter((p) => p.checkpoint).map((p) => p.checkpoint!.iteration)).toEqual([10, 20, 30]);
    expect(progress.map((p) => p.validationMetric)).toEqual(inWorker.training.validationCurve);
  });

  it('resumes in the worker from a checkpoint', async () => {
    let checkpoint: GbdtCheckpoint | undefined;
    fitGbdt(makeTable(), { checkpointEvery: 7, onProgress: (p) => (checkpoint = p.iteration === 21 ? p.checkpoint : checkpoint) });
    const resumed = await trainGbdtInWorkerThread(makeTable(), { resumeFrom: checkpoint });
    expect(resumed).toEqual(fitGbdt(makeTable()));
  });

  it('rejects bad parameters and labels before starting a worker, with the error class kept', async () => {
    await expect(trainGbdtInWorkerThread({ ...makeTable(), params: { objective: 'binary', learningRate: -1 } })).rejects.toMatchObject({
      name: 'InvalidInputError',
      message: expect.stringMatching(/learningRate/),
    });
    await expect(trainGbdtInWorkerThread({ ...makeTable(), labels: new Float64Array(rows.length) })).rejects.toThrow(
      'target "delayed" is constant',
    );
  });

  it('rejects with the error thrown inside the worker', async () => {
    const allMissing = rows.map((row) => ({ ...row, distance: null }));
    await expect(trainGbdtInWorkerThread({ features: [...flightFeatures], target: 'delayed', params, train: allMissing })).rejects.toThrow(
      'numeric feature "distance" has no values',
    );
  });

  it('stops the worker and its helpers when aborted', async () => {
    const controller = new AbortController();
    const training = trainGbdtInWorkerThread(
      { ...makeTable(), params: { ...params, numTrees: 10_000 } },
      {
        threads: 2,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.iteration === 2) controller.abort(new Error('cancelled by the test'));
        },
      },
    );
    await expect(training).rejects.toThrow('cancelled by the test');
  });
});
