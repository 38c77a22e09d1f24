import { describe, expect, it } from 'vitest';
import { fitGbdt, parseGbdtParams, toGbdtTable } from '../../src/ml/gbdt';
import { resolveGbdtParams } from '../../src/ml/gbdt/small-data';
import { flightFeatures, syntheticFlights } from './support/synthetic';

describe('small-data defaults of the GBDT', () => {
  const binary = parseGbdtParams({ objective: 'binary' });

  it('scale the leaf minimums to the training rows, and keep what a config sets', () => {
    expect(resolveGbdtParams(binary, 100_000, true)).toMatchObject({ minSamplesLeaf: 20, minHessianLeaf: 0.2, earlyStoppingRounds: 20 });
    expect(resolveGbdtParams(binary, 90, true)).toMatchObject({ minSamplesLeaf: 9, minHessianLeaf: 0.09 });
    expect(resolveGbdtParams(parseGbdtParams({ objective: 'regression' }), 90, false)).toMatchObject({
      minSamplesLeaf: 9,
      minHessianLeaf: 1e-3,
    });
    const set = parseGbdtParams({ objective: 'binary', minSamplesLeaf: 3, minHessianLeaf: 0, earlyStoppingRounds: 7 });
    expect(resolveGbdtParams(set, 90, true)).toMatchObject({ minSamplesLeaf: 3, minHessianLeaf: 0, earlyStoppingRounds: 7 });
  });

  it('stop early by default when there are validation rows, never without, and not when set to 0', () => {
    expect(resolveGbdtParams(binary, 1000, false).earlyStoppingRounds).toBeUndefined();
    expect(
      resolveGbdtParams(parseGbdtParams({ objective: 'binary', earlyStoppingRounds: 0 }), 1000, true).earlyStoppingRounds,
    ).toBeUndefined();
    const table = (params: object) =>
      toGbdtTable({
        features: [...flightFeatures],
        target: 'delayed',
        params: { objective: 'binary', numTrees: 400, learningRate: 0.5, ...params },
        train: syntheticFlights(600, 1),
        validation: syntheticFlights(300, 2),
      });
    const stopped = fitGbdt(table({}));
    expect(stopped.training.stoppedEarly).toBe(true);
    expect(stopped.params).toMatchObject({ earlyStoppingRounds: 20, minSamplesLeaf: 20 });
    expect(stopped.trees.length).toBeLessThan(400);
    expect(fitGbdt(table({ earlyStoppingRounds: 0 })).trees).toHaveLength(400);
  });

  it('keep multiclass probabilities away from 0/1 on a small separable table', () => {
    // Three classes that one feature separates perfectly: unregularised boosting drives the
    // probabilities of 150 rows to 0/1 (log loss ~1e-5); the defaults keep them calibrated.
    const rows = Array.from({ length: 150 }, (_, i) => ({ x: i + ((i * 37) % 11) / 11, c: ['a', 'b', 'c'][Math.floor(i / 50)] }));
    const train = rows.filter((_, i) => i % 4 !== 0);
    const validation = rows.filter((_, i) => i % 4 === 0);
    const fit = (params: object) =>
      fitGbdt(
        toGbdtTable({
          features: [{ name: 'x', kind: 'numeric' }],
          target: 'c',
          params: { objective: 'multiclass', numTrees: 300, ...params },
          train,
          validation,
        }),
      );
    const lowest = (curve: number[] | null) => Math.min(...curve!);
    const unregularised = fit({ lambda: 0, minSamplesLeaf: 1, minHessianLeaf: 0, earlyStoppingRounds: 0 });
    expect(lowest(unregularised.training.validationCurve)).toBeLessThan(1e-3);
    expect(lowest(fit({}).training.validationCurve)).toBeGreaterThan(1e-3);
  });
});
