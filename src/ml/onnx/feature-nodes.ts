import type { FittedCategoricalFeature, FittedFeaturePipeline, FittedNumericFeature } from '../features';
import type { TreeCategoricalFeature, TreeFeaturePipeline } from '../gbdt/tree-pipeline';
import { attribute, floatTensor, node, tensorValueInfo } from './graph-builder';
import { DataType, type NodeProto, type TensorProto, type ValueInfoProto } from './onnx-proto';

/**
 * The feature-pipeline part of keel's ONNX graphs, shared by every model family: graph inputs
 * take raw feature values (float32 [N,1], NaN = missing; string [N,1], '' = missing) and these
 * nodes reproduce, inside the graph, exactly what training applied in TypeScript.
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
  const encoded = pipeline.features.map((feature) =>
    feature.kind === 'numeric' ? standardisedNumericNodes(feature, nodes) : oneHotCategoricalNodes(feature, nodes),
  );
  nodes.push(node('Concat', encoded, ['features'], [attribute.int('axis', 1)]));
  return 'features';
}

/**
 * The tree-model feature pipeline: one float32 column per feature (NaN = missing), as
 * encodeTreeColumns computes them. Returns the name of the [N, features] matrix.
 */
export function treeFeatureNodes(pipeline: TreeFeaturePipeline, nodes: NodeProto[], initializers: TensorProto[]): string {
  initializers.push(nanInitializer());
  const encoded = pipeline.features.map((feature) =>
    feature.kind === 'numeric' ? finiteOrNanNodes(feature.name, nodes) : ordinalCategoricalNodes(feature, nodes),
  );
  nodes.push(node('Concat', encoded, ['features'], [attribute.int('axis', 1)]));
  return 'features';
}

/** The scalar NaN constant `finiteOrNanNodes` refers to; add it once per graph. */
export function nanInitializer(): TensorProto {
  return floatTensor('nan', [], [Number.NaN]);
}

/** Graph inputs for raw feature values, one [N,1] tensor per feature. */
export function rawFeatureInputs(inputs: readonly { name: string; type: 'float32' | 'string' }[]): ValueInfoProto[] {
  return inputs.map(({ name, type }) => tensorValueInfo(name, type === 'float32' ? DataType.FLOAT : DataType.STRING, ['N', 1]));
}

/**
 * IsInf → Where(±Infinity → NaN): an infinite input is missing, as readNumber treats it in
 * training. Returns `<name>/finite_or_nan` (float32 [N,1]).
 */
export function finiteOrNanNodes(name: string, nodes: NodeProto[]): string {
  const value = (step: string) => `${name}/${step}`;
  nodes.push(
    node('IsInf', [name], [value('is_infinite')]),
    node('Where', [value('is_infinite'), 'nan', name], [value('finite_or_nan')]),
  );
  return value('finite_or_nan');
}

/** Linear models' numeric chain: finite or NaN → Imputer(NaN → mean) → Scaler((x - mean) / std). */
export function standardisedNumericNodes({ name, mean, std }: FittedNumericFeature, nodes: NodeProto[]): string {
  const value = (step: string) => `${name}/${step}`;
  const finite = finiteOrNanNodes(name, nodes);
  nodes.push(
    node(
      'Imputer',
      [finite],
      [value('imputed')],
      // replaced_value_float defaults to 0, not NaN: without it NaN would pass through.
      [attribute.floats('imputed_value_floats', [mean]), attribute.float('replaced_value_float', Number.NaN)],
      'ai.onnx.ml',
    ),
    node('Scaler', [value('imputed')], [value('scaled')], [attribute.floats('offset', [mean]), attribute.floats('scale', [1 / std])], 'ai.onnx.ml'),
  );
  return value('scaled');
}

/** Linear models' categorical chain: one-hot over the vocabulary (unknown → all zeros), [N,K]. */
export function oneHotCategoricalNodes({ name, categories }: FittedCategoricalFeature, nodes: NodeProto[]): string {
  const value = (step: string) => `${name}/${step}`;
  nodes.push(
    // zeros = 1: a category outside the vocabulary encodes to all zeros instead of failing.
    node('OneHotEncoder', [name], [value('one_hot')], [attribute.strings('cats_strings', categories), attribute.int('zeros', 1)], 'ai.onnx.ml'),
    // OneHotEncoder appends the category axis: [N,1] → [N,1,K].
    node('Flatten', [value('one_hot')], [value('encoded')], [attribute.int('axis', 1)]),
  );
  return value('encoded');
}

/**
 * Tree models' categorical chain: LabelEncoder (string → float) to the frequency-rank code;
 * '' (missing) → NaN; any other string → categories.length, the unknown code. [N,1] float32.
 */
export function ordinalCategoricalNodes({ name, categories }: TreeCategoricalFeature, nodes: NodeProto[]): string {
  const code = `${name}/code`;
  nodes.push(
    node(
      'LabelEncoder',
      [name],
      [code],
      [
        attribute.strings('keys_strings', [...categories, '']),
        attribute.floats('values_floats', [...categories.map((_, index) => index), Number.NaN]),
        attribute.float('default_float', categories.length),
      ],
      'ai.onnx.ml',
    ),
  );
  return code;
}
