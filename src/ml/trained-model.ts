import { gbdtContract, predictGbdt } from './gbdt/model';
import type { GbdtModel } from './gbdt/model';
import { modelContract, predictProba, type LogisticModel, type ModelContract } from './model';
import { exportGbdtOnnx } from './onnx/export-gbdt';
import { exportLogisticOnnx } from './onnx/export-logistic';
import type { Row } from './row';

/** Every model keel trains itself, as stored (JSON) in the artifact store. */
export type TrainedModel = LogisticModel | GbdtModel;

/** The learning curve as stored with a training run: per-iteration metric on train (and validation). */
export interface LearningCurve {
  metric: string;
  train: number[];
  validation: number[] | null;
}

/** P(positive) per row, computed in process exactly as the exported ONNX graph computes it. */
export function predictProbability(model: TrainedModel, rows: readonly Row[]): Float64Array {
  return model.kind === 'gbdt' ? predictGbdt(model, rows) : predictProba(model, rows);
}

export function exportOnnx(model: TrainedModel): Uint8Array {
  return model.kind === 'gbdt' ? exportGbdtOnnx(model) : exportLogisticOnnx(model);
}

export function contractOf(model: TrainedModel): ModelContract {
  return model.kind === 'gbdt' ? (gbdtContract(model) as ModelContract) : modelContract(model);
}

export function learningCurveOf(model: TrainedModel): LearningCurve {
  if (model.kind === 'gbdt') {
    return { metric: model.training.metric, train: model.training.trainCurve, validation: model.training.validationCurve };
  }
  return { metric: 'objective (mean log loss + L2)', train: model.training.lossHistory, validation: null };
}

/** Sets the decision threshold of a binary model (the ONNX `label` output uses it). */
export function withThreshold<T extends TrainedModel>(model: T, threshold: number): T {
  return { ...model, threshold };
}

/** Reads a stored learning curve, including the bare loss arrays recorded by keel's first version. */
export function readLearningCurve(stored: unknown): LearningCurve {
  if (Array.isArray(stored)) return { metric: 'objective (mean log loss + L2)', train: stored as number[], validation: null };
  const curve = stored as Partial<LearningCurve> | null;
  return { metric: curve?.metric ?? 'unknown', train: curve?.train ?? [], validation: curve?.validation ?? null };
}
