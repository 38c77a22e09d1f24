import type { JsonSchema } from './json-schemas';

/**
 * Turns a JSON Schema (as zod emits it, io "input") into the rows of a reference table: every
 * field at every depth, with its type, whether it is required or its default, and its description.
 * Nothing here knows keel's fields: a field added to a zod schema gets its row on the next run.
 */
export interface FieldRow {
  /** `pipeline.trainer.l2`; `[]` marks array items, `<key>` a key of a map. */
  path: string;
  /** The variants of discriminated unions the field belongs to, e.g. `kind: "gbdt"`. */
  variants: VariantTag[];
  type: string;
  /** `required`, `optional`, or `default <value>`. */
  presence: string;
  meaning: string;
}

/** A discriminated union's property and the values of the members that have a field. */
interface VariantTag {
  key: string;
  values: unknown[];
}

/** JavaScript's safe-integer bounds, which zod writes for every `.int()`: not worth a reader's time. */
const SAFE_INTEGER = Number.MAX_SAFE_INTEGER;

interface Walk {
  defs: Record<string, JsonSchema>;
  /** Where each `$defs` entry was first written out: later uses point there. */
  expandedAt: Map<string, string>;
  rows: FieldRow[];
}

/** Rows for the properties of `root` (the root itself has no row), paths prefixed by `prefix`. */
export function fieldRows(root: JsonSchema, prefix = ''): FieldRow[] {
  const walk: Walk = { defs: (root.$defs as Record<string, JsonSchema> | undefined) ?? {}, expandedAt: new Map(), rows: [] };
  children(walk, resolveRoot(walk, root, prefix), prefix, []);
  return walk.rows;
}

function resolveRoot(walk: Walk, node: JsonSchema, path: string): JsonSchema {
  const name = refName(node);
  if (!name) return node;
  walk.expandedAt.set(name, path);
  return { ...walk.defs[name], ...withoutRef(node) };
}

function refName(node: JsonSchema): string | undefined {
  return typeof node.$ref === 'string' ? node.$ref.replace('#/$defs/', '') : undefined;
}

function withoutRef(node: JsonSchema): JsonSchema {
  const { $ref: _ref, ...rest } = node;
  return rest;
}

function field(walk: Walk, node: JsonSchema, path: string, required: boolean, variants: VariantTag[]): void {
  const name = refName(node);
  const seenAt = name ? walk.expandedAt.get(name) : undefined;
  const resolved = name ? { ...walk.defs[name], ...withoutRef(node) } : node;
  const row: FieldRow = {
    path,
    type: typeText(resolved, walk.defs),
    presence: presenceText(resolved, required),
    meaning: oneLine(String(resolved.description ?? '')),
    variants,
  };
  if (seenAt !== undefined) {
    row.meaning = joinSentences(row.meaning, `Its fields are those of \`${seenAt || '(top level)'}\`.`);
    walk.rows.push(row);
    return;
  }
  if (name) walk.expandedAt.set(name, path);
  walk.rows.push(row);
  children(walk, resolved, path, variants);
}

/** The fields below `node`: object properties, map values, array items, union members. */
function children(walk: Walk, node: JsonSchema, path: string, variants: VariantTag[]): void {
  const join = (key: string) => (path ? `${path}.${key}` : key);
  const properties = node.properties as Record<string, JsonSchema> | undefined;
  if (properties) {
    const required = new Set((node.required as string[] | undefined) ?? []);
    for (const [key, value] of Object.entries(properties)) field(walk, value, join(key), required.has(key), variants);
  }
  const values = node.additionalProperties;
  if (values && typeof values === 'object' && (refName(values as JsonSchema) || hasFields(walk, values as JsonSchema))) {
    field(walk, values as JsonSchema, join('<key>'), false, variants);
  }
  const items = node.items as JsonSchema | undefined;
  if (items && hasFields(walk, items)) children(walk, derefOnce(walk, items, `${path}[]`), `${path}[]`, variants);

  const members = unionMembers(node);
  if (!members) return;
  const discriminator = discriminatorOf(node);
  if (!discriminator) {
    for (const member of members) if (hasFields(walk, member)) children(walk, derefOnce(walk, member, path), path, variants);
    return;
  }
  // Each member is written out in full (a definition first met in one member is expanded in each),
  // so that fields the members share come out as identical rows and merge into one.
  walk.rows.push(discriminatorRow(members, discriminator, path ? `${path}.${discriminator}` : discriminator, variants));
  const start = walk.rows.length;
  const before = walk.expandedAt;
  const after = new Map(before);
  for (const member of members) {
    walk.expandedAt = new Map(before);
    const resolved = derefOnce(walk, member, path);
    const { [discriminator]: tag, ...rest } = resolved.properties as Record<string, JsonSchema>;
    const variant = { key: discriminator, values: [tag.const] };
    children(walk, { ...resolved, properties: rest, anyOf: undefined, oneOf: undefined }, path, [...variants, variant]);
    for (const [name, at] of walk.expandedAt) if (!after.has(name)) after.set(name, at);
  }
  walk.expandedAt = after;
  walk.rows.splice(start, walk.rows.length - start, ...mergeVariants(walk.rows.slice(start), members.length));
}

