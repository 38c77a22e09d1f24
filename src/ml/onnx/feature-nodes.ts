import type { ContractInputType } from '../../shared/model-contract';
import {
  numericScaling,
  type FittedCategoricalFeature,
  type FittedDatetimeFeature,
  type FittedFeature,
  type FittedFeaturePipeline,
  type FittedNumericFeature,
} from '../features';
import type { Clip } from '../feature-fit';
import type { TreeCategoricalFeature, TreeFeature, TreeFeaturePipeline, TreeNumericFeature } from '../gbdt/tree-pipeline';
import { booleanSpellings } from '../row';
import { datePartNodes } from './date-part-nodes';
import { attribute, doubleTensor, floatTensor, node, tensorValueInfo } from './graph-builder';
import { DataType, type NodeProto, type TensorProto, type ValueInfoProto } from './onnx-proto';

/**
 * The feature-pipeline part of keel's ONNX graphs, shared by every model family: graph inputs
 * take raw feature values (float32 [N,1], NaN = missing; string [N,1], '' = missing; float64
 * [N,1] epoch milliseconds, NaN = missing) and these nodes reproduce, inside the graph, exactly
 * what training applied in TypeScript (features.ts for linear models, gbdt/tree-pipeline.ts for
 * trees). docs/features.md lists the nodes per option.
 *
 * Each function appends its nodes to `nodes` and returns the name of its output. Node and value
 * names are `<feature>/<step>`: unique per graph, and stable (the exported bytes depend on them).
 */

/**
 * The whole linear-model feature pipeline: appends its nodes and initializers and returns the
 * name of the encoded float32 [N, pipeline.width] matrix, columns in pipeline order (what the
 * model's weights multiply). Every linear model family (logistic, multinomial, ridge) uses it.
 */
export function linearFeatureNodes(pipeline: FittedFeaturePipeline, nodes: NodeProto[], initializers: TensorProto[]): string {
  initializers.push(nanInitializer());
  const encoded = pipeline.features.flatMap((feature) => linearEncodingNodes(feature, nodes, initializers));
  nodes.push(node('Concat', encoded, ['features'], [attribute.int('axis', 1)]));
  return 'features';
}

/**
 * The tree-model feature pipeline: one float32 column per feature and per datetime part (NaN =
 * missing), as encodeTreeColumns computes them. Returns the name of the [N, columns] matrix.
 */
export function treeFeatureNodes(pipeline: TreeFeaturePipeline, nodes: NodeProto[], initializers: TensorProto[]): string {
  initializers.push(nanInitializer());
  const encoded = pipeline.features.flatMap((feature) => treeEncodingNodes(feature, nodes, initializers));
  nodes.push(node('Concat', encoded, ['features'], [attribute.int('axis', 1)]));
  return 'features';
}

/** The scalar NaN constant `finiteOrNanNodes` refers to; add it once per graph. */
function nanInitializer(): TensorProto {
  return floatTensor('nan', [], [Number.NaN]);
}

/** Graph inputs for raw feature values, one [N,1] tensor per feature. */
export function rawFeatureInputs(inputs: readonly { name: string; type: ContractInputType }[]): ValueInfoProto[] {
  const elementType = { float32: DataType.FLOAT, string: DataType.STRING, float64: DataType.DOUBLE } as const;
  return inputs.map(({ name, type }) => tensorValueInfo(name, elementType[type], ['N', 1]));
}

function linearEncodingNodes(feature: FittedFeature, nodes: NodeProto[], initializers: TensorProto[]): string[] {
  switch (feature.kind) {
    case 'numeric':
      return [standardisedNumericNodes(feature, nodes, initializers)];
    case 'categorical':
      return [feature.encoding ? categoryCodeNodes(feature, nodes) : oneHotCategoricalNodes(feature, nodes)];
    case 'boolean':
      return [booleanNodes(feature.name, feature.share, nodes)];
    case 'datetime':
      return linearDatetimeNodes(feature, nodes, initializers);
  }
}

function treeEncodingNodes(feature: TreeFeature, nodes: NodeProto[], initializers: TensorProto[]): string[] {
  switch (feature.kind) {
    case 'numeric':
      return [treeNumericNodes(feature, nodes, initializers)];
    case 'categorical':
      return [feature.encoding === 'frequency' ? frequencyCategoricalNodes(feature, nodes) : ordinalCategoricalNodes(feature, nodes)];
    case 'boolean':
      return [booleanNodes(feature.name, Number.NaN, nodes)];
    case 'datetime': {
      const parts = datePartNodes(feature.name, feature.parts, nodes, initializers);
      return feature.parts.map((part) => castToFloat(parts[part], `${feature.name}/${part}/float`, nodes));
    }
  }
}

