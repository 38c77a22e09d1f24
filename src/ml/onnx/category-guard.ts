import { canonicalCategoriesSchema, canonicalCategory, enumToken, type CanonicalCategories } from '../../shared/category-spellings';
import { CATEGORIES_METADATA } from './canonical-nodes';
import { decodeModel, type NodeProto } from './onnx-proto';

/**
 * A model's categorical inputs as its graph knows them: the training categories (the keys of the
 * encoder that reads the input, or its canonical form) and, when the graph canonicalises
 * (`keel.categories` metadata), the spelling table and the feature's unknown-category policy.
 * Serving screens requests with it (src/serving/unknown-categories.ts); the monitor measures the
 * unknown share of the logged inputs with it.
 */

type UnknownPolicy = 'bucket' | 'reject' | 'nearest';

export interface CategoricalInput {
  name: string;
  known: ReadonlySet<string>;
  policy: UnknownPolicy;
  tokens?: Record<string, string>;
  /** nearest: the known categories by their token. */
  byToken?: ReadonlyMap<string, string>;
}

export interface CategoryGuard {
  inputs: CategoricalInput[];
}

/** The guard of a model's graph, or undefined when it reads no categorical text. */
export function categoryGuardOf(bytes: Uint8Array): CategoryGuard | undefined {
  let model;
  try {
    model = decodeModel(bytes);
  } catch {
    return undefined; // Loading checked the graph already; a model keel cannot read here is not screened.
  }
  const stored = model.metadata_props.find((p) => p.key === CATEGORIES_METADATA);
  const tables: CanonicalCategories = stored ? canonicalCategoriesSchema.parse(JSON.parse(stored.value)) : {};
  const consumers = new Map<string, NodeProto[]>();
  for (const node of model.graph.node) for (const input of node.input) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  const decoder = new TextDecoder();
  const inputs: CategoricalInput[] = [];
  for (const input of model.graph.input) {
    const table = tables[input.name];
    const source = table ? `${input.name}/canonical` : input.name;
    const encoder = (consumers.get(source) ?? []).find(
      (n) => n.op_type === 'OneHotEncoder' || (n.op_type === 'LabelEncoder' && n.output[0]?.endsWith('/code')),
    );
    if (!encoder) continue;
    const keysName = encoder.op_type === 'OneHotEncoder' ? 'cats_strings' : 'keys_strings';
    const keys = (encoder.attribute.find((a) => a.name === keysName)?.strings ?? []).map((k) => decoder.decode(k)).filter((k) => k !== '');
    const policy = table?.unknown ?? 'bucket';
    inputs.push({
      name: input.name,
      known: new Set(keys),
      policy,
      tokens: table?.tokens,
      byToken: policy === 'nearest' ? new Map(keys.map((k) => [enumToken(k), k])) : undefined,
    });
  }
  return inputs.length > 0 ? { inputs } : undefined;
}

/** The category a raw value is scored as, or undefined when it is missing ('' or null). */
export function canonicalOf(input: CategoricalInput, value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  const canonical = canonicalCategory(String(value), input.tokens ? { tokens: input.tokens } : undefined);
  return canonical === '' ? undefined : canonical;
}