/** Rows that differ only in the member of the innermost union they came from become one row. */
function mergeVariants(rows: FieldRow[], memberCount: number): FieldRow[] {
  const merged = new Map<string, FieldRow>();
  for (const row of rows) {
    const outer = row.variants.slice(0, -1);
    const inner = row.variants[row.variants.length - 1];
    const key = JSON.stringify([row.path, row.type, row.presence, row.meaning, outer]);
    const seen = merged.get(key);
    if (!seen) merged.set(key, { ...row, variants: [...outer, { ...inner, values: [...inner.values] }] });
    else seen.variants[seen.variants.length - 1].values.push(...inner.values);
  }
  return [...merged.values()].map((row) => {
    const inner = row.variants[row.variants.length - 1];
    return inner.values.length === memberCount ? { ...row, variants: row.variants.slice(0, -1) } : row;
  });
}

function derefOnce(walk: Walk, node: JsonSchema, path: string): JsonSchema {
  const name = refName(node);
  if (!name) return node;
  if (!walk.expandedAt.has(name)) walk.expandedAt.set(name, path);
  return { ...walk.defs[name], ...withoutRef(node) };
}

function unionMembers(node: JsonSchema): JsonSchema[] | undefined {
  return (node.oneOf ?? node.anyOf) as JsonSchema[] | undefined;
}

/** Whether a node has fields of its own to list (an object, a union holding one, an array of them). */
function hasFields(walk: Walk, node: JsonSchema): boolean {
  const name = refName(node);
  if (name) return walk.expandedAt.has(name) ? false : hasFields(walk, walk.defs[name]);
  if (node.properties) return true;
  if (node.items) return hasFields(walk, node.items as JsonSchema);
  if (node.additionalProperties && typeof node.additionalProperties === 'object')
    return hasFields(walk, node.additionalProperties as JsonSchema);
  return unionMembers(node)?.some((member) => hasFields(walk, member)) ?? false;
}

/** The property whose constant value tells the members of a union of objects apart, if any. */
function discriminatorOf(node: JsonSchema): string | undefined {
  const members = unionMembers(node);
  if (!members || members.length < 2 || !members.every((m) => m.properties)) return undefined;
  const [first, ...rest] = members.map((m) => m.properties as Record<string, JsonSchema>);
  return Object.keys(first).find((key) => first[key].const !== undefined && rest.every((p) => p[key]?.const !== undefined));
}

/** The row of a union's discriminator: its values, and what each member is (from the members' descriptions). */
function discriminatorRow(members: JsonSchema[], discriminator: string, path: string, variants: VariantTag[]): FieldRow {
  const tags = members.map((member) => (member.properties as Record<string, JsonSchema>)[discriminator]);
  const required = members.every((member) => ((member.required as string[] | undefined) ?? []).includes(discriminator));
  const fallback = tags.find((tag) => 'default' in tag);
  const parts = members.flatMap((member, i) =>
    member.description ? [`\`${JSON.stringify(tags[i].const)}\`: ${oneLine(String(member.description))}`] : [],
  );
  const own = tags.find((tag) => tag.description)?.description;
  return {
    path,
    type: tags.map((tag) => JSON.stringify(tag.const)).join(' | '),
    presence: required || !fallback ? 'required' : `default \`${JSON.stringify(fallback.default)}\``,
    meaning: [own ? oneLine(String(own)) : '', parts.join('; ')].filter(Boolean).join(' '),
    variants,
  };
}