/**
 * IsInf → Where(±Infinity → NaN): an infinite input is missing, as readNumber treats it in
 * training. Returns `<name>/finite_or_nan` (float32 [N,1]).
 */
function finiteOrNanNodes(name: string, nodes: NodeProto[]): string {
  const value = (step: string) => `${name}/${step}`;
  nodes.push(node('IsInf', [name], [value('is_infinite')]), node('Where', [value('is_infinite'), 'nan', name], [value('finite_or_nan')]));
  return value('finite_or_nan');
}

/**
 * Clamps `input` into the clip range with Less/Greater → Where, which keep NaN (missing) as it
 * is — Clip's NaN behaviour is not specified. Returns `<name>/clipped`, or `input` without a clip.
 */
function clipNodes(name: string, input: string, clip: Clip | undefined, nodes: NodeProto[], initializers: TensorProto[]): string {
  if (!clip) return input;
  let value = input;
  for (const [bound, comparison] of [
    ['min', 'Less'],
    ['max', 'Greater'],
  ] as const) {
    const limit = clip[bound];
    if (limit === undefined) continue;
    const constant = `${name}/clip_${bound}`;
    initializers.push(floatTensor(constant, [], [limit]));
    nodes.push(
      node(comparison, [value, constant], [`${name}/beyond_${bound}`]),
      node('Where', [`${name}/beyond_${bound}`, constant, value], [`${name}/clipped_${bound}`]),
    );
    value = `${name}/clipped_${bound}`;
  }
  return value;
}

/** Imputer(NaN → fill): replaced_value_float defaults to 0, not NaN, so it must be set. */
function imputerNode(input: string, output: string, fill: number): NodeProto {
  return node(
    'Imputer',
    [input],
    [output],
    [attribute.floats('imputed_value_floats', [fill]), attribute.float('replaced_value_float', Number.NaN)],
    'ai.onnx.ml',
  );
}

/**
 * Linear models' numeric chain: finite or NaN → [clip] → Imputer(NaN → fill, default the mean)
 * → Scaler((x - offset) / divisor: standard or minmax; none: no Scaler).
 */
function standardisedNumericNodes(feature: FittedNumericFeature, nodes: NodeProto[], initializers: TensorProto[]): string {
  const { name } = feature;
  const value = (step: string) => `${name}/${step}`;
  const clipped = clipNodes(name, finiteOrNanNodes(name, nodes), feature.clip, nodes, initializers);
  nodes.push(imputerNode(clipped, value('imputed'), feature.fill ?? feature.mean));
  if (feature.scale === 'none') return value('imputed');
  const { offset, divisor } = numericScaling(feature);
  nodes.push(
    node(
      'Scaler',
      [value('imputed')],
      [value('scaled')],
      [attribute.floats('offset', [offset]), attribute.floats('scale', [1 / divisor])],
      'ai.onnx.ml',
    ),
  );
  return value('scaled');
}

/** Tree models' numeric chain: finite or NaN → [clip] → [Imputer(NaN → fill) when imputation is configured]. */
function treeNumericNodes(feature: TreeNumericFeature, nodes: NodeProto[], initializers: TensorProto[]): string {
  const clipped = clipNodes(feature.name, finiteOrNanNodes(feature.name, nodes), feature.clip, nodes, initializers);
  if (feature.fill === undefined) return clipped;
  nodes.push(imputerNode(clipped, `${feature.name}/imputed`, feature.fill));
  return `${feature.name}/imputed`;
}

/** Linear models' categorical chain: one-hot over the vocabulary (unknown → all zeros), [N,K]. */
function oneHotCategoricalNodes({ name, categories }: FittedCategoricalFeature, nodes: NodeProto[]): string {
  const value = (step: string) => `${name}/${step}`;
  nodes.push(
    // zeros = 1: a category outside the vocabulary encodes to all zeros instead of failing.
    node(
      'OneHotEncoder',
      [name],
      [value('one_hot')],
      [attribute.strings('cats_strings', categories), attribute.int('zeros', 1)],
      'ai.onnx.ml',
    ),
    // OneHotEncoder appends the category axis: [N,1] → [N,1,K].
    node('Flatten', [value('one_hot')], [value('encoded')], [attribute.int('axis', 1)]),
  );
  return value('encoded');
}

