import { z } from 'zod';
import { strictObject } from './strict';

/**
 * Hyperparameters of the histogram gradient-boosted tree trainer. The schema is strict: an
 * unknown key (a typo such as `learning_rate`) is an error, not silently ignored. Defaults follow
 * LightGBM's where the meaning is the same (learning rate 0.1, 31 leaves, 20 rows per leaf, 255
 * bins); the small-data ones (L2 1, early stopping, leaf sizes scaled to the rows: see
 * src/ml/gbdt/small-data.ts) were chosen on `npm run bench:small`. Here in src/shared because the pipeline input embeds it and the
 * workflow validates with it.
 */
export const gbdtObjectives = ['regression', 'binary', 'multiclass'] as const;
export type GbdtObjective = (typeof gbdtObjectives)[number];

export const gbdtParamsSchema = strictObject({
  objective: z
    .enum(gbdtObjectives)
    .describe('regression: squared error; binary: log loss (labels 0/1); multiclass: softmax (labels 0..K-1).'),
  numTrees: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(100)
    .describe('Boosting iterations (one tree each, K trees per iteration for multiclass).'),
  learningRate: z.number().gt(0).max(1).default(0.1).describe('Shrinkage applied to every leaf value.'),
  maxLeaves: z
    .number()
    .int()
    .min(2)
    .max(16_384)
    .default(31)
    .describe(
      'Leaves per tree. Trees grow best-first (the leaf whose split gains most splits next, as LightGBM does) until they have this many leaves or no split is allowed.',
    ),
  maxDepth: z
    .number()
    .int()
    .min(1)
    .max(64)
    .optional()
    .describe('Depth limit (the root is depth 0); unlimited when absent. With maxLeaves ≥ 2^maxDepth trees grow depth-wise.'),
  minSamplesLeaf: z
    .number()
    .int()
    .min(1)
    .max(1e9)
    .optional()
    .describe(
      "Fewest training rows in a leaf (LightGBM min_data_in_leaf). Default: 20 (LightGBM's), a tenth of the training rows below 200 rows; the model records the value used.",
    ),
  minHessianLeaf: z
    .number()
    .min(0)
    .max(1e12)
    .optional()
    .describe(
      'Least sum of hessians in a leaf (LightGBM min_sum_hessian_in_leaf). Default: 1e-3 for regression; for classification 0.01 per row of the smallest leaf (0.01 × minSamplesLeaf), so leaves of rows already predicted near 0 or 1 stop splitting.',
    ),
  lambda: z
    .number()
    .min(0)
    .max(1e12)
    .default(1)
    .describe(
      'L2 penalty on leaf values (LightGBM lambda_l2): value = -G / (H + lambda). Default 1 (LightGBM: 0): on small tables it keeps leaves of a few rows from pushing probabilities to 0/1 (docs/features.md has the evidence).',
    ),
  minSplitGain: z.number().min(0).max(1e12).default(0).describe('A split must gain more than this (LightGBM min_gain_to_split).'),
  maxBins: z.number().int().min(2).max(255).default(255).describe('Value bins per feature (missing values get one more bin of their own).'),
  subsample: z
    .number()
    .gt(0)
    .max(1)
    .default(1)
    .describe('Fraction of the training rows drawn (without replacement, per row) for each iteration.'),
  colsample: z.number().gt(0).max(1).default(1).describe('Fraction of the features drawn for each tree (at least one).'),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .default(0)
    .describe('Seed of the PRNG behind subsample and colsample.'),
  earlyStoppingRounds: z
    .number()
    .int()
    .min(0)
    .max(100_000)
    .optional()
    .describe(
      'Stop when the validation metric has not improved for this many iterations; the model keeps the trees of the best iteration. Default: 20 when there are validation rows (the pipeline always has them), off without; 0 turns it off.',
    ),
  maxCategories: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(1000)
    .describe('Categories per categorical feature, most frequent first; the rest share the unknown code.'),
  categoricalSplits: z
    .enum(['native', 'ordinal'])
    .default('native')
    .describe(
      'How trees split categorical features. native: a split sends a set of categories left (LightGBM-style many-vs-many splits, exported as ONNX BRANCH_MEMBER nodes); ordinal: the frequency-rank code is split like a number.',
    ),
  maxCatThreshold: z
    .number()
    .int()
    .min(1)
    .max(254)
    .default(32)
    .describe('native splits: most categories a split may send left (LightGBM max_cat_threshold).'),
  catSmooth: z
    .number()
    .min(0)
    .max(1e12)
    .default(10)
    .describe(
      'native splits: added to the hessian sum when ordering categories by gradient / hessian, and the fewest rows a category needs to be placed left on its own (LightGBM cat_smooth).',
    ),
  catL2: z
    .number()
    .min(0)
    .max(1e12)
    .default(10)
    .describe('native splits: extra L2 penalty in the gain of a many-vs-many split (LightGBM cat_l2).'),
  minDataPerGroup: z
    .number()
    .int()
    .min(1)
    .max(1e9)
    .default(100)
    .describe(
      'native splits: fewest rows on either side of a many-vs-many split, counted by category group (LightGBM min_data_per_group).',
    ),
  maxCatToOnehot: z
    .number()
    .int()
    .min(1)
    .max(255)
    .default(4)
    .describe(
      'native splits: with at most this many categories (missing counted as one), splits are one category against the rest (LightGBM max_cat_to_onehot).',
    ),
});