function presenceText(node: JsonSchema, required: boolean): string {
  if (required) return 'required';
  if (!('default' in node)) return 'optional';
  const value = node.default;
  // `{}` on an object means "all of its own defaults": say so in its fields' rows, not here.
  if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) return 'optional';
  return `default \`${JSON.stringify(value)}\``;
}

/** A short type: `integer ≥ 1`, `number 0–1`, `"a" | "b"`, `string[]`, `map of number`. */
function typeText(node: JsonSchema, defs: Record<string, JsonSchema> = {}): string {
  if ('const' in node) return JSON.stringify(node.const);
  if (Array.isArray(node.enum)) return node.enum.map((value) => JSON.stringify(value)).join(' | ');
  const members = unionMembers(node);
  if (members) {
    const discriminator = discriminatorOf(node);
    if (discriminator) return 'object';
    return [...new Set(members.map((member) => typeText(member, defs)))].join(' | ');
  }
  const name = refName(node);
  if (name) return defs[name] ? typeText(defs[name], defs) : 'object';
  if (Array.isArray(node.type)) return node.type.join(' | ');
  switch (node.type) {
    case 'integer':
    case 'number':
      return `${node.type}${rangeText(node)}`;
    case 'string':
      return stringText(node);
    case 'array': {
      const items = node.items as JsonSchema | undefined;
      const inner = items ? typeText(items, defs) : 'any';
      return /[ |]/.test(inner) ? `(${inner})[]` : `${inner}[]`;
    }
    case 'object': {
      const values = node.additionalProperties;
      if (!node.properties && values && typeof values === 'object' && Object.keys(values).length > 0)
        return `map of ${typeText(values as JsonSchema, defs)}`;
      return 'object';
    }
    case undefined:
      return 'any';
    default:
      return String(node.type);
  }
}

function rangeText(node: JsonSchema): string {
  const low = node.exclusiveMinimum ?? node.minimum;
  const high = node.exclusiveMaximum ?? node.maximum;
  const lowOpen = node.exclusiveMinimum !== undefined;
  const highOpen = node.exclusiveMaximum !== undefined;
  const hasLow = typeof low === 'number' && low > -SAFE_INTEGER;
  const hasHigh = typeof high === 'number' && high < SAFE_INTEGER;
  if (hasLow && hasHigh && !lowOpen && !highOpen) return ` ${low}–${high}`;
  const bounds = [hasLow ? `${lowOpen ? '>' : '≥'} ${low}` : '', hasHigh ? `${highOpen ? '<' : '≤'} ${high}` : ''].filter(Boolean);
  return bounds.length ? ` ${bounds.join(', ')}` : '';
}

function stringText(node: JsonSchema): string {
  if (typeof node.format === 'string') return `string (${node.format})`;
  if (typeof node.pattern === 'string' && node.pattern.length <= 24) return `string \`${node.pattern}\``;
  if (node.minLength === node.maxLength && typeof node.minLength === 'number') return `string of ${node.minLength}`;
  return 'string';
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function joinSentences(a: string, b: string): string {
  if (!a) return b;
  return `${/[.!?)`]$/.test(a) ? a : `${a}.`} ${b}`;
}

/** `kind: "gbdt"`, or `format: "csv" | "json"` for a field several members have. */
function variantText(variant: VariantTag): string {
  return `${variant.key}: ${variant.values.map((value) => JSON.stringify(value)).join(' | ')}`;
}

/** A Markdown table of the rows; `|` inside cells is escaped. */
export function markdownTable(rows: readonly FieldRow[], firstHeader = 'path'): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const lines = [`| ${firstHeader} | type | required / default | meaning |`, '|---|---|---|---|'];
  for (const row of rows) {
    const scope = row.variants.map((variant) => `\`${variantText(variant)}\``).join(', ');
    const meaning = scope ? `(${scope}) ${row.meaning}` : row.meaning;
    lines.push(`| \`${cell(row.path)}\` | ${cell(row.type)} | ${cell(row.presence)} | ${cell(meaning.trim())} |`);
  }
  return lines.join('\n');
}
