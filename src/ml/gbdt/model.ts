import { contractOutputs, type ContractInputType, type ContractOutput, type TreeEnsembleExport } from '../../shared/model-contract';
import type { Row } from '../row';
import type { GbdtMetric } from './objective';
import type { GbdtObjective, GbdtParams } from './params';
import { addLeafValues, flattenTrees, type FlatEnsemble } from './flat-ensemble';
import type { GbdtTree } from './tree';
import { encodeTreeColumns, encodeTreeRows, treeColumnNames, type TreeFeaturePipeline } from './tree-pipeline';
import { contractInputs } from '../feature-contract';
import type { FeatureColumn } from '../feature-columns';

/** A trained gradient-boosted tree model as stored (plain JSON). */
export interface GbdtModel {
  kind: 'gbdt';
  objective: GbdtObjective;
  /** The label column it was trained to predict. */
  target: string;
  /** Raw scores per row: 1 (regression, binary) or K (multiclass, one per class). */
  outputs: number;
  /**
   * multiclass: the class names; output k is classes[k] (see labels.ts classLabels). Absent in
   * multiclass models trained before class names existed, whose classes were 0..K-1.
   */
  classes?: string[];
  pipeline: TreeFeaturePipeline;
  /** Every hyperparameter, defaults filled in. */
  params: GbdtParams;
  /** Raw score before the first tree, per output. */
  baseScores: number[];
  /** In boosting order; tree i adds to output i % outputs. */
  trees: GbdtTree[];
  /** Binary only: `label` is 1 when probability > threshold (0.5 unless set from validation). */
  threshold?: number;
  training: GbdtTrainingSummary;
}

interface GbdtTrainingSummary {
  /** Boosting iterations run. */
  iterations: number;
  /** Iterations whose trees the model keeps: the best on validation with early stopping, else all. */
  bestIteration: number;
  stoppedEarly: boolean;
  /** The learning-curve metric (lower is better). */
  metric: GbdtMetric;
  /** The metric on the training rows after each iteration (index i: after iteration i + 1). */
  trainCurve: number[];
  /** The same on the validation rows; null without a validation set. */
  validationCurve: number[] | null;
  rows: number;
  validationRows: number;
  /** Value bins per feature (each also has a bin for missing values). */
  bins: number[];
  /** sha256 of the binned training (and validation) data, labels and parameters. */
  dataDigest: string;
}

/**
 * Raw scores (row-major, `outputs` per row) for float32 feature columns: the sum of the base
 * score and of the leaf values, in float64, trees in order.
 */
function predictRawFromEncoded(model: GbdtModel, columns: readonly Float32Array[]): Float64Array {
  const n = columns.length ? columns[0].length : 0;
  const k = model.outputs;
  const out = new Float64Array(n * k);
  for (let r = 0; r < n; r++) for (let j = 0; j < k; j++) out[r * k + j] = model.baseScores[j];
  addLeafValues(flatTreesOf(model), columns, k, out);
  return out;
}

/** Models are scored many times (a server's reference predictor per request): flatten each once. */
const flattened = new WeakMap<GbdtModel, FlatEnsemble>();
function flatTreesOf(model: GbdtModel): FlatEnsemble {
  let flat = flattened.get(model);
  if (!flat) flattened.set(model, (flat = flattenTrees(model.trees)));
  return flat;
}

/** What the model outputs for raw rows, in float64; read as serving reads them (see row.ts). */
export function predictGbdt(model: GbdtModel, rows: readonly Row[]): Float64Array {
  return transformRaw(model, predictRawFromEncoded(model, encodeTreeRows(model.pipeline, rows)));
}

export function predictGbdtColumns(model: GbdtModel, columns: readonly FeatureColumn[]): Float64Array {
  return transformRaw(model, predictRawFromEncoded(model, encodeTreeColumns(model.pipeline, columns)));
}

/**
 * regression: the prediction; binary: P(target = 1); multiclass: class probabilities, row-major
 * (K per row). The same transforms as the ONNX graph (Sigmoid, Softmax).
 */
function transformRaw(model: GbdtModel, raw: Float64Array): Float64Array {
  if (model.objective === 'regression') return raw;
  if (model.objective === 'binary') return raw.map((z) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z))));
  const k = model.outputs;
  const out = new Float64Array(raw.length);
  for (let base = 0; base < raw.length; base += k) {
    let max = raw[base];
    for (let j = 1; j < k; j++) max = Math.max(max, raw[base + j]);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += out[base + j] = Math.exp(raw[base + j] - max);
    for (let j = 0; j < k; j++) out[base + j] /= sum;
  }
  return out;
}

/**
 * What the exported ONNX model takes and returns. Inputs: one [N, 1] tensor per feature, named
 * as the feature (float32 for numeric features, NaN = missing; string for categorical ones,
 * '' = missing). Outputs by objective (contractOutputs in src/shared/model-contract.ts):
 * - binary: `probability` float32 [N,1] and `label` int64 [N,1] — the logistic model's contract;
 * - regression: `prediction` float32 [N,1];
 * - multiclass: `probabilities` float32 [N,K] and `label` int64 [N,1] (the most probable class).
 *
 * `task` and `classes` are written for regression and multiclass; a binary contract keeps the
 * shape it had before tasks existed (binary is the default), so its ONNX bytes do not change.
 * `treeEnsemble` is written only for models with native categorical splits: how the export
 * writes them (`categoricalNodes`, see exportGbdtOnnx).
 */
export interface GbdtContract {
  task?: 'regression' | 'multiclass';
  inputs: { name: string; type: ContractInputType }[];
  classes?: string[];
  outputs: ContractOutput[];
  /** Only for models with native categorical splits: how the ensemble is exported. */
  treeEnsemble?: TreeEnsembleExport;
}

export function gbdtContract(model: GbdtModel, categoricalNodes: 'member' | 'equality-chains' = 'member'): GbdtContract {
  const inputs = contractInputs(model.pipeline.features);
  const categorical = model.trees.some((tree) => tree.leftCategories?.some((codes) => codes !== null));
  const treeEnsemble: Pick<GbdtContract, 'treeEnsemble'> = !categorical
    ? {}
    : categoricalNodes === 'member'
      ? { treeEnsemble: { op: 'TreeEnsemble', mlOpset: 5, categoricalSplits: 'BRANCH_MEMBER' } }
      : { treeEnsemble: { op: 'TreeEnsembleRegressor', mlOpset: 3, categoricalSplits: 'BRANCH_EQ chains' } };
  switch (model.objective) {
    case 'binary':
      return { inputs, outputs: contractOutputs('binary'), ...treeEnsemble };
    case 'regression':
      return { task: 'regression', inputs, outputs: contractOutputs('regression'), ...treeEnsemble };
    case 'multiclass':
      return {
        task: 'multiclass',
        inputs,
        classes: gbdtClasses(model),
        outputs: contractOutputs('multiclass', model.outputs),
        ...treeEnsemble,
      };
  }
}

/** A multiclass model's class names (0..K-1 for models stored before names existed). */
export function gbdtClasses(model: GbdtModel): string[] {
  return model.classes ? [...model.classes] : Array.from({ length: model.outputs }, (_, k) => String(k));
}

/** Total split gain per feature, in pipeline order (feature importance by gain). */
export function featureImportance(model: GbdtModel): { name: string; gain: number; splits: number }[] {
  const result = treeColumnNames(model.pipeline).map((name) => ({ name, gain: 0, splits: 0 }));
  for (const tree of model.trees) {
    tree.feature.forEach((f, node) => {
      result[f].gain += tree.gain[node];
      result[f].splits++;
    });
  }
  return result;
}
