import type { CanonicalCategories } from '../../shared/category-spellings';
import { attribute, int64Tensor, node, stringTensor } from './graph-builder';
import { decodeModel, encodeModel, type NodeProto, type TensorProto } from './onnx-proto';

/**
 * Serving-time canonicalisation of categorical text inside the graph, so a request spelled as the
 * sources spelled it ("MALE", " Heat-Pump ") is scored as the canonical value ingest stored
 * ("male", "heat_pump"), not as an unknown category. Per feature of the table:
 *
 *   StringSplit(maxsplit 0)  → the value trimmed (Concat a blank column first: an all-blank batch
 *                              yields no column, and Gather needs one)
 *   RegexFullMatch per canonical value, over the raw value: any spelling whose enumToken is one of
 *   that value's tokens — case-insensitive, runs of space, `-` and `_` as one separator, blanks
 *   around it — then Where(match, canonical, previous).
 *
 * The feature's nodes then read `<feature>/canonical` instead of the raw input. ONNX opset 20
 * (StringSplit, RegexFullMatch), which onnxruntime runs on the CPU since 1.17. RE2's `\s` is ASCII
 * whitespace, JavaScript's also Unicode spaces: a value padded with, say, a no-break space is not
 * trimmed by the graph.
 */
/** The metadata key holding the tables and unknown-category policies of a canonicalising graph. */
export const CATEGORIES_METADATA = 'keel.categories';

export function withCanonicalCategories(bytes: Uint8Array, table: CanonicalCategories): Uint8Array {
  const features = Object.keys(table).sort();
  if (features.length === 0) return bytes;
  const model = decodeModel(bytes);
  const graph = model.graph;
  const inputs = new Set(graph.input.map((i) => i.name));
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const rewired = new Map<string, string>();
  for (const feature of features) {
    if (!inputs.has(feature)) continue;
    rewired.set(feature, canonicalNodes(feature, table[feature].tokens, nodes, initializers));
  }
  if (rewired.size === 0) return bytes;
  for (const n of graph.node) n.input = n.input.map((name) => rewired.get(name) ?? name);
  graph.node = [...nodes, ...graph.node];
  graph.initializer = [...initializers, ...graph.initializer];
  model.opset_import = model.opset_import.map((o) => (o.domain === '' ? { ...o, version: Math.max(o.version, 20) } : o));
  model.ir_version = Math.max(model.ir_version, 9);
  // The server reads the tables and policies back (src/serving/unknown-categories.ts).
  const served = Object.fromEntries(features.filter((f) => rewired.has(f)).map((f) => [f, table[f]]));
  model.metadata_props = [...model.metadata_props, { key: CATEGORIES_METADATA, value: JSON.stringify(served) }];
  return encodeModel(model);
}

function canonicalNodes(name: string, tokens: Record<string, string>, nodes: NodeProto[], initializers: TensorProto[]): string {
  const value = (step: string) => `${name}/${step}`;
  initializers.push(int64Tensor(value('axis_2'), [1], [2]), int64Tensor(value('first'), [], [0]));
  nodes.push(
    node('StringSplit', [name], [value('trim_parts'), value('trim_count')], [attribute.int('maxsplit', 0)]),
    node(
      'LabelEncoder',
      [name],
      [value('blank')],
      [attribute.strings('keys_strings', ['']), attribute.strings('values_strings', ['']), attribute.string('default_string', '')],
      'ai.onnx.ml',
    ),
    node('Unsqueeze', [value('blank'), value('axis_2')], [value('blank_column')]),
    node('Concat', [value('trim_parts'), value('blank_column')], [value('trim_padded')], [attribute.int('axis', 2)]),
    node('Gather', [value('trim_padded'), value('first')], [value('trimmed')], [attribute.int('axis', 2)]),
  );
  const byCanonical = new Map<string, string[]>();
  for (const [token, canonical] of Object.entries(tokens)) byCanonical.set(canonical, [...(byCanonical.get(canonical) ?? []), token]);
  const canonicals = [...byCanonical.keys()].sort();
  if (canonicals.length === 0) {
    nodes.push(node('Identity', [value('trimmed')], [value('canonical')]));
    return value('canonical');
  }
  let previous = value('trimmed');
  canonicals.forEach((canonical, i) => {
    const output = i === canonicals.length - 1 ? value('canonical') : value(`canonical_${i}`);
    initializers.push(stringTensor(value(`value_${i}`), [], [canonical]));
    nodes.push(
      node(
        'RegexFullMatch',
        [name],
        [value(`is_${i}`)],
        [attribute.string('pattern', spellingPattern(byCanonical.get(canonical)!.sort()))],
      ),
      node('Where', [value(`is_${i}`), value(`value_${i}`), previous], [output]),
    );
    previous = output;
  });
  return value('canonical');
}

const SEPARATOR = '[\\s_-]';

/**
 * An RE2 pattern matching exactly the raw texts whose enumToken is one of `tokens`: blanks
 * around, letters in any case, each `_` of a token a run of spaces, `-` and `_` (one that begins or
 * ends the trimmed text begins or ends with `-` or `_`, since blanks there are trimmed).
 */
function spellingPattern(tokens: readonly string[]): string {
  return `(?i)\\s*(?:${tokens.map(tokenPattern).join('|')})\\s*`;
}

function tokenPattern(token: string): string {
  if (token === '_') return `[_-](?:${SEPARATOR}*[_-])?`;
  const words = token.split('_');
  return words
    .map((word, i) => {
      const escaped = word.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
      if (i === 0) return escaped;
      const leading = i === 1 && words[0] === '';
      const trailing = i === words.length - 1 && word === '';
      const separator = leading ? `[_-]${SEPARATOR}*` : trailing ? `${SEPARATOR}*[_-]` : `${SEPARATOR}+`;
      return separator + escaped;
    })
    .join('');
}
