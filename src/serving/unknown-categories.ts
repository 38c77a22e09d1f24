import { CATEGORIES_METADATA } from '../ml/onnx/canonical-nodes';
import { decodeModel, type NodeProto } from '../ml/onnx/onnx-proto';
import { canonicalCategory, canonicalCategoriesSchema, enumToken, type CanonicalCategories } from '../shared/category-spellings';
import { type Instance, RequestError, show } from './predict';

/**
 * Unknown categories at serving. A model's categorical inputs, read from its graph when it loads:
 * the training categories (the keys of the encoder that reads the input, or its canonical form)
 * and, when the graph canonicalises (`keel.categories` metadata), the spelling table and the
 * feature's policy. A request's value is unknown when its canonical form is none of the training
 * categories; every unknown value is counted, then per policy:
 *   bucket (default) — scored as the unknown category, as the graph does by itself;
 *   reject — the request is answered 422, naming the instance, the feature and the value;
 *   nearest — scored as the known category whose token is nearest by edit distance (at most 2),
 *             else bucketed.
 */

export type UnknownPolicy = 'bucket' | 'reject' | 'nearest';

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

const NEAREST_MAX_DISTANCE = 2;

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

export interface Screened {
  /** Unknown values per feature in this request (features without any are absent). */
  unknown: Record<string, number>;
  /** The instances to score when `nearest` replaced a value (the log keeps what was sent). */
  rewritten?: Instance[];
  /** A 422 naming the first value a `reject` feature refused; the request is not scored. */
  rejection?: RequestError;
}

/** Counts the unknown values of a request and applies each feature's policy (`reject`: the 422 to answer). */
export function screenCategories(guard: CategoryGuard, instances: readonly Instance[]): Screened {
  const unknown: Record<string, number> = {};
  let rewritten: Instance[] | undefined;
  let rejection: RequestError | undefined;
  for (const input of guard.inputs) {
    for (let i = 0; i < instances.length; i++) {
      const value = instances[i][input.name];
      if (value === null || value === undefined) continue;
      const raw = String(value);
      const canonical = canonicalCategory(raw, input.tokens ? { tokens: input.tokens } : undefined);
      if (canonical === '' || input.known.has(canonical)) continue;
      unknown[input.name] = (unknown[input.name] ?? 0) + 1;
      if (input.policy === 'reject') {
        rejection ??= new RequestError(
          422,
          `instances[${i}].${input.name}: unknown category ${show(value)} (feature "${input.name}" rejects values outside its ${input.known.size} training categories)`,
        );
        continue;
      }
      if (input.policy === 'nearest') {
        const nearest = nearestCategory(enumToken(canonical), input.byToken!);
        if (nearest !== undefined) {
          rewritten ??= instances.map((instance) => ({ ...instance }));
          rewritten[i][input.name] = nearest;
        }
      }
    }
  }
  return { unknown, ...(rewritten && { rewritten }), ...(rejection && { rejection }) };
}

function nearestCategory(token: string, byToken: ReadonlyMap<string, string>): string | undefined {
  let best: string | undefined;
  let bestDistance = NEAREST_MAX_DISTANCE + 1;
  for (const [known, category] of byToken) {
    if (Math.abs(known.length - token.length) >= bestDistance) continue;
    const distance = editDistance(token, known, bestDistance);
    if (distance < bestDistance || (distance === bestDistance && best !== undefined && category < best)) {
      bestDistance = distance;
      best = category;
    }
  }
  return bestDistance <= NEAREST_MAX_DISTANCE ? best : undefined;
}

/** Levenshtein distance, giving up (returning `limit`) once every path exceeds it. */
function editDistance(a: string, b: string, limit: number): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      rowMin = Math.min(rowMin, current[j]);
    }
    if (rowMin >= limit) return limit;
    previous = current;
  }
  return Math.min(previous[b.length], limit);
}
