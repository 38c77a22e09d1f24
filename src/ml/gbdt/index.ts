/**
 * keel's histogram gradient-boosted trees: the public API.
 *
 *   trainGbdtInWorkerThread(request | table, { threads, onProgress, checkpointEvery, resumeFrom, signal })
 *     → GbdtModel (plain JSON)           — what the training activity calls
 *   exportGbdtOnnx(model) (src/ml/onnx/export-gbdt.ts) → ONNX bytes, feature pipeline included
 *   predictGbdt(model, rows)             — in-process predictions (equal to the ONNX outputs within 1e-5)
 *   gbdtParamsSchema / parseGbdtParams   — hyperparameters (zod, strict)
 */
export { fitGbdt } from './booster';
export { gbdtContract, predictGbdt, type GbdtModel } from './model';
export { parseGbdtParams } from './params';
export { toGbdtTable, trainGbdt } from './train';
