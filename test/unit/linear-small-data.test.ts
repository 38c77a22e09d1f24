import { describe, expect, it } from 'vitest';
import { smallDataL2, trainLinearModel } from '../../src/ml/train';
import { predictOutputs } from '../../src/ml/trained-model';
import { metricsOfScores, scoreMeaningOf } from '../../src/ml/task-evaluation';

describe('the default L2 of logistic regression', () => {
  it('is 1/n on small tables (scikit-learn C = 1) and 1e-4 on large ones', () => {
    expect(smallDataL2(100)).toBe(0.01);
    expect(smallDataL2(400_000)).toBe(1e-4);
  });

  it('keeps multiclass probabilities away from 0/1 on a small separable table', () => {
    // One feature separates three classes perfectly; the wider penalty of a small table keeps the
    // probabilities further from 0/1 than keel's large-table 1e-4 (bench:small measures the
    // collapse on real tables: docs/features.md).
    const rows = Array.from({ length: 150 }, (_, i) => ({
      x: i + ((i * 37) % 11) / 11,
      y: (i * 13) % 7,
      c: ['a', 'b', 'c'][Math.floor(i / 50)],
    }));
    const train = rows.filter((_, i) => i % 4 !== 0);
    const validation = rows.filter((_, i) => i % 4 === 0);
    const validationLoss = (params: { l2?: number }) => {
      const model = trainLinearModel({
        task: 'multiclass',
        features: [
          { name: 'x', kind: 'numeric' },
          { name: 'y', kind: 'numeric' },
        ],
        target: 'c',
        params: { maxIterations: 500, tolerance: 1e-9, ...params },
        train,
      });
      return (
        metricsOfScores(
          scoreMeaningOf(model),
          validation.map((r) => r.c),
          predictOutputs(model, validation),
        ) as { logLoss: number }
      ).logLoss;
    };
    const byDefault = validationLoss({});
    expect(byDefault).toBeGreaterThan(1e-3);
    expect(byDefault).toBeGreaterThan(validationLoss({ l2: 1e-4 }));
  });
});
