import { z } from 'zod';

/**
 * What a model predicts. Chosen in the pipeline input (`task`), recorded in every model's
 * contract, and it decides the trainer's objective, the ONNX outputs, the evaluation metrics, the
 * gate's default metric and how the server answers.
 */
export const modelTasks = ['binary', 'multiclass', 'regression'] as const;
export const modelTaskSchema = z.enum(modelTasks);
export type ModelTask = z.infer<typeof modelTaskSchema>;

/**
 * The element type of one [N, 1] model input:
 * - `float32`: a number; NaN = missing;
 * - `string`: a category (or a boolean's text); '' = missing;
 * - `float64`: a timestamp in milliseconds since 1970-01-01T00:00:00Z; NaN = missing. Clients
 *   may send an ISO 8601 string or a number of milliseconds; serving converts (src/ml/row.ts
 *   readTimestamp), and the graph computes the date parts itself.
 */
export const contractInputTypes = ['float32', 'string', 'float64'] as const;
export type ContractInputType = (typeof contractInputTypes)[number];

const outputSchema = z.object({
  name: z.enum(['probability', 'label', 'prediction', 'probabilities']),
  type: z.enum(['float32', 'int64']),
  shape: z.tuple([z.literal(-1), z.number().int().min(1)]),
});
export type ContractOutput = z.infer<typeof outputSchema>;

/**
 * The outputs of a model of each task (every trainer's ONNX export follows this):
 * - binary: `probability` float32 [N,1] = P(target = 1), `label` int64 [N,1] (1 when probability >
 *   the model's threshold);
 * - multiclass: `probabilities` float32 [N,K] in `classes` order, `label` int64 [N,1] = the index
 *   in `classes` of the most probable class;
 * - regression: `prediction` float32 [N,1].
 */
export function contractOutputs(task: ModelTask, classCount = 2): ContractOutput[] {
  switch (task) {
    case 'binary':
      return [
        { name: 'probability', type: 'float32', shape: [-1, 1] },
        { name: 'label', type: 'int64', shape: [-1, 1] },
      ];
    case 'multiclass':
      return [
        { name: 'probabilities', type: 'float32', shape: [-1, classCount] },
        { name: 'label', type: 'int64', shape: [-1, 1] },
      ];
    case 'regression':
      return [{ name: 'prediction', type: 'float32', shape: [-1, 1] }];
  }
}

/**
 * How a GBDT with native categorical splits is exported (absent for every other model): an
 * ai.onnx.ml opset 5 `TreeEnsemble` whose categorical nodes test set membership (BRANCH_MEMBER),
 * or, for runtimes without opset 5, `TreeEnsembleRegressor` at opset 3 with chains of BRANCH_EQ.
 */
export const treeEnsembleExportSchema = z
  .object({
    op: z.enum(['TreeEnsemble', 'TreeEnsembleRegressor']).describe('The ONNX operator of the ensemble.'),
    mlOpset: z.union([z.literal(5), z.literal(3)]).describe('The ai.onnx.ml opset the graph imports.'),
    categoricalSplits: z
      .enum(['BRANCH_MEMBER', 'BRANCH_EQ chains'])
      .describe('How a categorical split is written: one set-membership node, or a chain of equality tests sharing the left child.'),
  })
  .describe('How the tree ensemble with native categorical splits is exported.');
export type TreeEnsembleExport = z.infer<typeof treeEnsembleExportSchema>;

/**
 * A feature view some inputs come from: the version the model was trained with, the join keys a
 * request must carry, the inputs it fills, and what a missing or stale entity becomes.
 */
export const contractFeatureViewSchema = z.object({
  view: z.string().min(1).describe('The feature view.'),
  version: z
    .string()
    .min(1)
    .describe('The view version the training set was built with; online values of another version count as missing.'),
  joinKeys: z.array(z.string().min(1)).min(1).describe('The request fields that identify the entity.'),
  features: z.array(z.string().min(1)).min(1).describe('The model inputs this view fills.'),
  onMissing: z.enum(['default', 'nan', 'reject']).describe("A missing or stale entity: each feature's default, NaN, or a 422."),
  defaults: z.record(z.string(), z.number()).default({}).describe('`default`: the value per feature (0 when not listed).'),
  ttlMs: z.number().positive().optional().describe('Values whose newest event is older than this (before the request) are stale.'),
});
export type ContractFeatureView = z.output<typeof contractFeatureViewSchema>;

/**
 * The contract a registered model version stores in `model_versions.contract`: its raw inputs
 * and its outputs. Contracts stored before tasks existed have no `task`: they are binary.
 * The server trusts neither the database row nor the artifact blindly: the contract is parsed
 * with this schema, and checked against the ONNX graph, before a version may serve.
 */
export const modelContractSchema = z
  .object({
    task: modelTaskSchema.default('binary'),
    inputs: z
      .array(z.object({ name: z.string().min(1), type: z.enum(contractInputTypes) }))
      .min(1)
      .refine((inputs) => new Set(inputs.map((i) => i.name)).size === inputs.length, 'input names must be unique'),
    /** multiclass only: the class names; output index i is classes[i]. */
    classes: z.array(z.string()).min(2).optional(),
    /** Inputs the server fills from the online feature store, by view (./feature-store.ts). */
    featureViews: z.array(contractFeatureViewSchema).optional(),
    outputs: z.array(outputSchema),
    threshold: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe(
        'binary only: the decision threshold of the `label` output (1 when probability > threshold). Evaluation scores the version with it, so a retrain of the same model gets the same metrics.',
      ),
    treeEnsemble: treeEnsembleExportSchema.optional(),
  })
  .superRefine((contract, ctx) => {
    if (contract.threshold !== undefined && contract.task !== 'binary') {
      ctx.addIssue({
        code: 'custom',
        path: ['threshold'],
        message: `only a binary contract has a decision threshold, this one is ${contract.task}`,
      });
    }
    if (contract.task === 'multiclass' && !contract.classes) {
      ctx.addIssue({ code: 'custom', path: ['classes'], message: 'a multiclass contract must list its classes' });
    }
    const expected = contractOutputs(contract.task, contract.classes?.length ?? 2);
    for (const want of expected) {
      const got = contract.outputs.find((o) => o.name === want.name);
      if (!got || got.type !== want.type || got.shape[1] !== want.shape[1]) {
        ctx.addIssue({
          code: 'custom',
          path: ['outputs'],
          message: `a ${contract.task} model must output ${want.name} ${want.type} [N,${want.shape[1]}]`,
        });
      }
    }
  });
/** A parsed contract (task filled in). */
export type ModelContract = z.output<typeof modelContractSchema>;
