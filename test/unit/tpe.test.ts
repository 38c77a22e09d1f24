import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/shared/prng';
import { goodCount, normalCdf, normalQuantile, tpeSuggest, type Observation } from '../../src/shared/tpe';
import { bestTrial, medianStops, rungBudgets, runTpeStudy, type StudyOptions } from '../../src/shared/tpe-study';
import { warmStartObservations } from '../../src/shared/tpe-warm-start';
import type { ParamSet, SearchDimension } from '../../src/shared/search-space';
import { randomConfigs } from '../../src/shared/tuning';

// A synthetic objective with the shapes tuning meets: a log-scale optimum (l2 = 0.1), a linear
// one (rate = 1.3), an integer one (leaves = 24) and a categorical one (depth 6 of a list).
const space: Record<string, SearchDimension> = {
  l2: { min: 1e-4, max: 100, scale: 'log', integer: false },
  rate: { min: -5, max: 5, scale: 'linear', integer: false },
  leaves: { min: 2, max: 128, scale: 'linear', integer: true },
  depth: [3, 4, 5, 6, 7, 8],
};
const objective = (p: ParamSet) =>
  (Math.log10(p.l2) + 1) ** 2 + (p.rate - 1.3) ** 2 + ((p.leaves - 24) / 30) ** 2 + (p.depth === 6 ? 0 : 0.5);
const options = { startupTrials: 10, candidates: 24 };

function tpeBest(seed: number, trials: number): number {
  const observations: Observation[] = [];
  for (let i = 0; i < trials; i++) {
    const params = tpeSuggest(space, observations, mulberry32(seed * 1000 + i), options);
    observations.push({ params, loss: objective(params) });
  }
  return Math.min(...observations.map((o) => o.loss));
}

describe('TPE sampling', () => {
  it('beats random search with the same budget on average over 20 seeds', () => {
    const seeds = Array.from({ length: 20 }, (_, i) => i + 1);
    const tpe = seeds.map((seed) => tpeBest(seed, 40));
    const random = seeds.map((seed) => Math.min(...randomConfigs(space, 40, seed).map(objective)));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(tpe)).toBeLessThan(mean(random) * 0.5);
    expect(tpe.filter((t, i) => t < random[i]).length).toBeGreaterThanOrEqual(15);
  });

  it('is reproducible from its generator and stays inside the space', () => {
    const observations: Observation[] = randomConfigs(space, 15, 3).map((params) => ({ params, loss: objective(params) }));
    const a = tpeSuggest(space, observations, mulberry32(9), options);
    expect(tpeSuggest(space, observations, mulberry32(9), options)).toEqual(a);
    for (let s = 0; s < 200; s++) {
      const p = tpeSuggest(space, observations, mulberry32(s), options);
      expect(p.l2).toBeGreaterThanOrEqual(1e-4);
      expect(p.l2).toBeLessThanOrEqual(100);
      expect(Number.isInteger(p.leaves) && p.leaves >= 2 && p.leaves <= 128).toBe(true);
      expect([3, 4, 5, 6, 7, 8]).toContain(p.depth);
    }
  });

  it('draws at random until the startup trials are observed, then from the good trials', () => {
    // All good trials sit at depth 6: once modelled, depth 6 is suggested far more than 1 in 6.
    const observations: Observation[] = randomConfigs(space, 30, 5).map((params) => ({
      params,
      loss: params.depth === 6 ? 0 : 1 + objective(params),
    }));
    const suggestions = Array.from({ length: 100 }, (_, s) => tpeSuggest(space, observations, mulberry32(s), options));
    expect(suggestions.filter((p) => p.depth === 6).length).toBeGreaterThan(60);
    const early = Array.from({ length: 100 }, (_, s) => tpeSuggest(space, observations.slice(0, 9), mulberry32(s), options));
    expect(early.filter((p) => p.depth === 6).length).toBeLessThan(35);
  });

  it("splits off Optuna's default share of good trials", () => {
    expect([1, 10, 11, 100, 300].map(goodCount)).toEqual([1, 1, 2, 10, 25]);
  });

  it('has a normal CDF and quantile that invert each other', () => {
    for (const p of [1e-6, 0.01, 0.2, 0.5, 0.9, 0.999]) expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 6);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
  });
});

