import { z } from 'zod';

/**
 * Hyperparameters of the histogram gradient-boosted tree trainer. The schema is strict: an
 * unknown key (a typo such as `learning_rate`) is an error, not silently ignored. Defaults follow
 * LightGBM's where the meaning is the same (learning rate 0.1, 31 leaves, 20 rows and 1e-3
 * hessian per leaf, 255 bins). Here in src/shared because the pipeline input embeds it and the
 * workflow validates with it.
 */
export const gbdtObjectives = ['regression', 'binary', 'multiclass'] as const;
export type GbdtObjective = (typeof gbdtObjectives)[number];

export const gbdtParamsSchema = z
  .strictObject({
    /** regression: squared error; binary: log loss (labels 0/1); multiclass: softmax (labels 0..K-1). */
    objective: z.enum(gbdtObjectives),
    /** Boosting iterations (one tree each, K trees per iteration for multiclass). */
    numTrees: z.number().int().min(1).max(100_000).default(100),
    /** Shrinkage applied to every leaf value. */
    learningRate: z.number().gt(0).max(1).default(0.1),
    /**
     * Leaves per tree. Trees grow best-first (the leaf whose split gains most splits next, as
     * LightGBM does) until they have this many leaves or no split is allowed.
     */
    maxLeaves: z.number().int().min(2).max(16_384).default(31),
    /** Depth limit (the root is depth 0); unlimited when absent. With maxLeaves ≥ 2^maxDepth trees grow depth-wise. */
    maxDepth: z.number().int().min(1).max(64).optional(),
    /** Fewest training rows in a leaf (LightGBM min_data_in_leaf). */
    minSamplesLeaf: z.number().int().min(1).max(1e9).default(20),
    /** Least sum of hessians in a leaf (LightGBM min_sum_hessian_in_leaf). */
    minHessianLeaf: z.number().min(0).max(1e12).default(1e-3),
    /** L2 penalty on leaf values (LightGBM lambda_l2): value = -G / (H + lambda). */
    lambda: z.number().min(0).max(1e12).default(0),
    /** A split must gain more than this (LightGBM min_gain_to_split). */
    minSplitGain: z.number().min(0).max(1e12).default(0),
    /** Value bins per feature (missing values get one more bin of their own). */
    maxBins: z.number().int().min(2).max(255).default(255),
    /** Fraction of the training rows drawn (without replacement, per row) for each iteration. */
    subsample: z.number().gt(0).max(1).default(1),
    /** Fraction of the features drawn for each tree (at least one). */
    colsample: z.number().gt(0).max(1).default(1),
    /** Seed of the PRNG behind subsample and colsample. */
    seed: z.number().int().min(0).max(2 ** 32 - 1).default(0),
    /**
     * Stop when the validation metric has not improved for this many iterations; the model keeps
     * the trees of the best iteration. Needs a validation set.
     */
    earlyStoppingRounds: z.number().int().min(1).max(100_000).optional(),
    /** Categories per categorical feature, most frequent first; the rest share the unknown code. */
    maxCategories: z.number().int().min(1).max(1_000_000).default(1000),
  });
