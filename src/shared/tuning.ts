import { z } from 'zod';
import { mulberry32 } from './prng';
import { sampleUniform } from './tpe';
import { searchDimensionSchema, type ParamSet, type SearchDimension } from './search-space';
import { strictObject } from './strict';

/**
 * Hyperparameter search, planned inside the workflow: pure and seeded, so the same config always
 * tries the same trials (and replays deterministically).
 */

export const tuningSpecSchema = strictObject({
  strategy: z
    .enum(['grid', 'random', 'successive-halving', 'tpe'])
    .describe(
      '`grid`: every combination of the listed values; `random`: `trials` seeded draws; `successive-halving`: random draws, the best 1/`eta` kept at each rung with a larger budget; `tpe`: Bayesian sampling (Tree-structured Parzen Estimator), each trial suggested from the trials before it, with optional `pruning`.',
    ),
  space: z
    .record(z.string(), searchDimensionSchema)
    .refine((s) => Object.keys(s).length > 0, { message: 'needs at least one parameter' })
    .describe(
      'Trainer parameter name → candidates. Tunable: `l2`, `maxIterations`, `maxCategories` (linear models); `numTrees`, `learningRate`, `maxLeaves`, `maxDepth`, `minSamplesLeaf`, `lambda`, `subsample`, `colsample`, `maxBins` (gbdt).',
    ),
  trials: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(8)
    .describe('Configurations to sample (random, successive halving); grid tries every combination.'),
  concurrency: z
    .number()
    .int()
    .min(1)
    .max(64)
    .default(2)
    .describe('Trials running at once: the cap that spreads them over the training workers.'),
  seed: z.number().int().min(0).default(0).describe('Sampling seed: the same seed, the same trials.'),
  eta: z
    .number()
    .int()
    .min(2)
    .max(10)
    .default(3)
    .describe(
      'Successive halving keeps the best 1/eta of the trials at each rung; the budget is `maxIterations` (linear models) or `numTrees` (gbdt).',
    ),
  startupTrials: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(10)
    .describe('tpe: trials drawn at random before the estimators take over (warm-start trials count).'),
  candidates: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(24)
    .describe("tpe: draws from the good trials' estimator per parameter, of which the best good/bad density ratio is tried."),
  pruning: z
    .enum(['none', 'median'])
    .default('none')
    .describe(
      'tpe: `median` trains each trial first at smaller budgets (the budget / eta^k, see `pruningRungs`) and stops it at a rung where its validation metric is worse than the median earlier trials reached there.',
    ),
  pruningRungs: z
    .number()
    .int()
    .min(1)
    .max(4)
    .default(1)
    .describe('tpe with pruning: rungs below the full budget, each `eta` times smaller than the next.'),
  pruningMinTrials: z
    .number()
    .int()
    .min(1)
    .max(100)
    .default(3)
    .describe('tpe with pruning: earlier trials needed at a rung before it stops any trial.'),
  warmStart: z
    .boolean()
    .default(false)
    .describe(
      'tpe: start from the trials of earlier tuned runs of the same model (same trainer kind, parameters within this space) instead of from nothing.',
    ),
  metric: z
    .string()
    .optional()
    .describe("Validation metric that ranks trials (a metric of the task; default: the task's primary metric, see task-metrics.ts)."),
}).refine((t) => t.strategy !== 'grid' || Object.values(t.space).every(Array.isArray), {
  message: 'grid search needs an explicit list of values for every parameter',
  path: ['space'],
});
export type TuningSpec = z.infer<typeof tuningSpecSchema>;

/** Every combination, in a fixed order (parameters sorted by name). */
export function gridConfigs(space: Record<string, number[]>): ParamSet[] {
  let configs: ParamSet[] = [{}];
  for (const name of Object.keys(space).sort()) {
    configs = configs.flatMap((config) => space[name].map((value) => ({ ...config, [name]: value })));
  }
  return configs;
}

/** `count` configurations drawn with a seeded generator (mulberry32), parameters in name order. */
export function randomConfigs(space: Record<string, SearchDimension>, count: number, seed: number): ParamSet[] {
  const next = mulberry32(seed);
  return Array.from({ length: count }, () => {
    const config: ParamSet = {};
    for (const name of Object.keys(space).sort()) config[name] = sampleUniform(space[name], next);
    return config;
  });
}

/**
 * Successive halving's rungs: how many trials survive into each rung and the training budget
 * (iterations or trees) each gets. The last rung trains the survivors with the full budget.
 */
export function successiveHalvingRungs(trials: number, maxBudget: number, eta: number): { keep: number; budget: number }[] {
  const rungCount = Math.max(1, Math.floor(Math.log(trials) / Math.log(eta) + 1e-9) + 1);
  const rungs: { keep: number; budget: number }[] = [];
  for (let i = 0; i < rungCount; i++) {
    const keep = Math.max(1, Math.floor(trials / eta ** i));
    const budget = Math.max(1, Math.round(maxBudget / eta ** (rungCount - 1 - i)));
    rungs.push({ keep, budget });
  }
  return rungs;
}

/** Runs `work` over `items` with at most `limit` at a time; results keep the items' order. */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let nextIndex = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (nextIndex < items.length) {
      const index = nextIndex++;
      results[index] = await work(items[index], index);
    }
  });
  await Promise.all(lanes);
  return results;
}
