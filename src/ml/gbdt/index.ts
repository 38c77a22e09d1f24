/**
 * keel's histogram gradient-boosted trees: the public API.
 *
 *   trainGbdtInWorkerThread(request | table, { threads, onProgress, checkpointEvery, resumeFrom, signal })
 *     → GbdtModel (plain JSON)           — what the training activity calls
 *   exportGbdtOnnx(model) (src/ml/onnx/export-gbdt.ts) → ONNX bytes, feature pipeline included
 *   predictGbdt(model, rows)             — in-process predictions (equal to the ONNX outputs within 1e-5)
 *   gbdtParamsSchema / parseGbdtParams   — hyperparameters (zod, strict)
 */
export { fitGbdt, prepareGbdt, type GbdtCheckpoint, type GbdtFitOptions, type GbdtProgress, type GbdtTable } from './booster';
export {
  featureImportance,
  gbdtContract,
  predictGbdt,
  predictGbdtColumns,
  predictRawFromEncoded,
  transformRaw,
  type GbdtContract,
  type GbdtModel,
  type GbdtTrainingSummary,
} from './model';
export { metricOf, type GbdtMetric } from './objective';
export { gbdtObjectives, gbdtParamsSchema, parseGbdtParams, type GbdtObjective, type GbdtParams, type GbdtParamsInput } from './params';
export {
  toGbdtTable,
  trainGbdt,
  trainGbdtInWorkerThread,
  type GbdtTrainingRequest,
  type GbdtTrainOptions,
  type GbdtWorkerOptions,
} from './train';
export type { GbdtTree } from './tree';
export { encodeTreeColumns, encodeTreeRows, fitTreePipeline, type TreeFeature, type TreeFeaturePipeline } from './tree-pipeline';