describe('pruning', () => {
  it('stops a trial worse than the median of earlier trials at its rung, once enough exist', () => {
    expect(medianStops(0.5, [0.1, 0.2], 3)).toBe(false);
    expect(medianStops(0.5, [0.1, 0.2, 0.9], 3)).toBe(true);
    expect(medianStops(0.2, [0.1, 0.2, 0.9], 3)).toBe(false);
    expect(medianStops(0.3, [0.1, 0.2, 0.3, 0.9], 3)).toBe(true);
    expect(medianStops(0.25, [0.1, 0.2, 0.3, 0.9], 3)).toBe(false);
  });

  it('plans rung budgets below the full budget, smallest first', () => {
    expect(rungBudgets(270, 3, 2)).toEqual([30, 90]);
    expect(rungBudgets(2, 3, 3)).toEqual([1]);
  });

  const study: StudyOptions = {
    space: { rate: { min: 0.01, max: 1, scale: 'log', integer: false } },
    trials: 12,
    concurrency: 2,
    seed: 4,
    startupTrials: 4,
    candidates: 24,
    pruning: 'median',
    rungs: 1,
    eta: 3,
    minTrials: 3,
    budget: { name: 'numTrees', max: 90 },
    warmStart: [],
  };
  // A learning curve: the loss falls with the budget, fastest near rate 0.2.
  const curveLoss = (p: ParamSet) => Math.abs(Math.log(p.rate / 0.2)) + 10 / p.numTrees;

  it('prunes trials from their rung loss, and replays the same study from the same losses', async () => {
    const calls: string[] = [];
    const trials = await runTpeStudy(study, async (params, trial) => {
      calls.push(`${trial}:${params.numTrees}`);
      return curveLoss(params);
    });
    expect(trials).toHaveLength(12);
    const pruned = trials.filter((t) => t.pruned);
    expect(pruned.length).toBeGreaterThan(0);
    for (const t of pruned) expect(calls).not.toContain(`trial-${t.id}:90`);
    for (const t of trials.filter((x) => !x.pruned)) expect(calls).toContain(`trial-${t.id}:90`);
    expect(calls.filter((c) => c.endsWith(':30'))).toHaveLength(12);
    // The first waves have no earlier rung losses to compare with: they are never pruned.
    expect(trials.slice(0, 4).every((t) => !t.pruned)).toBe(true);
    expect(bestTrial(trials)!.pruned).toBe(false);

    const again = await runTpeStudy(study, async (params) => curveLoss(params));
    expect(again).toEqual(trials);
  });

  it('starts from a warm study instead of from nothing', async () => {
    const warm: Observation[] = Array.from({ length: 10 }, (_, i) => {
      const params = { rate: 0.01 * 100 ** (i / 9), numTrees: 90 };
      return { params, loss: curveLoss(params) };
    });
    const cold = await runTpeStudy({ ...study, pruning: 'none', trials: 4, concurrency: 1 }, async (p) => curveLoss(p));
    const warmed = await runTpeStudy({ ...study, pruning: 'none', trials: 4, concurrency: 1, warmStart: warm }, async (p) => curveLoss(p));
    // Cold, the 4 startup trials are random; warm, the estimators already know the good region.
    expect(Math.max(...warmed.map((t) => Math.abs(Math.log(t.params.rate / 0.2))))).toBeLessThan(1);
    expect(warmed).not.toEqual(cold);
  });
});

describe('warm start', () => {
  it('keeps earlier trials of the same trainer inside the space, as losses', () => {
    const binary = (rocAuc: number) => ({ task: 'binary', rocAuc });
    const stored = [
      { trainer: { kind: 'gbdt', params: { learningRate: 0.1, maxLeaves: 31 } }, validationMetrics: binary(0.7) },
      { trainer: { kind: 'gbdt', params: { learningRate: 0.9, maxLeaves: 31 } }, validationMetrics: binary(0.8) }, // outside the range
      { trainer: { kind: 'gbdt', params: { learningRate: 0.2, maxLeaves: 30 } }, validationMetrics: binary(0.8) }, // not a listed value
      { trainer: { kind: 'gbdt', params: { learningRate: 0.2 } }, validationMetrics: binary(0.8) }, // a parameter missing
      { trainer: { kind: 'logistic-regression', l2: 0.1 }, validationMetrics: binary(0.9) }, // another trainer
      { trainer: { kind: 'gbdt', params: { learningRate: 0.05, maxLeaves: 63 } }, validationMetrics: { task: 'binary' } }, // no metric
    ];
    const space: Record<string, SearchDimension> = {
      learningRate: { min: 0.01, max: 0.5, scale: 'log', integer: false },
      maxLeaves: [15, 31, 63],
    };
    expect(warmStartObservations(stored, { kind: 'gbdt', space, metric: { name: 'rocAuc', higherIsBetter: true } })).toEqual([
      { params: { learningRate: 0.1, maxLeaves: 31 }, loss: -0.7 },
    ]);
  });
});