/** A LabelEncoder string → float32, [N,1]: `keys[i]` → `values[i]`, anything else → `otherwise`. */
function labelEncoderNode(input: string, output: string, keys: string[], values: number[], otherwise: number): NodeProto {
  return node(
    'LabelEncoder',
    [input],
    [output],
    [attribute.strings('keys_strings', keys), attribute.floats('values_floats', values), attribute.float('default_float', otherwise)],
    'ai.onnx.ml',
  );
}

/**
 * Linear models' single-column category codes: ordinal (frequency rank; unknown or missing →
 * categories.length) or frequency (share of training rows; unknown or missing → 0).
 */
function categoryCodeNodes({ name, categories, encoding, shares }: FittedCategoricalFeature, nodes: NodeProto[]): string {
  const code = `${name}/code`;
  if (encoding === 'frequency') nodes.push(labelEncoderNode(name, code, categories, shares ?? [], 0));
  else
    nodes.push(
      labelEncoderNode(
        name,
        code,
        categories,
        categories.map((_, index) => index),
        categories.length,
      ),
    );
  return code;
}

/**
 * Tree models' categorical chain: LabelEncoder (string → float) to the frequency-rank code;
 * '' (missing) → NaN; any other string → categories.length, the unknown code. [N,1] float32.
 */
function ordinalCategoricalNodes({ name, categories }: TreeCategoricalFeature, nodes: NodeProto[]): string {
  const code = `${name}/code`;
  nodes.push(labelEncoderNode(name, code, [...categories, ''], [...categories.map((_, index) => index), Number.NaN], categories.length));
  return code;
}

/** Tree models' frequency encoding: the category's share; '' (missing) → NaN; unknown → 0. */
function frequencyCategoricalNodes({ name, categories, shares }: TreeCategoricalFeature, nodes: NodeProto[]): string {
  const code = `${name}/code`;
  nodes.push(labelEncoderNode(name, code, [...categories, ''], [...(shares ?? []), Number.NaN], 0));
  return code;
}

/**
 * A boolean's text → 1 / 0 through the same spelling table readBoolean uses; anything else
 * (including '', missing) → `missing`: the training share of true for linear models, NaN for trees.
 */
function booleanNodes(name: string, missing: number, nodes: NodeProto[]): string {
  const output = `${name}/bit`;
  nodes.push(labelEncoderNode(name, output, [...booleanSpellings.keys()], [...booleanSpellings.values()], missing));
  return output;
}

function castToFloat(input: string, output: string, nodes: NodeProto[]): string {
  nodes.push(node('Cast', [input], [output], [attribute.int('to', DataType.FLOAT)]));
  return output;
}

/**
 * Linear models' datetime chain: the parts (date-part-nodes.ts), then per part either
 * Equal(part, training values [1,K]) → Cast → one-hot [N,K] (NaN equals nothing: all zeros), or
 * Cast → Imputer(NaN → mean) → Scaler((x - mean) / std).
 */
function linearDatetimeNodes({ name, parts }: FittedDatetimeFeature, nodes: NodeProto[], initializers: TensorProto[]): string[] {
  const values = datePartNodes(
    name,
    parts.map(({ part }) => part),
    nodes,
    initializers,
  );
  return parts.map((fitted) => {
    const value = (step: string) => `${name}/${fitted.part}/${step}`;
    if (fitted.encoding === 'one-hot') {
      initializers.push(doubleTensor(value('values'), [1, fitted.values.length], fitted.values));
      nodes.push(node('Equal', [values[fitted.part], value('values')], [value('is_value')]));
      return castToFloat(value('is_value'), value('one_hot'), nodes);
    }
    const float = castToFloat(values[fitted.part], value('float'), nodes);
    nodes.push(
      imputerNode(float, value('imputed'), fitted.mean),
      node(
        'Scaler',
        [value('imputed')],
        [value('scaled')],
        [attribute.floats('offset', [fitted.mean]), attribute.floats('scale', [1 / fitted.std])],
        'ai.onnx.ml',
      ),
    );
    return value('scaled');
  });
}
