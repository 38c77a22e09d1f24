import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { fitGbdt, type GbdtProgress } from '../../src/ml/gbdt/booster';
import { progressDecoder, progressEncoder } from '../../src/ml/gbdt/progress-messages';
import { toGbdtTable, trainGbdtInWorkerThread, type GbdtTrainingRequest } from '../../src/ml/gbdt/train';
import { flightFeatures, syntheticFlights } from './support/synthetic';

// Native categorical splits (the default): trees carry per-node category sets.
const request: GbdtTrainingRequest = {
  features: [...flightFeatures],
  target: 'delayed',
  params: { objective: 'binary', numTrees: 20, maxLeaves: 15, earlyStoppingRounds: 0, subsample: 0.8, seed: 3 },
  train: syntheticFlights(1500, 51),
  validation: syntheticFlights(300, 52),
};

/** The checkpoints of an in-process run, every 4 iterations. */
function inProcessCheckpoints() {
  const progress: GbdtProgress[] = [];
  fitGbdt(toGbdtTable(request), { checkpointEvery: 4, onProgress: (p) => progress.push(p) });
  return progress.flatMap((p) => (p.checkpoint ? [p.checkpoint] : []));
}
const checkpoints = inProcessCheckpoints();

describe('GBDT progress messages', () => {
  it('post each checkpoint with only its new trees, and decode to the same JSON', () => {
    const encode = progressEncoder();
    const decode = progressDecoder();
    expect(checkpoints.some((c) => c.trees.some((tree) => tree.leftCategories))).toBe(true);
    const sizes: number[] = [];
    for (const checkpoint of checkpoints) {
      const message = encode({
        iteration: checkpoint.iteration,
        totalIterations: 20,
        metric: 'logloss',
        trainMetric: 1,
        validationMetric: 1,
        checkpoint,
      });
      expect(message.checkpoint!.trees.length).toBe(4);
      sizes.push(serialize(message).length);
      // As the parent receives it: a structured clone.
      const decoded = decode(structuredClone(message));
      expect(JSON.stringify(decoded.checkpoint)).toBe(JSON.stringify(checkpoint));
    }
    // The message of the last checkpoint (20 trees) is no larger than about the first's (4 trees).
    expect(sizes.at(-1)!).toBeLessThan(2 * sizes[0]);
  });

  it('refuse a checkpoint message that does not continue the trees received', () => {
    const [first, second] = checkpoints;
    const encode = progressEncoder();
    encode({ iteration: 4, totalIterations: 20, metric: 'logloss', trainMetric: 1, validationMetric: null, checkpoint: first });
    const message = encode({
      iteration: 8,
      totalIterations: 20,
      metric: 'logloss',
      trainMetric: 1,
      validationMetric: null,
      checkpoint: second,
    });
    expect(() => progressDecoder()(message)).toThrow(/continues after tree 4, 0 trees received/);
  });

  it('give the checkpoints of a worker-thread run, sharing their trees instead of copying the model each time', async () => {
    const received: GbdtProgress[] = [];
    await trainGbdtInWorkerThread(request, { checkpointEvery: 4, onProgress: (p) => received.push(p) });
    const fromWorker = received.flatMap((p) => (p.checkpoint ? [p.checkpoint] : []));
    expect(fromWorker.map((c) => JSON.stringify(c))).toEqual(checkpoints.map((c) => JSON.stringify(c)));
    // One object per tree however many checkpoints hold it: the memory of a queue of checkpoints
    // waiting to be stored grows with the trees, not with checkpoints × trees.
    const [first, last] = [fromWorker[0], fromWorker.at(-1)!];
    expect(last.trees.slice(0, first.trees.length).every((tree, i) => tree === first.trees[i])).toBe(true);
  });
});
